"""Could a person have played this Run round? Pure: the judged arrivals in, a reason or None out.

As rhythm-game servers check a replay's timing before it is ranked: a person's arrivals scatter
around the beat; a script that presses on the exact tick lands every note within the rounding of
one tick (60 a second: ±8.3 ms), and its spread is that rounding alone. The spread measured is
the median absolute deviation of a lane's `delta_ms` (hits only) from their median: the median
absorbs any constant offset (a calibration, or a script that aims late on purpose), and the
median, unlike the standard deviation, is not moved by a few stray arrivals (the frame-exact bot
has some on fast levels, where an onset cannot be met exactly).

Measured on composed levels of every rung (tests/test_run_plausible.py, docs/protocol.md):
the frame-exact bot (`bot.play`) spreads 0–7 ms on every lane; the human model (`bot.play_human`,
key events off by N(0, sigma)) spreads 13 ms or more at sigma 20 ms, and more at the 35 ms the
levels are proven for, on every lane with 20 hits or more. A lane is flagged at EVEN_MS or less,
with MIN_HITS hits or more: fewer hits say too little (a short chord lane, a run that fell early).
"""

from __future__ import annotations

import statistics

MIN_HITS = 20  # hits on a lane before its spread says anything
EVEN_MS = 8  # a spread at or below this is the tick's rounding alone: no person's timing is that even


def spread_ms(deltas: list[int]) -> float:
    """Median absolute deviation from the median, in ms."""
    middle = statistics.median(deltas)
    return statistics.median(abs(d - middle) for d in deltas)


def implausible(hits_by_lane: dict[str, list[int]]) -> str | None:
    """`hits_by_lane`: each lane's name and the `delta_ms` of its hits (misses left out)."""
    for lane, deltas in hits_by_lane.items():
        if len(deltas) >= MIN_HITS and (spread := spread_ms(deltas)) <= EVEN_MS:
            return f"the {lane} lane's {len(deltas)} notes were caught {spread:g} ms from their median timing: no person's timing is that even (a person's spreads over {EVEN_MS} ms)"
    return None
