"""The collector on a clock (game_server.collector): with the allocation trigger off, every
generation is still collected, on its turn, and cyclic garbage is freed. Run in a child
interpreter, as the server's is: the collector's switch is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import gc, json, time, weakref
from game_server import collector

collector.YOUNG_EVERY_S, collector.MIDDLE_EVERY, collector.FULL_EVERY = 0.02, 2, 4  # the clock sped up
seen = []
gc.callbacks.append(lambda phase, info: phase == "start" and seen.append(info["generation"]))

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)

collector.collect_on_a_clock()
young = cycle()  # garbage at once: the next young collection frees it
survivor = Node()
survivor.self = survivor  # lives through collections into the oldest generation, then is dropped
time.sleep(0.3)
old = weakref.ref(survivor)
del survivor
time.sleep(0.3)
print(json.dumps({"enabled": gc.isenabled(), "generations": sorted(set(seen)), "young_freed": young() is None, "old_freed": old() is None}))
"""


def test_every_generation_is_collected_on_the_clock_with_the_allocation_trigger_off():
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["enabled"] is False  # no collection comes from allocation counts
    assert seen["generations"] == [0, 1, 2]
    assert seen["young_freed"] and seen["old_freed"]
