"""Train the composer's models from scratch: `python -m models.train [melody|harmonizer|drums|all]`.

Everything comes from packages on this machine (the music21 corpus, Debian's mma for drums);
nothing is downloaded. Data preparation is cached under var/cache, so a second run does not
re-parse. Checkpoints land in models/checkpoints/ with their provenance beside them.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import checkpoint
from .dataset import WindowSampler, encode_tunes
from .forms import Forms
from .forms import learn as learn_forms
from .keys import KeyDistribution
from .keys import learn as learn_keys
from .latent_prior import fit as fit_latent_prior
from .melody_vae import MelodyVAE, VAEConfig, grown_from, vae_loss

CACHE_DIR = Path("var/cache")
MELODY_CHECKPOINT = checkpoint.CHECKPOINT_DIR / "melody_vae.pt"


def train_melody(minutes: float, max_steps: int, batch: int, seed: int, out: Path, limit_files: int | None,
                 init: Path | None = None, lr_max: float = 1e-3) -> dict:
    """Train the melody VAE for `minutes` (or `max_steps`); with `init`, go on from that checkpoint
    (grown to the current config: melody_vae.grown_from) instead of starting from scratch."""
    from .corpus import CORPUS_VERSION, load_folk_tunes_with_skips, provenance, split_of

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tunes, skipped = load_folk_tunes_with_skips(CACHE_DIR, limit_files=limit_files)
    by_split = {name: [t for t in tunes if split_of(t.tune_id) == name] for name in ("train", "valid", "test")}
    train = WindowSampler(encode_tunes(by_split["train"]))
    valid = WindowSampler(encode_tunes(by_split["valid"]))
    print(f"tunes: {len(by_split['train'])} train / {len(by_split['valid'])} valid / {len(by_split['test'])} test; "
          f"train windows: {train.count()}")
    valid_batches = [valid.batch(np.random.default_rng(1000 + i), 128, length) for i, length in enumerate((2, 2, 8, 8, 16))]

    config, model, earlier = VAEConfig(), None, None
    if init is not None:
        blob = torch.load(init, map_location="cpu", weights_only=True)
        config = VAEConfig(**blob["config"])
        model, earlier = grown_from(blob["state_dict"], config), blob["meta"]
        print(f"going on from {init} ({earlier.get('steps')} steps, {earlier.get('minutes')} min)")
    model = model or MelodyVAE(config)
    lr_min = lr_max / 10
    optimizer = torch.optim.Adam(model.parameters(), lr=lr_max)
    beta_max, free_bits, warmup = 0.3, 24.0, 0.3
    deadline = time.monotonic() + 60 * minutes
    step, history = 0, []
    progress = tqdm(total=max_steps, desc="melody VAE", unit="step")
    while step < max_steps and time.monotonic() < deadline:
        fraction = max(step / max_steps, 1 - (deadline - time.monotonic()) / (60 * minutes))
        for group in optimizer.param_groups:  # cosine decay lr_max -> lr_max / 10
            group["lr"] = lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * min(1.0, fraction)))
        beta = beta_max if earlier else beta_max * min(1.0, fraction / warmup)
        tokens, bars, meter, style, mode, endings = train.batch(rng, batch)
        model.train()
        logits, mu, logvar = model(tokens, bars, model.condition(meter, style, mode), endings)
        loss, stats = vae_loss(logits, tokens, mu, logvar, beta, free_bits)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        progress.update(1)
        if step % 50 == 0:
            progress.set_postfix(acc=f"{stats['accuracy']:.3f}", kl=f"{stats['kl']:.1f}", bars=bars)
        if step % 500 == 0:
            history.append({"step": step, **evaluate_teacher_forced(model, valid_batches)})
            tqdm.write(f"step {step}: valid {history[-1]}")
    progress.close()
    final = evaluate_teacher_forced(model, valid_batches)
    meta = {
        "kind": "melody_vae",
        "corpus_version": CORPUS_VERSION,
        "steps": step,
        "batch": batch,
        "seed": seed,
        "minutes": round(minutes, 2),
        "lr_max": lr_max,
        "continued_from": None if earlier is None else {k: earlier.get(k) for k in ("steps", "minutes", "corpus_version", "continued_from", "code")},
        "train_seconds": round(60 * minutes - max(0.0, deadline - time.monotonic()), 1),
        "beta_max": beta_max,
        "free_bits": free_bits,
        "valid_teacher_forced": final,
        "history": history,
        "tunes": {k: len(v) for k, v in by_split.items()},
    }
    checkpoint.save(out, model, config.to_dict(), meta)
    model.eval()
    fit_latent_prior(model, train).save(out.parent / "latent_prior.npz")
    (out.parent / "provenance.json").write_text(json.dumps(provenance(tunes, skipped), indent=2))
    build_memorization_index(by_split["train"], out.parent)
    Forms(learn_forms(by_split["train"])).save(out.parent / "forms.json")
    KeyDistribution(learn_keys(by_split["train"])).save(out.parent / "keys.json")
    print(f"saved {out} ({out.stat().st_size / 1e6:.1f} MB) after {step} steps; valid {final}")
    return meta


def build_memorization_index(train_tunes, directory: Path) -> None:
    """Every bar-aligned 4-bar window of the training tunes, transposition-invariant, so the
    composer can refuse to serve a piece that copies one (models/metrics.py)."""
    from .metrics import BarWindowIndex

    index = BarWindowIndex.build([t.notes for t in train_tunes], [t.steps_per_bar for t in train_tunes], ks=(4,))
    index.save(directory / "train_windows.npz")


@torch.no_grad()
def evaluate_teacher_forced(model: MelodyVAE, batches) -> dict:
    """Token accuracy with z = mu and the true previous token fed (a cheap progress signal; the
    sampled reconstruction accuracy is measured by models.evaluate)."""
    model.eval()
    result = {}
    for tokens, bars, meter, style, mode, endings in batches:
        cond = model.condition(meter, style, mode)
        mu, _ = model.encode(tokens, bars, cond)
        logits = model.decode_teacher_forced(mu, tokens, bars, cond, endings)
        result.setdefault(f"{bars}bar", []).append((logits.argmax(-1) == tokens).float().mean().item())
    return {k: round(float(np.mean(v)), 4) for k, v in result.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__)
    parser.add_argument("what", nargs="?", default="all", choices=["melody", "harmonizer", "drums", "all"])
    parser.add_argument("--minutes", type=float, default=100.0, help="wall-clock budget for the melody VAE")
    parser.add_argument("--steps", type=int, default=20000, help="step cap for the melody VAE")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit-files", type=int, default=None, help="parse only this many corpus files (quick runs)")
    parser.add_argument("--out", type=Path, default=MELODY_CHECKPOINT)
    parser.add_argument("--init", type=Path, default=None, help="go on training from this melody checkpoint")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (cosine decay to a tenth)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads or max(1, torch.get_num_threads()))
    if args.what in ("melody", "all"):
        train_melody(args.minutes, args.steps, args.batch, args.seed, args.out, args.limit_files, args.init, args.lr)
    if args.what in ("harmonizer", "all"):
        from .harmonizer import main as harmonizer_main

        harmonizer_main()
    if args.what in ("drums", "all"):
        from .drum_training import main as drums_main

        drums_main([])  # its own defaults, not this command line


if __name__ == "__main__":
    main()
