"""The instrument's preset corner beats, drawn from the drum model's training grooves (Debian mma's
groove library, models/grooves.py), kept in `presets.json` beside this file: a fresh clone serves
them without mma or the grooves cache.

    python -m game_server.games.blend.presets [cache_dir]   # writes presets.json

reads the grooves cache (`var/cache/mma-grooves-v<VERSION>-<mma version>.npz`, which
`models.grooves.load_grooves` writes) and the drum checkpoint's meta (the meter-style pairs it was
trained on), and picks PLAN's beats: per meter and style, grooves of mma's standard library
(`stdlib/`) only, bars 1-2 of a groove itself (no intro, fill, ending or metronome), the groove
named as its library file first, then the others in sorted order, one groove per library file,
each with MIN_HITS hits or more. Every pick is a 2-bar pattern as the page plays beats: one 9-bit
hit mask per 16th step (bit d = DRUM_CLASSES[d]).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "presets.json"
# (meter, style, how many): 24 beats over the three meters and the styles trained in each
PLAN = (
    ("4/4", "rock", 2), ("4/4", "pop", 2), ("4/4", "jazz", 2), ("4/4", "latin", 2), ("4/4", "blues", 1),
    ("4/4", "country", 1), ("4/4", "ballad", 1), ("4/4", "dance", 1), ("4/4", "march", 1),
    ("3/4", "waltz", 2), ("3/4", "jazz", 2), ("3/4", "latin", 1),
    ("6/8", "ballad", 1), ("6/8", "jazz", 2), ("6/8", "latin", 1), ("6/8", "march", 1), ("6/8", "blues", 1),
)
MIN_HITS = 8
NOT_THE_GROOVE = re.compile(r"(intro|fill|end|ending|metronome)\d*$", re.I)
SOURCE = re.compile(r"^stdlib/(?P<file>[^:]+):(?P<groove>\S+) bars 1-2$")


def masks(pattern: np.ndarray) -> list[int]:
    """[T, 9] multi-hot -> T hit masks, bit d = drum class d."""
    return (pattern.astype(np.int64) << np.arange(pattern.shape[1])).sum(axis=1).tolist()


def grooves_cache(cache_dir: Path) -> Path:
    from models.grooves import VERSION

    found = sorted(Path(cache_dir).glob(f"mma-grooves-v{VERSION}-*.npz"))
    if not found:
        raise SystemExit(f"no grooves cache in {cache_dir}: run models.grooves.load_grooves() where Debian's mma is installed")
    return found[-1]


def trained_styles() -> dict[str, list[str]]:
    """{meter: styles the drum checkpoint was trained on in that meter}, from its meta."""
    import torch

    from models.drums import CHECKPOINT

    meta = torch.load(CHECKPOINT, map_location="cpu", weights_only=False)["meta"]
    return {meter: sorted(style for style, n in styles.items() if n > 0) for meter, styles in meta["train_patterns"].items()}


def pick(cache: Path, trained: dict[str, list[str]]) -> list[dict]:
    chosen = []
    with np.load(cache) as data:
        for meter, style, count in PLAN:
            if style not in trained.get(meter, []):
                raise SystemExit(f"the drum model was not trained on {style} in {meter}: change PLAN")
            key = meter.replace("/", "_")
            patterns, styles, sources = data[f"{key}.patterns"], data[f"{key}.style"], data[f"{key}.source"]
            candidates = []
            for i, (s, source) in enumerate(zip(styles, sources)):
                m = SOURCE.match(str(source))
                if s != style or m is None or NOT_THE_GROOVE.search(m["groove"]) or patterns[i].sum() < MIN_HITS:
                    continue
                main = m["groove"].lower() != m["file"].lower()  # False (first) for the file's own groove
                candidates.append((main, str(source), m["file"], m["groove"], i))
            files = set()
            picked = 0
            for _, _source, file, groove, i in sorted(candidates):
                if file in files or picked == count:
                    continue
                files.add(file)
                picked += 1
                chosen.append({"name": groove, "meter": meter, "style": style, "groove": f"stdlib/{file}:{groove}", "beat": masks(patterns[i])})
            if picked < count:
                raise SystemExit(f"only {picked} of {count} {style} grooves in {meter} qualify")
    return chosen


def build(cache_dir: Path = Path("var/cache")) -> dict:
    cache = grooves_cache(cache_dir)
    trained = trained_styles()
    return {"source": f"Debian mma's standard groove library (stdlib), from {cache.name}", "styles": trained, "presets": pick(cache, trained)}


def main(argv: list[str]) -> None:
    data = build(Path(argv[0]) if argv else Path("var/cache"))
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"{len(data['presets'])} presets -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
