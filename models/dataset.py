"""Training windows: folk tunes as token sequences in C, cut into bar-aligned windows of 2-16 bars.

A batch holds one meter (one steps-per-bar) and one window length, so every tensor in it is
rectangular; which meter and length is drawn in proportion to how many windows of each exist
(length weights favour the 2- and 8-bar shapes the games use most). Shares of the windows are
drawn from those that end where their tune ends and from those that open it, so the model sees
enough of both to learn the place ids (melody_vae.place_ids) that let a composed piece open and
close like a tune.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch

from .encoding import FIRST_NOTE, STEPS_PER_BAR, encode, fit_to_range, window
from .melody_vae import METERS, MODES, STYLES, place_ids

WINDOW_BARS = (2, 4, 8, 16)
WINDOW_WEIGHTS = (0.35, 0.15, 0.3, 0.2)
ENDING_SHARE = 0.25  # of the windows in a batch, drawn from those that end a tune
OPENING_SHARE = 0.15  # ... and from those that open one


@dataclass(frozen=True)
class EncodedTune:
    tune_id: str
    meter: str
    style: str
    mode: str
    bars: int
    tokens: np.ndarray  # [bars * steps_per_bar] int64, melody in C
    first_full_bar: int = 0  # 1 after a pickup bar


def encode_tunes(tunes) -> list[EncodedTune]:
    """Corpus tunes -> EncodedTune, keeping meters the model knows and lines that fit its range."""
    out = []
    for tune in tunes:
        meter = f"{tune.meter[0]}/{tune.meter[1]}"
        if meter not in STEPS_PER_BAR or tune.style not in STYLES or len(tune.notes) == 0:
            continue
        notes = fit_to_range(np.asarray(tune.notes, dtype=np.int64), tune.key[0])
        if notes is None:
            continue
        steps = STEPS_PER_BAR[meter]
        bars = -(-int(notes[:, 2].max()) // steps)
        out.append(EncodedTune(tune.tune_id, meter, tune.style, tune.key[1], bars, encode(notes, bars * steps), 1 if tune.pickup_steps else 0))
    return out


def condition_ids(meter: str, style: str, mode: str) -> tuple[int, int, int]:
    return METERS.index(meter), STYLES.index(style), MODES.index(mode)


class WindowSampler:
    """Draws batches of bar-aligned windows with at least one note-on per bar on average."""

    def __init__(self, tunes: list[EncodedTune], lengths=WINDOW_BARS, weights=WINDOW_WEIGHTS):
        self.tunes = tunes
        self.lengths, self.weights = lengths, np.asarray(weights) / np.sum(weights)
        # (meter, length) -> array of (tune index, start bar); `endings` / `openings`: those
        # ending their tune / starting at its first full bar
        found, endings, openings = defaultdict(list), defaultdict(list), defaultdict(list)
        for i, tune in enumerate(tunes):
            steps = STEPS_PER_BAR[tune.meter]
            onsets_per_bar = np.add.reduceat(tune.tokens >= FIRST_NOTE, np.arange(0, len(tune.tokens), steps))
            for length in lengths:
                for start in range(0, tune.bars - length + 1):
                    if onsets_per_bar[start : start + length].sum() >= length:
                        found[(tune.meter, length)].append((i, start))
                        if start + length == tune.bars:
                            endings[(tune.meter, length)].append((i, start))
                        if start == tune.first_full_bar:
                            openings[(tune.meter, length)].append((i, start))
        self.windows = {k: np.array(v, dtype=np.int64) for k, v in found.items()}
        self.drawn_more = [(share, {k: np.array(v, dtype=np.int64) for k, v in pools.items()})
                           for share, pools in ((ENDING_SHARE, endings), (OPENING_SHARE, openings))]

    def count(self, length: int | None = None) -> int:
        return sum(len(v) for (_, n), v in self.windows.items() if length in (None, n))

    def batch(self, rng: np.random.Generator, size: int, length: int | None = None):
        """-> tokens [B, L*S], bars L, meter/style/mode ids [B] each, place ids [B, L]
        (LongTensors)."""
        length = length or int(rng.choice(self.lengths, p=self.weights))
        keys = [k for k in self.windows if k[1] == length]
        counts = np.array([len(self.windows[k]) for k in keys], dtype=float)
        meter, _ = keys[rng.choice(len(keys), p=counts / counts.sum())]
        steps = STEPS_PER_BAR[meter]
        pool = self.windows[(meter, length)]
        rows = pool[rng.integers(0, len(pool), size)]
        kind = rng.random(size)  # the share of rows drawn from tune endings, then openings
        low = 0.0
        for share, pools in self.drawn_more:
            special = pools.get((meter, length))
            chosen = (kind >= low) & (kind < low + share)
            if special is not None:
                rows[chosen] = special[rng.integers(0, len(special), int(chosen.sum()))]
            low += share
        tokens, ids, ends = [], [], []
        for tune_index, start_bar in rows:
            tune = self.tunes[tune_index]
            tokens.append(window(tune.tokens, start_bar * steps, length * steps))
            ids.append(condition_ids(tune.meter, tune.style, tune.mode))
            ends.append(place_ids(length, start_bar + length == tune.bars, start_bar - tune.first_full_bar))
        ids = torch.tensor(ids, dtype=torch.long)
        return torch.from_numpy(np.stack(tokens)), length, ids[:, 0], ids[:, 1], ids[:, 2], torch.tensor(ends, dtype=torch.long)
