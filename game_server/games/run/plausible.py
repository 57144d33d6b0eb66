"""Could a person have played this Run round? Pure: the judged arrivals in, a reason or None out.

As rhythm-game servers check a replay's timing before it is ranked. A script that presses on the
exact tick lands on the tick nearest each onset (60 ticks a second: within 8.3 ms), and where it
cannot make an onset it arrives late, never early. A person's arrivals scatter both ways, by more
than a tick. A lane is flagged when both measures of its hits' `delta_ms` stay within a tick:
the spread (median absolute deviation from the median) and the early reach (how far before the
median the earliest tenth lands: median less 10th percentile). Both are taken from the median,
which absorbs any constant offset (a calibration, or a script that aims late on purpose); a tenth,
not the single earliest hit, keeps one stray arrival from deciding; and a person needs only one of
the two to be wider than a tick.

Measured on composed levels of every rung (docs/protocol.md, "Results a person could play";
tests/test_plausible.py): see the figures there. A lane needs MIN_HITS hits or more: fewer say too
little (a short chord lane, a run that fell early). A person whose timing errs by less than about
10 ms (a rhythm-game expert's) could be flagged too: the check bounds scripts, and a flagged
result is kept and shown, only not ranked.
"""

from __future__ import annotations

import statistics

MIN_HITS = 20  # hits on a lane before its timing says anything
TICK_MS = 16  # one tick is 16.7 ms: a lane whose hits sit within one of their median, and never earlier, is a script's


def early_reach_ms(deltas: list[int]) -> float:
    """How far before the median the earliest tenth of the hits land: median - 10th percentile."""
    ordered = sorted(deltas)
    return statistics.median(ordered) - ordered[len(ordered) // 10]


def spread_ms(deltas: list[int]) -> float:
    """The median absolute deviation of the hits from their median."""
    middle = statistics.median(deltas)
    return statistics.median(abs(d - middle) for d in deltas)


def implausible(hits_by_lane: dict[str, list[int]]) -> str | None:
    """`hits_by_lane`: each lane's name and the `delta_ms` of its hits (misses left out)."""
    for lane, deltas in hits_by_lane.items():
        if len(deltas) < MIN_HITS:
            continue
        reach, spread = early_reach_ms(deltas), spread_ms(deltas)
        if reach <= TICK_MS and spread <= TICK_MS:
            return (f"the {lane} lane's {len(deltas)} notes were caught within a tick of their median timing ({spread:g} ms typically) "
                    f"and never earlier (its earliest tenth {reach:g} ms before it): no person's timing is that even")
    return None
