"""A 2-bar drum VAE (MusicVAE's drum model, shrunk) trained on Debian mma's accompaniment grooves.

Pattern: [T, 9] multi-hot, T = 2 bars of 16th steps (32 for 4/4; 24 for 3/4 and 6/8), the 9
classes of music.DRUM_CLASSES. One model per grid (16 or 12 steps a bar).

    encoder: BiLSTM over [hits_t (9) | position_t] -> mu, logvar [B, Z]
    decoder: LSTMCell, input [hits_{t-1} (9) | position_t | z], state from tanh(W z);
             out: 9 independent Bernoulli logits per step (several drums may hit at once).

Uses: `sample(seed)`; `blend(corners, n)`: Beat Blender's n x n grid, bilinear in z between four
corner patterns, the corners returned exactly as given; `vary(pattern, amount)`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checkpoint

N_CLASSES = 9


@dataclass(frozen=True)
class DrumConfig:
    steps: int = 32  # two bars
    hidden: int = 128
    z_dim: int = 32
    position_embed: int = 8

    def to_dict(self) -> dict:
        return asdict(self)


class DrumVAE(nn.Module):
    def __init__(self, config: DrumConfig = DrumConfig()):
        super().__init__()
        self.config = c = config
        self.position = nn.Embedding(c.steps, c.position_embed)
        self.encoder = nn.LSTM(N_CLASSES + c.position_embed, c.hidden, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * c.hidden, c.z_dim)
        self.to_logvar = nn.Linear(2 * c.hidden, c.z_dim)
        self.z_to_state = nn.Linear(c.z_dim, 2 * c.hidden)
        self.decoder = nn.LSTMCell(N_CLASSES + c.position_embed + c.z_dim, c.hidden)
        self.output = nn.Linear(c.hidden, N_CLASSES)

    def encode(self, hits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """hits [B, T, 9] float -> mu, logvar [B, Z]."""
        pos = self.position.weight.expand(hits.shape[0], -1, -1)
        _, (h, _) = self.encoder(torch.cat([hits, pos], dim=-1))
        summary = h.transpose(0, 1).reshape(hits.shape[0], -1)
        return self.to_mu(summary), self.to_logvar(summary)

    def decode(self, z: torch.Tensor, targets: torch.Tensor | None = None, temperature: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """With targets [B, T, 9]: teacher-forced logits [B, T, 9]. Without: hits [B, T, 9]
        sampled at `temperature` (0 = threshold at p 0.5)."""
        h, c = torch.tanh(self.z_to_state(z)).chunk(2, dim=-1)
        previous = torch.zeros(z.shape[0], N_CLASSES)
        outputs = []
        for t in range(self.config.steps):
            x = torch.cat([previous, self.position.weight[t].expand(z.shape[0], -1), z], dim=-1)
            h, c = self.decoder(x, (h, c))
            logits = self.output(h)
            if targets is not None:
                outputs.append(logits)
                previous = targets[:, t]
            else:
                if temperature <= 0:
                    hit = (logits > 0).float()
                else:
                    hit = torch.bernoulli(torch.sigmoid(logits / temperature), generator=generator)
                outputs.append(hit)
                previous = hit
        return torch.stack(outputs, dim=1)


class DrumComposer:
    def __init__(self, model: DrumVAE, meta: dict | None = None):
        self.model, self.meta = model.eval(), meta or {}

    @classmethod
    def load(cls, path: Path) -> DrumComposer:
        return cls(*checkpoint.load(path, DrumVAE, DrumConfig))

    @property
    def steps(self) -> int:
        return self.model.config.steps

    @torch.no_grad()
    def sample(self, seed: int | None = None, temperature: float = 0.5, count: int = 1) -> np.ndarray:
        """-> [count, T, 9] uint8 patterns."""
        generator = torch.Generator().manual_seed(seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63))
        z = torch.randn(count, self.model.config.z_dim, generator=generator)
        return self.model.decode(z, temperature=temperature, generator=generator).numpy().astype(np.uint8)

    @torch.no_grad()
    def vary(self, pattern: np.ndarray, amount: float, seed: int | None = None) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed or 0)
        mu, _ = self.model.encode(torch.from_numpy(pattern[None].astype(np.float32)))
        z = mu + amount * torch.randn(mu.shape, generator=generator)
        return self.model.decode(z).numpy().astype(np.uint8)[0]

    @torch.no_grad()
    def blend(self, corners: np.ndarray, n: int) -> np.ndarray:
        """corners [4, T, 9] (top-left, top-right, bottom-left, bottom-right) -> [n, n, T, 9];
        the four corners of the grid are the given patterns, unchanged."""
        if corners.shape != (4, self.steps, N_CLASSES):
            raise ValueError(f"corners must have shape (4, {self.steps}, {N_CLASSES}), got {corners.shape}")
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"a blend grid needs n >= 2, got {n!r}")
        mu, _ = self.model.encode(torch.from_numpy(corners.astype(np.float32)))
        u = torch.linspace(0, 1, n)
        top = (1 - u)[:, None] * mu[0] + u[:, None] * mu[1]  # [n, Z]
        bottom = (1 - u)[:, None] * mu[2] + u[:, None] * mu[3]
        z = (1 - u)[:, None, None] * top[None] + u[:, None, None] * bottom[None]  # [n(row), n(col), Z]
        grid = self.model.decode(z.reshape(n * n, -1)).numpy().astype(np.uint8).reshape(n, n, self.steps, N_CLASSES)
        grid[0, 0], grid[0, -1], grid[-1, 0], grid[-1, -1] = corners
        return grid


def train(patterns: np.ndarray, steps: int, minutes: float, seed: int = 0, batch: int = 64) -> tuple[DrumVAE, dict]:
    """Fit a DrumVAE on patterns [M, T, 9]; 10% held out for the reported accuracy."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(patterns))
    held = max(1, len(patterns) // 10)
    valid, train_set = patterns[order[:held]], patterns[order[held:]]
    model = DrumVAE(DrumConfig(steps=patterns.shape[1]))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    data = torch.from_numpy(train_set.astype(np.float32))
    deadline, step = time.monotonic() + 60 * minutes, 0
    while step < steps and time.monotonic() < deadline:
        x = data[torch.from_numpy(rng.integers(0, len(data), batch))]
        mu, logvar = model.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = model.decode(z, targets=x)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=(1, 2)).mean()
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(dim=1).mean()
        loss = reconstruction + 0.2 * min(1.0, step / 500) * torch.clamp(kl - 8.0, min=0)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
    model.eval()
    accuracy = reconstruction_accuracy(model, valid)
    return model, {"steps": step, "patterns": len(train_set), "held_out": held, "held_out_accuracy": accuracy}


@torch.no_grad()
def reconstruction_accuracy(model: DrumVAE, patterns: np.ndarray) -> dict:
    """Decode z = mu greedily; per-cell accuracy, and the share of steps whose 9 cells all match
    (MusicVAE's drum accuracy counts whole steps, the stricter of the two)."""
    x = torch.from_numpy(patterns.astype(np.float32))
    mu, _ = model.encode(x)
    out = model.decode(mu)
    return {"cell": round((out == x).float().mean().item(), 4), "step": round((out == x).all(dim=-1).float().mean().item(), 4)}


def main(argv: list[str] | None = None) -> None:
    from .grooves import load_mma_drum_patterns

    parser = argparse.ArgumentParser(prog="python -m models.drums")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args(argv)
    for steps_per_bar, patterns in load_mma_drum_patterns(Path("var/cache")).items():
        model, meta = train(patterns, args.steps, args.minutes)
        path = checkpoint.CHECKPOINT_DIR / f"drums_{steps_per_bar}.pt"
        checkpoint.save(path, model, model.config.to_dict(), {"kind": "drum_vae", "steps_per_bar": steps_per_bar, **meta})
        print(f"drums {steps_per_bar}-step bars: {meta}; saved {path}")


if __name__ == "__main__":
    main()
