"""A 2-bar drum VAE (MusicVAE's drum model, shrunk) conditioned on meter and drum style, trained
on Debian mma's accompaniment grooves (models/grooves.py).

Pattern: [T, 9] multi-hot, T = 2 bars of 16th steps: 32 for 4/4 (2/4 pieces use it too), 24 for
3/4 and 6/8; the 9 classes of music.DRUM_CLASSES. One model for every meter and style; a batch
holds one length.

    condition  c = [meter embedding | style embedding]                             [B, 2E]
    position   p_t = E_bar[meter, step in bar] + E_beat[step in beat] + E_bar_of_2[which bar]  [T, P]
               a beat is 6 sixteenths in 6/8 (felt in two) and 4 otherwise, so 3/4 and 6/8,
               both 12 steps a bar, are told apart step by step, not only by c
    encoder    BiLSTM over [hits_t (9) | p_t | c] -> mu, logvar [B, Z]
    decoder    LSTM, input [hits_{t-1} (9) | p_t | z | c], state from tanh(W [z | c]);
               out: 9 independent Bernoulli logits a step (several drums may hit at once)

Uses: `sample(meter, style, seed)`; `blend(corners, n, meter, style)`: Beat Blender's n x n grid,
bilinear in z between four corner patterns, the corners returned exactly as given;
`vary(pattern, meter, style, amount)`. Training: drum_training.py; figures: drum_evaluation.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checkpoint
from .grooves import BEAT_STEPS, METERS, STEPS_PER_BAR, STYLES
from .sampling import halve_sigmoid_gates, lstm_cell, sigmoid

N_CLASSES = 9
CHECKPOINT = checkpoint.CHECKPOINT_DIR / "drums.pt"
TEMPERATURE = 0.5  # the sampling temperature the composer serves
KICK, SNARE = 0, 1


@dataclass(frozen=True)
class DrumConfig:
    meters: tuple[str, ...] = METERS
    styles: tuple[str, ...] = STYLES
    hidden: int = 192
    encoder_hidden: int = 96
    z_dim: int = 32
    embed: int = 8
    position_embed: int = 16
    dropout: float = 0.2  # training only: decoder outputs, and whole previous steps hidden from the decoder

    def to_dict(self) -> dict:
        return asdict(self)


def position_table(meters: tuple[str, ...]) -> torch.Tensor:
    """[meters, 32, 3] long: (row of E_bar, row of E_beat, which bar) for each step of a 2-bar
    pattern; E_bar has a row per step of each meter's bar, E_beat 4 rows (beats of 4 sixteenths)
    then 6 (beats of 6). Steps past a meter's pattern length repeat and are never read."""
    table = torch.zeros(len(meters), 32, 3, dtype=torch.long)
    bar_offset = 0
    for m, meter in enumerate(meters):
        spb, beat = STEPS_PER_BAR[meter], BEAT_STEPS[meter]
        for t in range(32):
            table[m, t] = torch.tensor([bar_offset + t % spb, (4 if beat == 6 else 0) + (t % spb) % beat, (t // spb) % 2])
        bar_offset += spb
    return table


class DrumVAE(nn.Module):
    def __init__(self, config: DrumConfig = DrumConfig()):
        super().__init__()
        self.config = c = DrumConfig(**{**asdict(config), "meters": tuple(config.meters), "styles": tuple(config.styles)})
        self.meter = nn.Embedding(len(c.meters), c.embed)
        self.style = nn.Embedding(len(c.styles), c.embed)
        self.register_buffer("positions", position_table(c.meters), persistent=False)
        self.bar_step = nn.Embedding(sum(STEPS_PER_BAR[m] for m in c.meters), c.position_embed)
        self.beat_step = nn.Embedding(10, c.position_embed)
        self.which_bar = nn.Embedding(2, c.position_embed)
        cond = 2 * c.embed
        self.encoder = nn.LSTM(N_CLASSES + c.position_embed + cond, c.encoder_hidden, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * c.encoder_hidden, c.z_dim)
        self.to_logvar = nn.Linear(2 * c.encoder_hidden, c.z_dim)
        self.z_to_state = nn.Linear(c.z_dim + cond, 2 * c.hidden)
        self.decoder = nn.LSTM(N_CLASSES + c.position_embed + c.z_dim + cond, c.hidden, batch_first=True)
        self.output = nn.Linear(c.hidden, N_CLASSES)

    def condition(self, meter: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """meter, style ids [B] -> [B, 2E]."""
        return torch.cat([self.meter(meter), self.style(style)], dim=-1)

    def position(self, meter: torch.Tensor, steps: int) -> torch.Tensor:
        """meter ids [B] -> [B, T, P]."""
        index = self.positions[meter, :steps]  # [B, T, 3]
        return self.bar_step(index[..., 0]) + self.beat_step(index[..., 1]) + self.which_bar(index[..., 2])

    def encode(self, hits: torch.Tensor, meter: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """hits [B, T, 9] float -> mu, logvar [B, Z]."""
        batch, steps, _ = hits.shape
        cond = self.condition(meter, style)[:, None].expand(-1, steps, -1)
        _, (h, _) = self.encoder(torch.cat([hits, self.position(meter, steps), cond], dim=-1))
        summary = h.transpose(0, 1).reshape(batch, -1)
        return self.to_mu(summary), self.to_logvar(summary)

    def decode(self, z: torch.Tensor, meter: torch.Tensor, style: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits [B, T, 9] for targets [B, T, 9], in one LSTM call (training)."""
        steps = targets.shape[1]
        static = torch.cat([z, self.condition(meter, style)], dim=-1)  # [B, Z + 2E]
        h, c = torch.tanh(self.z_to_state(static)).chunk(2, dim=-1)
        previous = F.pad(targets[:, :-1], (0, 0, 1, 0))
        if self.training and self.config.dropout > 0:  # make z, not the last step, carry the pattern
            previous = previous * (torch.rand(previous.shape[:2] + (1,)) >= self.config.dropout)
        x = torch.cat([previous, self.position(meter, steps), static[:, None].expand(-1, steps, -1)], dim=-1)
        out, _ = self.decoder(x, (h[None].contiguous(), c[None].contiguous()))
        return self.output(F.dropout(out, self.config.dropout, self.training))

    @torch.no_grad()
    def generate(self, z: torch.Tensor, meter: torch.Tensor, style: torch.Tensor, steps: int, temperature: float = 0.0, rng: np.random.Generator | None = None,
                 uniforms: np.ndarray | None = None) -> np.ndarray:
        """Hits [B, T, 9] uint8 decoded step by step, each step fed back: thresholded at p 0.5
        (temperature 0, or no rng) or drawn at `temperature` with uniforms [B, T, 9] (given, or
        drawn from rng). Small
        batches (the composer's) run the step loop in numpy, since torch's dispatch cost per op
        would dominate at batch 1; large ones (a Beat Blender grid) step the torch LSTM."""
        static = torch.cat([z, self.condition(meter, style)], dim=-1)
        h, c = torch.tanh(self.z_to_state(static)).chunk(2, dim=-1)
        step_inputs = torch.cat([self.position(meter, steps), static[:, None].expand(-1, steps, -1)], dim=-1)  # [B, T, P + Z + 2E]
        if temperature <= 0:
            uniforms = None
        elif uniforms is None and rng is not None:
            uniforms = rng.random((z.shape[0], steps, N_CLASSES), dtype=np.float32)
        lstm = self.decoder
        if z.shape[0] <= 32:
            # what does not depend on the previous step goes through the input weights at once
            fixed = step_inputs @ lstm.weight_ih_l0[:, N_CLASSES:].T + lstm.bias_ih_l0 + lstm.bias_hh_l0  # [B, T, 4H]
            weights = (lstm.weight_ih_l0[:, :N_CLASSES].T, lstm.weight_hh_l0.T, self.output.weight.T, self.output.bias, h, c)
            return _numpy_steps(fixed.numpy(), *(np.ascontiguousarray(w.numpy()) for w in weights), uniforms, temperature)
        state, previous, hits = (h[None].contiguous(), c[None].contiguous()), torch.zeros(z.shape[0], N_CLASSES), []
        for t in range(steps):
            out, state = lstm(torch.cat([previous, step_inputs[:, t]], dim=-1)[:, None], state)
            logits = self.output(out[:, 0])
            hit = logits > 0 if uniforms is None else torch.from_numpy(uniforms[:, t]) < torch.sigmoid(logits / temperature)
            previous = hit.float()
            hits.append(hit)
        return torch.stack(hits, dim=1).numpy().astype(np.uint8)


def _numpy_steps(fixed, w_previous, w_hidden, w_out, b_out, h, c, uniforms, temperature: float) -> np.ndarray:
    """The decoder LSTM's step loop in numpy: fixed [B, T, 4H] (input part that does not depend
    on the previous step), w_previous [9, 4H], w_hidden [H, 4H], w_out [H, 9], h and c [B, H],
    uniforms [B, T, 9] or None (greedy) -> hits [B, T, 9] uint8."""
    fixed, w_previous, w_hidden = (halve_sigmoid_gates(w) for w in (fixed, w_previous, w_hidden))
    hits = np.zeros(fixed.shape[:2] + (N_CLASSES,), dtype=np.uint8)
    previous = np.zeros((fixed.shape[0], N_CLASSES), dtype=np.float32)
    for t in range(fixed.shape[1]):
        h, c = lstm_cell(fixed[:, t] + previous @ w_previous + h @ w_hidden, c)
        logits = h @ w_out + b_out
        hit = logits > 0 if uniforms is None else uniforms[:, t] < sigmoid(logits / temperature)
        hits[:, t] = hit
        previous = hit.astype(np.float32)
    return hits


class DrumComposer:
    """What the composer and Beat Blender use: patterns [T, 9] uint8 for a meter and a drum style."""

    def __init__(self, model: DrumVAE, meta: dict | None = None):
        self.model, self.meta = model.eval(), meta or {}

    @classmethod
    def load(cls, path: Path = CHECKPOINT) -> DrumComposer:
        return cls(*checkpoint.load(path, DrumVAE, DrumConfig))

    @property
    def styles(self) -> tuple[str, ...]:
        return self.model.config.styles

    @property
    def meters(self) -> tuple[str, ...]:
        return self.model.config.meters

    def patterns_seen(self, meter: str, style: str) -> int:
        """How many training patterns had this meter and style (0: the model never saw the pair)."""
        return int(self.meta.get("train_patterns", {}).get(meter, {}).get(style, 0))

    def steps(self, meter: str) -> int:
        return 2 * STEPS_PER_BAR[meter]

    def _ids(self, meter: str, style: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        if meter not in self.meters:
            raise ValueError(f"unknown drum meter {meter!r} (known: {', '.join(self.meters)})")
        if style not in self.styles:
            raise ValueError(f"unknown drum style {style!r} (known: {', '.join(self.styles)})")
        return torch.full((count,), self.meters.index(meter)), torch.full((count,), self.styles.index(style))

    @torch.no_grad()
    def sample(self, meter: str, style: str, seed: int | None = None, temperature: float = TEMPERATURE, count: int = 1) -> np.ndarray:
        """-> [count, T, 9] uint8 patterns, z from the prior; a seed gives the same patterns."""
        return self.sample_each(meter, [style], [seed], count, temperature)[0]

    @torch.no_grad()
    def sample_each(self, meter: str, styles: list[str], seeds: list[int | None], count: int, temperature: float = TEMPERATURE) -> np.ndarray:
        """-> [len(styles), count, T, 9]: for each style and seed `count` patterns, z from the
        prior and then the sampling's uniforms drawn from that seed, all decoded in one batch: a
        story's sections ask once, not once a section."""
        rows = [np.random.default_rng(seed) for seed in seeds]
        z = [r.standard_normal((count, self.model.config.z_dim), dtype=np.float32) for r in rows]
        uniforms = np.concatenate([r.random((count, self.steps(meter), N_CLASSES), dtype=np.float32) for r in rows]) if temperature > 0 else None
        meters, style_ids = self._ids_each(meter, styles, count)
        hits = self.model.generate(torch.from_numpy(np.concatenate(z)), meters, style_ids, self.steps(meter), temperature, uniforms=uniforms)
        return hits.reshape(len(styles), count, *hits.shape[1:])

    @torch.no_grad()
    def vary(self, pattern: np.ndarray, meter: str, style: str, amount: float, seed: int | None = None) -> np.ndarray:
        """A neighbour of pattern [T, 9]: z = mu + amount * noise, decoded greedily."""
        return self.vary_each(pattern[None], meter, [style], amount, [seed])[0]

    @torch.no_grad()
    def vary_each(self, patterns: np.ndarray, meter: str, styles: list[str], amount: float, seeds: list[int | None]) -> np.ndarray:
        """`vary` of each pattern [N, T, 9] in its style with its seed, in one batch -> [N, T, 9]."""
        meters, style_ids = self._ids_each(meter, styles, 1)
        self._check(patterns, meter)
        mu, _ = self.model.encode(torch.from_numpy(patterns.astype(np.float32)), meters, style_ids)
        noise = np.concatenate([np.random.default_rng(seed or 0).standard_normal((1, mu.shape[1]), dtype=np.float32) for seed in seeds])
        return self.model.generate(mu + amount * torch.from_numpy(noise), meters, style_ids, self.steps(meter))

    def _ids_each(self, meter: str, styles: list[str], count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Meter and style ids for `count` rows of each style, in order."""
        ids = [self._ids(meter, style, count) for style in styles]
        return torch.cat([m for m, _ in ids]), torch.cat([s for _, s in ids])

    @torch.no_grad()
    def blend(self, corners: np.ndarray, n: int, meter: str, style: str) -> np.ndarray:
        """corners [4, T, 9] (top-left, top-right, bottom-left, bottom-right) -> [n, n, T, 9];
        the four corners of the grid are the given patterns, unchanged; the n*n cells are
        decoded in one batched pass."""
        if corners.shape[0] != 4:
            raise ValueError(f"a blend needs 4 corners, got {corners.shape[0]}")
        self._check(corners, meter)
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"a blend grid needs n >= 2, got {n!r}")
        meters, styles = self._ids(meter, style, 4)
        mu, _ = self.model.encode(torch.from_numpy(corners.astype(np.float32)), meters, styles)
        u = torch.linspace(0, 1, n)
        top = (1 - u)[:, None] * mu[0] + u[:, None] * mu[1]  # [n, Z]
        bottom = (1 - u)[:, None] * mu[2] + u[:, None] * mu[3]
        z = (1 - u)[:, None, None] * top[None] + u[:, None, None] * bottom[None]  # [n(row), n(col), Z]
        meters, styles = self._ids(meter, style, n * n)
        steps = self.steps(meter)
        grid = self.model.generate(z.reshape(n * n, -1), meters, styles, steps).reshape(n, n, steps, N_CLASSES)
        grid[0, 0], grid[0, -1], grid[-1, 0], grid[-1, -1] = corners
        return grid

    def _check(self, patterns: np.ndarray, meter: str) -> None:
        if patterns.shape[1:] != (self.steps(meter), N_CLASSES):
            raise ValueError(f"{meter} patterns must have shape (T={self.steps(meter)}, {N_CLASSES}), got {patterns.shape[1:]}")
