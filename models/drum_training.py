"""Training the drum VAE (drums.py) on the mma grooves (grooves.py): `python -m models.drum_training`
trains on all but ~10 % of the library files (held out by file, so a groove's variants never sit
on both sides), saves models/checkpoints/drums.pt with its held-out figures, and prints them
(drum_evaluation.py).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from . import checkpoint
from .drums import CHECKPOINT, DrumConfig, DrumVAE
from .grooves import STEPS_PER_BAR


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


@torch.no_grad()
def reconstruction_accuracy(model: DrumVAE, hits: torch.Tensor, meters: torch.Tensor, styles: torch.Tensor) -> dict:
    """Decode z = mu greedily; per-cell accuracy, and the share of steps whose 9 cells all match
    (MusicVAE's drum accuracy counts whole steps, the stricter of the two)."""
    mu, _ = model.encode(hits, meters, styles)
    out = torch.from_numpy(model.generate(mu, meters, styles, hits.shape[1])).float()
    return {"cell": round((out == hits).float().mean().item(), 4), "step": round((out == hits).all(dim=-1).float().mean().item(), 4)}


def main(argv: list[str] | None = None) -> None:
    from .drum_evaluation import evaluate, evaluation_report
    from .grooves import counts, load_grooves

    parser = argparse.ArgumentParser(prog="python -m models.drum_training", description="train the drum VAE, then print its evaluation")
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
