"""Which keys a style's tunes are in, learned from the training tunes, so a composed piece's key
is drawn as the corpus draws them (Irish and Scottish tunes sit mostly in G and D major, Essen
songs in G and F) instead of evenly from a list.

keys.json: {"version", "keys": {style: [[tonic_pitch_class, mode, count], ...]}}
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from music import Key

VERSION = 1


def learn(tunes) -> dict[str, list[tuple[int, str, int]]]:
    """Counts of (tonic, mode) per style over `tunes`, commonest first."""
    counts: dict[str, Counter] = {}
    for tune in tunes:
        counts.setdefault(tune.style, Counter())[tuple(tune.key)] += 1
    return {style: [(int(t), m, n) for (t, m), n in c.most_common()] for style, c in counts.items()}


class KeyDistribution:
    def __init__(self, table: dict[str, list[tuple[int, str, int]]]):
        self.table = table

    def draw(self, style: str, rng: np.random.Generator, mode: str | None = None) -> Key:
        """A key for a piece of `style` (in `mode`, if given), in proportion to the style's tunes;
        a style without tunes draws from all of them."""
        rows = self.table.get(style) or [row for rows in self.table.values() for row in rows]
        if mode is not None:
            rows = [row for row in rows if row[1] == mode] or [(0, mode, 1)]
        weights = np.array([n for _, _, n in rows], dtype=float)
        tonic, chosen_mode, _ = rows[int(rng.choice(len(rows), p=weights / weights.sum()))]
        return Key(int(tonic), chosen_mode)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"version": VERSION, "keys": {s: [list(r) for r in rows] for s, rows in self.table.items()}}))

    @classmethod
    def load(cls, path: Path) -> KeyDistribution:
        blob = json.loads(Path(path).read_text())
        return cls({s: [(int(t), m, int(n)) for t, m, n in rows] for s, rows in blob["keys"].items()})
