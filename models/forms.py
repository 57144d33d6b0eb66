"""Forms: which bars of a tune repeat an earlier bar, learned from the training tunes.

A folk tune repeats about a fifth of its bars (a figure comes back, a phrase ends as the first
did). The VAE alone almost never writes an exact repeat: its bars are decoded independently
from the conductor's embeddings, and sampling makes near-repeats differ by a note. So the
composer first draws a *form* — for each bar, the earlier bar it repeats, or none — from the
forms of the training tunes' openings, then the decoder writes only the new bars and copies the
repeats (sampling.FastDecoder.decode, `repeats=`). The form is a plan taken from real tunes; the
notes are the model's.

forms.json: {"version", "forms": {"8": [[pattern, count], ...], ...}} where pattern[b] is the
index of the bar that bar b repeats, or -1.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from .metrics import _bar_contents

VERSION = 1
LENGTHS = (2, 4, 8, 16)
KEEP = 400  # most common patterns kept per length


def form_of(notes: np.ndarray, steps_per_bar: int, bars: int) -> tuple[int, ...]:
    """For the first `bars` bars: the earliest earlier bar each repeats exactly, or -1."""
    contents = _bar_contents(np.asarray(notes, dtype=np.int64), steps_per_bar, transpose=False)
    pattern, first_seen = [], {}
    for bar in range(bars):
        content = contents.get(bar)
        if content is None:
            pattern.append(-1)
            continue
        pattern.append(first_seen.get(content, -1))
        first_seen.setdefault(content, bar)
    return tuple(pattern)


def learn(tunes) -> dict[int, list[tuple[tuple[int, ...], int]]]:
    """The commonest forms of the first N bars of tunes with at least N + 1 bars (so the
    opening is whole and the tune goes on), for each N in LENGTHS."""
    counts = {n: Counter() for n in LENGTHS}
    for tune in tunes:
        notes = np.asarray(tune.notes, dtype=np.int64)
        spb = tune.steps_per_bar
        tune_bars = int(notes[:, 2].max()) // spb
        # skip a pickup bar: the opening starts at the first full bar
        first = 1 if tune.pickup_steps else 0
        shifted = notes.copy()
        shifted[:, 1:] -= first * spb
        shifted = shifted[shifted[:, 1] >= 0]
        for n in LENGTHS:
            if tune_bars - first > n:
                counts[n][form_of(shifted, spb, n)] += 1
    return {n: c.most_common(KEEP) for n, c in counts.items()}


class Forms:
    def __init__(self, table: dict[int, list[tuple[tuple[int, ...], int]]]):
        self.table = table

    def draw(self, bars: int, rng: np.random.Generator) -> tuple[int, ...]:
        """A form for `bars` bars, drawn in proportion to how often it opens a training tune.
        Lengths without a table get no repeats."""
        options = self.table.get(bars)
        if not options:
            return (-1,) * bars
        weights = np.array([count for _, count in options], dtype=float)
        return tuple(options[int(rng.choice(len(options), p=weights / weights.sum()))][0])

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"version": VERSION, "forms": {str(n): [[list(p), c] for p, c in rows] for n, rows in self.table.items()}}))

    @classmethod
    def load(cls, path: Path) -> Forms:
        blob = json.loads(Path(path).read_text())
        return cls({int(n): [(tuple(p), c) for p, c in rows] for n, rows in blob["forms"].items()})
