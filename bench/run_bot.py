"""The scripted bot on composed Run levels: how it scores, and what proving a level costs.

Run: `.venv/bin/python bench/run_bot.py [levels per rung, default 20]`.
For every rung of the Run ladder it composes levels as the server does (recomposing those the
bot cannot finish), plays every lane with the bot, scores the inputs with the server's rules
(run.replay, as a stored round is replayed) and prints: levels tried per level served, the mean
score, judgement counts summed over all levels, the bot's share of perfects, and the time to
compose + prove one served level. Seeds are fixed, so the figures repeat.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game_server.games import run, run_bot  # noqa: E402
from models.composer import default_composer  # noqa: E402


def main(per_rung: int = 20) -> None:
    composer = default_composer(ROOT / "models" / "checkpoints")
    print(f"{'rung':<5}{'bars':>5}{'lanes':>6}{'tempo':>8}{'tries/served':>13}{'mean score':>12}  judgements (all lanes)                          perfect  ms/level")
    for rung, spec in enumerate(run.LADDER):
        rng = random.Random(1000 + rung)
        tries, scores, counts, tempos, elapsed = 0, [], Counter(), [], 0.0
        for _ in range(per_rung):
            started = time.perf_counter()
            seeds = []

            def candidates():
                while True:
                    seeds.append(rng.getrandbits(62))
                    yield composer.compose(bars=spec.bars, meter="4/4", style=spec.style, seed=seeds[-1])

            piece = run.first_playable(candidates(), spec)
            elapsed += time.perf_counter() - started
            tries += len(seeds)
            level = run.build_level(piece, spec.chords)
            lanes = tuple(range(len(level.lanes)))
            batches = [[{"tick": t, "lane": i, "key": k, "down": d} for t, k, d in run_bot.play(lane).inputs] for i, lane in enumerate(level.lanes)]
            result = run.replay(level, lanes, {i: 0 for i in lanes}, [b for b in batches if b])
            scores.append(result["score"])
            tempos.append(piece.tempo)
            for lane in result["lanes"]:
                counts.update(lane["judgements"])
        total = sum(counts.values())
        judgements = " ".join(f"{k} {counts[k]:>5}" for k in ("perfect", "great", "good", "miss"))
        print(f"{rung:<5}{spec.bars:>5}{2 if spec.chords else 1:>6}{min(tempos):>4}-{max(tempos):<3}{tries / per_rung:>13.2f}{sum(scores) / len(scores):>12.0f}  {judgements}   {counts['perfect'] / total:>6.1%}  {1000 * elapsed / per_rung:>8.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
