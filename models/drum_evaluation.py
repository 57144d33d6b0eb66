"""The drum VAE's figures on held-out mma library files: reconstruction, and for sampled patterns
hits a bar per class, the onset-position overlap and (12-step bars) whether they are felt in 3 or
in 2; and the time an 11 x 11 Beat Blender grid takes. drum_training.main stores them in the
checkpoint, which `make evaluate` prints.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .drum_training import _tensors, reconstruction_accuracy
from .drums import CHECKPOINT, KICK, N_CLASSES, SNARE, TEMPERATURE, DrumComposer
from .grooves import STEPS_PER_BAR


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
