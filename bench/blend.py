"""How fast the composer makes a Beat Hunt grid, and how many distinct beats its grids hold.

Run: `.venv/bin/python -m bench.blend` (after the checkpoints exist; they are committed).
Prints, on one thread (models/threads.py says why), for 4/4 and 6/8:
  - an 11x11 grid decoded: `DrumComposer.blend` alone, 121 beats in one batch
                                                          (target p50 <= 50 ms)
  - `GridRequest(11, "similar").compose` whole: candidates, corners, blend, target
    p50 / p99 over RUNS runs each, after WARM_UP;
and, for every rung of the Beat Hunt ladder, the distinct beats of its grids over SEEDS seeds
(min / median / max of n*n), the share of side-by-side cells with the same beat, and the corners'
mean pairwise Hamming distance: a grid whose neighbouring cells all sound alike makes a poor hunt.
"""

from __future__ import annotations

import statistics
import time
from types import SimpleNamespace

import numpy as np

RUNS, WARM_UP, SEEDS = 50, 5, 20
METERS = ("4/4", "6/8")


def timed_ms(call, runs: int = RUNS, warm_up: int = WARM_UP) -> tuple[float, float]:
    """(p50, p99) ms of call(i) over `runs` calls, after `warm_up` unmeasured ones."""
    for i in range(warm_up):
        call(RUNS + i)  # seeds past the measured ones
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1e3)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def distinct_beats(grid: np.ndarray) -> int:
    return len(np.unique(grid.reshape(grid.shape[0] * grid.shape[1], -1), axis=0))


def alike_neighbours(grid: np.ndarray) -> float:
    """The share of side-by-side cell pairs (along x or y) whose beats are the same."""
    same_x = (grid[1:] == grid[:-1]).all(axis=(2, 3))
    same_y = (grid[:, 1:] == grid[:, :-1]).all(axis=(2, 3))
    return (same_x.sum() + same_y.sum()) / (same_x.size + same_y.size)


def speed(composer, meter: str) -> None:
    """The two latency rows of one meter."""
    from game_server.games.blend.material import GridRequest

    corners = composer.drums.sample(meter, "jazz", seed=0, count=4)
    blend = timed_ms(lambda i: composer.drums.blend(corners, 11, meter, "jazz"))
    whole = timed_ms(lambda i: GridRequest(11, "similar", meter).compose(composer, i))
    print(f"{meter:<6} {'11x11 blend (121 beats, 1 batch)':<34} {blend[0]:>8.1f} {blend[1]:>8.1f}   target p50 <= 50")
    print(f"{meter:<6} {'GridRequest(11, similar).compose':<34} {whole[0]:>8.1f} {whole[1]:>8.1f}")


def spread(composer, meter: str) -> None:
    """Per ladder rung: distinct beats, alike neighbours, and how far apart the corners are."""
    from game_server.games.blend.material import GridRequest, hamming
    from game_server.games.blend.rules import LADDER

    for rung in LADDER:
        counts, apart, alike = [], [], []
        for seed in range(SEEDS):
            (grid,) = GridRequest(rung.grid, rung.contrast, meter).compose(composer, seed)
            counts.append(distinct_beats(grid.grid))
            alike.append(alike_neighbours(grid.grid))
            corners = np.stack([grid.beat(cell) for cell in grid.corners()])
            apart.append(hamming(corners)[np.triu_indices(4, 1)].mean())
        print(f"{meter:<6} {rung.name:<18} distinct beats min {min(counts):>3} median {statistics.median(counts):>5.1f} max {max(counts):>3} "
              f"of {rung.grid ** 2:>3}; neighbours alike {statistics.mean(alike):>4.0%}; corners {statistics.mean(apart):.1f} hits apart")


def main() -> None:
    from models.drums import DrumComposer
    from models.threads import one_thread_each

    one_thread_each()
    # A GridRequest uses only the composer's drum model: the melody models are not loaded
    composer = SimpleNamespace(drums=DrumComposer.load())
    print(f"{'meter':<6} {'what, one thread':<34} {'p50 ms':>8} {'p99 ms':>8}")
    for meter in METERS:
        speed(composer, meter)
    print()
    for meter in ("4/4", "3/4", "6/8"):
        spread(composer, meter)


if __name__ == "__main__":
    main()
