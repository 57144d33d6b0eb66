"""The cyclic garbage collector on a clock, not on allocation counts.

CPython collects its young generation when allocations less deallocations of tracked objects
pass a threshold. Under play, pieces taken from the pool and rounds that end free old objects
at about the pace new ones are made, so the count stays low while the young generation grows:
under `bench/realtime.py 500 30 1`, at a threshold of 5,000, it held 19,000 objects when it was
collected (4-14 ms with the event loop held, every 2 s or so) and the middle generation 67,000
(13-33 ms). Collected every YOUNG_EVERY_S instead, the young generation holds only what was made
since and still lives, and the middle one what lived through MIDDLE_EVERY of those: each pause
stays a few milliseconds however allocations and frees balance. The whole heap (0.1 s with 500
rooms live) is walked once an hour: the cycles among old objects are few (54 objects in a full
collection after the bench's ramp). Figures: docs/performance.md.
"""

from __future__ import annotations

import gc
import threading
import time

YOUNG_EVERY_S = 0.1
MIDDLE_EVERY = 2  # young collections: the middle generation five times a second
FULL_EVERY = 36_000  # young collections: the whole heap once an hour


def collect_on_a_clock() -> threading.Thread:
    """Turns the collector's own trigger off and collects from a daemon thread (a greenlet under
    gevent) on the clock above; returns that thread."""
    gc.disable()
    thread = threading.Thread(target=_collect_forever, name="collector", daemon=True)
    thread.start()
    return thread


def _collect_forever() -> None:
    turns = 0
    while True:
        time.sleep(YOUNG_EVERY_S)
        turns += 1
        gc.collect(2 if turns % FULL_EVERY == 0 else 1 if turns % MIDDLE_EVERY == 0 else 0)
