"""Story mode's compose time: MusicLM's demo story (eight sections read from their descriptions),
4 and 8 bars a section, on one thread after loading; and a Run story level (proven playable).

Run: `.venv/bin/python -m bench.story` (issue #23's target: eight sections in <= 300 ms)."""

from __future__ import annotations

import statistics
import time

from game_server.games.run.material import RunRequest
from models.composer import default_composer
from models.describe import interpret
from models.options import Section
from models.story import compose_story

DEMO = ["jazz", "pop", "rock", "death metal", "rap", "string quartet with violins", "epic movie soundtrack with drums", "scottish folk song with traditional instruments"]


def timed(fn, repeats: int) -> list[float]:
    """Milliseconds of each of `repeats` calls fn(seed), seeds 1, 2, ..."""
    out = []
    for seed in range(1, repeats + 1):
        started = time.perf_counter()
        fn(seed)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    composer = default_composer()
    for bars in (4, 8):
        sections = [Section(text, interpret(text).options, bars) for text in DEMO]
        compose_story(composer, sections, seed=0)  # warm
        ms = timed(lambda seed, sections=sections: compose_story(composer, sections, seed=seed), 20)
        print(f"8 sections x {bars} bars: p50 {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms (20 stories)")
    sections = tuple(Section(text, interpret(text).options, 2) for text in DEMO)
    ms = timed(lambda seed: RunRequest(0, story=sections).compose(composer, seed), 5)
    print(f"a Run story level (8 x 2 bars, proven playable): p50 {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms (5 levels)")


if __name__ == "__main__":
    main()
