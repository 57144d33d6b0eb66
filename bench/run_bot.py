"""How often a person finishes composed Run levels, and what proving a level costs.

Run: `.venv/bin/python bench/run_bot.py [levels per rung, default 20] [tries, default 10]`. The
defaults take some ten minutes on one core; in the background:
`nohup .venv/bin/python bench/run_bot.py > /tmp/run_bot_bench.txt &`.

For every rung of the Run ladder it composes levels the way the server serves them
(`run.first_playable`: a piece too sparse for the rung, leaping further than it allows, or not
finished by the human model in `run.PROOF_TRIES` tries at `run.PROOF_SIGMA_MS` is recomposed),
then lets the human model (`run_bot.play_human`) play each served level `tries` times at each
timing error, sigma = 0, 20, 35 and 50 ms, and prints the share of tries that reach the goal of
every lane. Those tries draw their errors from seeds at 2**40 and up, never from the seeds the
serving proof used (`run.proof_seeds`, below 2**40): the 35 ms figure is not the filter
measuring itself. (At 0 ms there is no error to draw: one try stands for all.)

Also printed: pieces composed per level served; the time to compose and prove one served level;
the mean score of the person at 35 ms and of the frame-exact bot (`run_bot.play`), both scored
by `run.replay` as a stored round is, summed over the lanes; the bot's share of perfects. Seeds
are fixed, so the figures repeat.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game_server.games.run import bot as run_bot  # noqa: E402
from game_server.games.run import physics as phys  # noqa: E402
from game_server.games.run import rules as run  # noqa: E402
from models.composer import default_composer  # noqa: E402

SIGMAS_MS = (0, 20, 35, 50)
MEASURE_SEEDS = 2**40  # the measuring tries' seeds start here; the serving proof's are below


def score(level: run.Level, inputs_by_lane: list[list[tuple[int, str, bool]]]) -> dict:
    """The round's result for these inputs, as a stored round is replayed."""
    lanes = tuple(range(len(level.lanes)))
    batches = [[{"tick": t, "lane": i, "key": k, "down": d} for t, k, d in inputs] for i, inputs in enumerate(inputs_by_lane)]
    return run.replay(level, lanes, {i: 0 for i in lanes}, [b for b in batches if b])


def candidates(composer, spec: run.RunLevel, rng: random.Random, seeds: list[int]):
    """Pieces for the rung, as the server draws them; each one's seed is added to `seeds`."""
    while True:
        seeds.append(rng.getrandbits(62))
        yield composer.compose(bars=spec.bars, meter="4/4", style=spec.style, seed=seeds[-1])


def main(per_rung: int = 20, tries: int = 10) -> None:
    composer = default_composer(ROOT / "models" / "checkpoints")
    header = "".join(f"{f'{s} ms':>8}" for s in SIGMAS_MS)
    print(f"human-model finishes (share of tries, every lane), {per_rung} levels x {tries} tries per rung and sigma; proof: "
          f"{run.PROOF_TRIES} tries at {run.PROOF_SIGMA_MS} ms")
    print(f"{'rung':<5}{'bars':>5}{'lanes':>6}{'tempo':>9}{'leap':>5}{'composed/served':>16}{'ms/level':>9}{header}"
          f"{'score@35':>10}{'bot score':>10}{'bot perfect':>12}")
    for rung, spec in enumerate(run.LADDER):
        rng = random.Random(1000 + rung)
        composed, elapsed, tempos = 0, 0.0, []
        finished = {s: 0 for s in SIGMAS_MS}
        human_scores, bot_scores, bot_counts = [], [], Counter()
        for level_index in range(per_rung):
            started = time.perf_counter()
            seeds: list[int] = []

            piece = run.first_playable(candidates(composer, spec, rng, seeds), spec)
            elapsed += time.perf_counter() - started
            composed += len(seeds)
            tempos.append(piece.tempo)
            level = run.build_level(piece, spec.chords)
            planners = [run_bot.HumanPlanner(lane) for lane in level.lanes]
            for sigma in SIGMAS_MS:
                for t in range(tries if sigma else 1):
                    seed = MEASURE_SEEDS + level_index * tries + t
                    runs = [run_bot.play_human(lane, sigma, seed, planner) for lane, planner in zip(level.lanes, planners)]
                    finished[sigma] += (tries if not sigma else 1) * all(r.state.status == phys.GOAL for r in runs)
                    if sigma == 35:
                        human_scores.append(score(level, [r.inputs for r in runs])["score"])
            result = score(level, [run_bot.play(lane).inputs for lane in level.lanes])
            bot_scores.append(result["score"])
            for lane in result["lanes"]:
                bot_counts.update(lane["judgements"])
        shares = "".join(f"{finished[s] / (per_rung * tries):>8.0%}" for s in SIGMAS_MS)
        leap = "any" if spec.max_leap is None else str(spec.max_leap)
        print(f"{rung:<5}{spec.bars:>5}{2 if spec.chords else 1:>6}{min(tempos):>5}-{max(tempos):<3}{leap:>5}{composed / per_rung:>16.2f}"
              f"{1000 * elapsed / per_rung:>9.0f}{shares}{sum(human_scores) / len(human_scores):>10.0f}"
              f"{sum(bot_scores) / len(bot_scores):>10.0f}{bot_counts['perfect'] / sum(bot_counts.values()):>12.1%}", flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
