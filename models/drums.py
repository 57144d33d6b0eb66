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
`vary(pattern, meter, style, amount)`. `python -m models.drums` trains on all but ~10 % of the
library files and prints `evaluation_report()` (reconstruction and sample statistics on the
held-out files).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checkpoint
from .grooves import BEAT_STEPS, METERS, STEPS_PER_BAR, STYLES

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
    def generate(self, z: torch.Tensor, meter: torch.Tensor, style: torch.Tensor, steps: int, temperature: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
        """Hits [B, T, 9] uint8 decoded step by step, each step fed back: thresholded at p 0.5
        (temperature 0, or no rng) or drawn at `temperature` with uniforms from rng. Small
        batches (the composer's) run the step loop in numpy, since torch's dispatch cost per op
        would dominate at batch 1; large ones (a Beat Blender grid) step the torch LSTM."""
        static = torch.cat([z, self.condition(meter, style)], dim=-1)
        h, c = torch.tanh(self.z_to_state(static)).chunk(2, dim=-1)
        step_inputs = torch.cat([self.position(meter, steps), static[:, None].expand(-1, steps, -1)], dim=-1)  # [B, T, P + Z + 2E]
        uniforms = None if temperature <= 0 or rng is None else rng.random((z.shape[0], steps, N_CLASSES), dtype=np.float32)
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

    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    size = h.shape[1]
    hits = np.zeros(fixed.shape[:2] + (N_CLASSES,), dtype=np.uint8)
    previous = np.zeros((fixed.shape[0], N_CLASSES), dtype=np.float32)
    for t in range(fixed.shape[1]):
        gates = fixed[:, t] + previous @ w_previous + h @ w_hidden
        i, f, g, o = (gates[:, k * size : (k + 1) * size] for k in range(4))  # torch's gate order
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
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
        meters, styles = self._ids(meter, style, count)
        rng = np.random.default_rng(seed)
        z = torch.from_numpy(rng.standard_normal((count, self.model.config.z_dim), dtype=np.float32))
        return self.model.generate(z, meters, styles, self.steps(meter), temperature, rng)

    @torch.no_grad()
    def vary(self, pattern: np.ndarray, meter: str, style: str, amount: float, seed: int | None = None) -> np.ndarray:
        """A neighbour of pattern [T, 9]: z = mu + amount * noise, decoded greedily."""
        meters, styles = self._ids(meter, style, 1)
        self._check(pattern[None], meter)
        mu, _ = self.model.encode(torch.from_numpy(pattern[None].astype(np.float32)), meters, styles)
        noise = np.random.default_rng(seed or 0).standard_normal(mu.shape, dtype=np.float32)
        return self.model.generate(mu + amount * torch.from_numpy(noise), meters, styles, self.steps(meter))[0]

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


# ---- training ----------------------------------------------------------------------------------


def split(grooves: dict[str, dict[str, np.ndarray]], share: float = 0.1) -> set[str]:
    """The held-out library files: for each meter, ~`share` of the files holding its patterns (at
    least 2, so 3/4 and 6/8, each from a handful of files, get a held-out set), taken in the
    order of a hash of the file name, skipping a file that would take the last training file of
    a style in that meter (some styles have one file in 3/4 or 6/8)."""
    from .grooves import file_of

    held: set[str] = set()
    for data in grooves.values():
        files_of_style: dict[str, set[str]] = {}
        for source, style in zip(data["source"], data["style"]):
            files_of_style.setdefault(str(style), set()).add(file_of(source))
        files = sorted(set().union(*files_of_style.values()), key=_file_rank)
        wanted = max(2, round(share * len(files)))
        for name in files:
            if len([f for f in files if f in held]) >= wanted:
                break
            if all(group - held - {name} for group in files_of_style.values() if name in group):
                held.add(name)
    return held


def _file_rank(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def _tensors(data: dict[str, np.ndarray], meter: str, config: DrumConfig, mask: np.ndarray) -> tuple[torch.Tensor, ...]:
    """-> hits [M, T, 9] float, meter ids [M], style ids [M] for the masked patterns."""
    hits = torch.from_numpy(data["patterns"][mask].astype(np.float32))
    styles = torch.tensor([config.styles.index(s) for s in data["style"][mask]], dtype=torch.long)
    return hits, torch.full((len(hits),), config.meters.index(meter)), styles


def train(
    grooves: dict[str, dict[str, np.ndarray]],
    minutes: float = 12.0,
    max_steps: int = 20000,
    seed: int = 0,
    batch: int = 64,
    beta: float = 0.5,
    free_bits: float = 20.0,
    config: DrumConfig = DrumConfig(),
) -> tuple[DrumVAE, dict]:
    """Fit one DrumVAE on every meter; the files of split() are held out. Each step draws a batch
    of one length (32 or 24 steps), the length with probability proportional to the square root
    of its pattern count, so 3/4 and 6/8 are not drowned by 4/4 nor memorized."""
    from .grooves import file_of

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    held = split(grooves)
    model = DrumVAE(config)
    config = model.config
    by_length: dict[int, list[tuple[torch.Tensor, ...]]] = {}
    train_patterns: dict[str, dict[str, int]] = {}
    for meter, data in grooves.items():
        keep = np.array([file_of(s) not in held for s in data["source"]])
        by_length.setdefault(2 * STEPS_PER_BAR[meter], []).append(_tensors(data, meter, config, keep))
        styles, counts = np.unique(data["style"][keep], return_counts=True)
        train_patterns[meter] = {str(s): int(n) for s, n in zip(styles, counts)}
    pools = {length: tuple(torch.cat(parts) for parts in zip(*groups)) for length, groups in by_length.items()}
    lengths = sorted(pools)
    weights = np.sqrt([len(pools[n][0]) for n in lengths])
    weights /= weights.sum()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    started = time.monotonic()
    deadline, step = started + 60 * minutes, 0
    while step < max_steps and time.monotonic() < deadline:
        fraction = max(step / max_steps, (time.monotonic() - started) / (60 * minutes))
        for group in optimizer.param_groups:  # cosine decay 2e-3 -> 1e-4
            group["lr"] = 1e-4 + 0.5 * (2e-3 - 1e-4) * (1 + math.cos(math.pi * min(1.0, fraction)))
        hits, meters, styles = pools[lengths[rng.choice(len(lengths), p=weights)]]
        pick = torch.from_numpy(rng.integers(0, len(hits), batch))
        x, m, s = hits[pick], meters[pick], styles[pick]
        model.train()
        mu, logvar = model.encode(x, m, s)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = model.decode(z, m, s, targets=x)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=(1, 2)).mean()
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(dim=1).mean()
        loss = reconstruction + beta * min(1.0, fraction / 0.3) * torch.clamp(kl - free_bits, min=0)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 500 == 0:
            print(f"step {step}: reconstruction {reconstruction.item():.2f} kl {kl.item():.1f} ({time.monotonic() - started:.0f} s)", flush=True)
    model.eval()
    meta = {
        "kind": "drum_vae",
        "steps": step,
        "batch": batch,
        "seed": seed,
        "beta": beta,
        "free_bits": free_bits,
        "minutes": minutes,
        "train_seconds": round(time.monotonic() - started, 1),
        "threads": torch.get_num_threads(),
        "train_patterns": train_patterns,
        "held_out_files": sorted(held),
    }
    return model, meta


# ---- evaluation --------------------------------------------------------------------------------


@torch.no_grad()
def reconstruction_accuracy(model: DrumVAE, hits: torch.Tensor, meters: torch.Tensor, styles: torch.Tensor) -> dict:
    """Decode z = mu greedily; per-cell accuracy, and the share of steps whose 9 cells all match
    (MusicVAE's drum accuracy counts whole steps, the stricter of the two)."""
    mu, _ = model.encode(hits, meters, styles)
    out = torch.from_numpy(model.generate(mu, meters, styles, hits.shape[1])).float()
    return {"cell": round((out == hits).float().mean().item(), 4), "step": round((out == hits).all(dim=-1).float().mean().item(), 4)}


def onset_histogram(patterns: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """Hits (any class) at each step of the bar, as a distribution [steps_per_bar]."""
    counts = patterns.reshape(len(patterns), -1, steps_per_bar, N_CLASSES).sum(axis=(0, 1, 3)).astype(float)
    return counts / max(1.0, counts.sum())


def overlap(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.minimum(p, q).sum())


def second_beat_share(patterns: np.ndarray, steps_per_bar: int = 12) -> float:
    """Of the kick and snare hits on steps 4, 6 or 8 of a 12-step bar, the share on step 6: 6/8's
    second beat (a 3/4 bar has its beats 2 and 3 on steps 4 and 8 instead). Near 0 for 3/4."""
    bars = patterns[:, :, [KICK, SNARE]].any(axis=-1).reshape(len(patterns), -1, steps_per_bar)
    on_6, on_4_8 = bars[:, :, 6].sum(), bars[:, :, [4, 8]].sum()
    return float(on_6 / max(1, on_6 + on_4_8))


def evaluate(path: Path = CHECKPOINT, cache_dir: Path = Path("var/cache"), samples_per_pattern: int = 8) -> dict:
    """The drum model's figures, from the checkpoint and the cached grooves, per meter: held-out
    reconstruction; for patterns sampled (at TEMPERATURE) with the held-out patterns' styles,
    hits a bar per class and the onset-position histogram overlap with the held-out patterns
    (training patterns vs held-out as the reference); for 12-step bars the 6/8 accent share;
    and the time to decode an 11 x 11 Beat Blender grid."""
    from .grooves import file_of, load_grooves

    drums = DrumComposer.load(path)
    model, config = drums.model, drums.model.config
    held = set(drums.meta["held_out_files"])
    result: dict = {"parameters": sum(p.numel() for p in model.parameters()), "held_out_files": len(held), "meters": {}}
    for meter, data in load_grooves(cache_dir).items():
        spb = STEPS_PER_BAR[meter]
        mask = np.array([file_of(s) in held for s in data["source"]])
        if not mask.any():
            continue
        real, train_real = data["patterns"][mask], data["patterns"][~mask]
        sampled = np.concatenate([drums.sample(meter, str(s), seed=1000 + i, count=samples_per_pattern) for i, s in enumerate(data["style"][mask])])
        real_hist = onset_histogram(real, spb)
        figures = {
            "held_out_patterns": int(mask.sum()),
            "held_out_files": len({file_of(s) for s in data["source"][mask]}),
            "train_patterns": len(train_real),
            "reconstruction": reconstruction_accuracy(model, *_tensors(data, meter, config, mask)),
            "onset_overlap_sampled": round(overlap(onset_histogram(sampled, spb), real_hist), 3),
            "onset_overlap_training": round(overlap(onset_histogram(train_real, spb), real_hist), 3),
            "hits_per_bar_held_out": [round(float(v), 3) for v in real.sum(axis=(0, 1)) / (2 * len(real))],
            "hits_per_bar_sampled": [round(float(v), 3) for v in sampled.sum(axis=(0, 1)) / (2 * len(sampled))],
        }
        if spb == 12:
            figures["beat_6_share"] = {"held_out": round(second_beat_share(real), 3), "training": round(second_beat_share(train_real), 3),
                                       "sampled": round(second_beat_share(sampled), 3)}
        result["meters"][meter] = figures
    result["blend_11x11_ms"] = round(1000 * blend_seconds(drums), 1)
    result["threads"] = torch.get_num_threads()
    return result


def evaluation_report(path: Path = CHECKPOINT, cache_dir: Path = Path("var/cache"), figures: dict | None = None) -> list[str]:
    """evaluate() as printable lines (models.evaluate prints them)."""
    f = figures or evaluate(path, cache_dir)
    lines = [f"Drum VAE ({f['parameters']:,} parameters), {f['held_out_files']} held-out library files; sampled at temperature {TEMPERATURE}"]
    classes = ("kick", "snare", "c.hat", "o.hat", "l.tom", "m.tom", "h.tom", "crash", "ride")
    for meter, m in f["meters"].items():
        r = m["reconstruction"]
        lines.append(f"  {meter}: {m['held_out_patterns']} held-out patterns from {m['held_out_files']} files ({m['train_patterns']} in training); "
                     f"reconstruction {r['cell']:.3f} of cells, {r['step']:.3f} of whole steps")
        lines.append(f"    onset-position histogram overlap with held-out (1 = identical): sampled {m['onset_overlap_sampled']:.3f}, "
                     f"training patterns {m['onset_overlap_training']:.3f}")
        lines.append("    hits a bar   " + " ".join(f"{c:>6}" for c in classes))
        lines.append("      held-out " + " ".join(f"{v:6.2f}" for v in m["hits_per_bar_held_out"]))
        lines.append("      sampled  " + " ".join(f"{v:6.2f}" for v in m["hits_per_bar_sampled"]))
        if "beat_6_share" in m:
            b = m["beat_6_share"]
            lines.append(f"    kick/snare hits on step 6 (6/8's beat 2) of those on steps 4, 6, 8 (3/4's beats 2, 3): "
                         f"held-out {b['held_out']:.2f}, training {b['training']:.2f}, sampled {b['sampled']:.2f}")
    lines.append(f"  decoding an 11 x 11 blend grid (121 patterns, one batched pass, {f['threads']} thread(s)): {f['blend_11x11_ms']:.0f} ms")
    return lines


def blend_seconds(drums: DrumComposer, repeats: int = 3) -> float:
    corners = drums.sample("4/4", drums.styles[0], seed=0, count=4)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        drums.blend(corners, 11, "4/4", drums.styles[0])
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> None:
    from .grooves import counts, load_grooves

    parser = argparse.ArgumentParser(prog="python -m models.drums", description="train the drum VAE, then print its evaluation")
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--beta", type=float, default=0.5)
    parser.add_argument("--free-bits", type=float, default=20.0)
    parser.add_argument("--dropout", type=float, default=DrumConfig.dropout)
    parser.add_argument("--out", type=Path, default=CHECKPOINT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    grooves = load_grooves(Path("var/cache"))
    for meter, styles in counts(grooves).items():
        print(f"{meter}: {sum(styles.values())} patterns: " + ", ".join(f"{s} {n}" for s, n in styles.items()))
    model, meta = train(grooves, args.minutes, args.steps, args.seed, beta=args.beta, free_bits=args.free_bits, config=DrumConfig(dropout=args.dropout))
    meta["patterns"] = counts(grooves)
    checkpoint.save(args.out, model, model.config.to_dict(), meta)
    figures = evaluate(args.out)  # from the saved (float16) weights, as served
    checkpoint.save(args.out, model, model.config.to_dict(), {**meta, "held_out": figures})
    print(f"saved {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    print("\n".join(evaluation_report(figures=figures)))


if __name__ == "__main__":
    main()
