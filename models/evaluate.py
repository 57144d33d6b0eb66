"""`python -m models.evaluate`: how the composer's melodies compare with held-out folk tunes and
with two baselines computed in the same run, as one table.

Sets (each N melodies of 8 bars; meter, style and key copied from the held-out excerpts, so
every column answers the same requests):
    held-out   the first 8 bars of test-split tunes (after any pickup)
    vae        MelodyComposer.sample, every bar written anew, before the memorization filter
    composer   the same with a form drawn from training-tune openings (models/forms.py): the
               repeated bars are copies; this is how the composer serves melodies
    markov     first-order chain over (interval, duration), fit on the train split
    random     uniform pitches around the tonic, uniform durations
Histogram overlaps are against the held-out set's pooled histograms (1 = identical).
Memorization: share of melodies with a bar-aligned 2-bar (4-bar) window found verbatim,
transposition-invariant, in a training tune. Reconstruction: held-out windows encoded to the
posterior mean and decoded greedily; share of steps whose token is right (all tokens, and only
the steps where the true melody starts a note).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from .composer import TEMPERATURE as DEFAULT_TEMPERATURE
from .corpus import load_folk_tunes, split_of
from .dataset import encode_tunes
from .encoding import FIRST_NOTE, window
from .forms import Forms
from .markov import MarkovMelody, random_melody
from .melody import MelodyComposer
from .melody_vae import STEPS_PER_BAR
from .metrics import BarWindowIndex, pooled_histograms, summarize

EXCERPT_BARS = 8


def excerpts(tunes, bars: int, n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, int, str, str, tuple[int, str]]]:
    """(notes, steps_per_bar, meter, style, key) for the first `bars` bars of up to n tunes."""
    out = []
    for i in rng.permutation(len(tunes)):
        tune = tunes[i]
        meter = f"{tune.meter[0]}/{tune.meter[1]}"
        if meter not in STEPS_PER_BAR:
            continue
        spb = STEPS_PER_BAR[meter]
        notes = np.asarray(tune.notes, dtype=np.int64)
        notes = notes[notes[:, 1] < bars * spb].copy()
        if len(notes) < bars or notes[:, 1].max() < (bars - 1) * spb:
            continue
        notes[:, 2] = np.minimum(notes[:, 2], bars * spb)
        out.append((notes, spb, meter, tune.style, tune.key))
        if len(out) == n:
            break
    return out


@torch.no_grad()
def reconstruction(composer: MelodyComposer, tunes, bars: int, n: int, rng) -> dict:
    encoded = [t for t in encode_tunes(tunes) if t.bars >= bars]
    by_meter: dict[str, list] = {}
    for t in encoded:
        by_meter.setdefault(t.meter, []).append(t)
    hits = total = onset_hits = onsets = 0
    for meter, group in by_meter.items():
        steps = STEPS_PER_BAR[meter]
        rows = [group[i] for i in rng.integers(0, len(group), max(1, n * len(group) // len(encoded)))]
        tokens = np.stack([window(t.tokens, 0, bars * steps) for t in rows])
        model = composer.model
        cond = model.condition(*[torch.tensor(v) for v in zip(*[(model_ids(t)) for t in rows])])
        mu, _ = model.encode(torch.from_numpy(tokens), bars, cond)
        decoded = composer.decoder.decode(model.conduct(mu, bars, cond), cond, steps, 0.0, rng)
        hits += int((decoded == tokens).sum())
        total += tokens.size
        is_onset = tokens >= FIRST_NOTE
        onset_hits += int((decoded[is_onset] == tokens[is_onset]).sum())
        onsets += int(is_onset.sum())
    return {"all_steps": hits / total, "note_onsets": onset_hits / onsets}


def model_ids(tune) -> tuple[int, int, int]:
    from .dataset import condition_ids

    return condition_ids(tune.meter, tune.style, tune.mode)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__)
    parser.add_argument("-n", type=int, default=300, help="melodies per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE, help="the composer's sampling temperature")
    parser.add_argument("--checkpoint", type=Path, default=Path(__file__).parent / "checkpoints" / "melody_vae.pt")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    tunes = load_folk_tunes(progress=False)
    train = [t for t in tunes if split_of(t.tune_id) == "train"]
    test = [t for t in tunes if split_of(t.tune_id) == "test"]
    composer = MelodyComposer.load(args.checkpoint)

    held_out = excerpts(test, EXCERPT_BARS, args.n, rng)
    keys = [e[4] for e in held_out]
    spbs = [e[1] for e in held_out]
    markov = MarkovMelody.fit(train)
    forms = Forms.load(args.checkpoint.parent / "forms.json")

    def composed(with_form: bool) -> list[np.ndarray]:
        return [
            composer.sample(EXCERPT_BARS, meter, style, key[0], key[1], args.temperature, int(rng.integers(2**62)),
                            forms=[forms.draw(EXCERPT_BARS, rng)] if with_form else None)[0]
            for _, _, meter, style, key in held_out
        ]

    sets = {
        "held-out": [e[0] for e in held_out],
        "vae": composed(False),
        "composer": composed(True),
        "markov": [markov.sample(EXCERPT_BARS, spb, key, rng) for spb, key in zip(spbs, keys)],
        "random": [random_melody(EXCERPT_BARS, spb, key, rng) for spb, key in zip(spbs, keys)],
    }
    index = BarWindowIndex.build([t.notes for t in train], [t.steps_per_bar for t in train], ks=(2, 4))
    reference = pooled_histograms(sets["held-out"], keys)
    train_reference = pooled_histograms([t.notes for t in train[:2000]], [t.key for t in train[:2000]])
    results = {name: summarize(melodies, keys, spbs, reference, index) for name, melodies in sets.items()}
    held_vs_train = summarize(sets["held-out"], keys, spbs, train_reference, None)
    recon = {bars: reconstruction(composer, test, bars, 256, rng) for bars in (2, 16)}

    rows = [
        ("in-scale rate", "in_scale_rate"),
        ("pitch-class hist. overlap", "overlap_pitch_class"),
        ("interval hist. overlap", "overlap_interval"),
        ("duration hist. overlap", "overlap_duration"),
        ("bars repeating an earlier bar", "repetition_share"),
        ("  (transposed repeats too)", "repetition_share_transposed"),
        ("notes per bar", "notes_per_bar"),
        ("copies >= 2 bars of a train tune", "copied_share_k2"),
        ("copies >= 4 bars of a train tune", "copied_share_k4"),
    ]
    names = list(sets)
    print(f"Melodies: {args.n} x {EXCERPT_BARS} bars per set; held-out = test split ({len(test)} tunes), train = {len(train)} tunes")
    print(f"{'metric':<34}" + "".join(f"{n:>11}" for n in names))
    for label, key in rows:
        print(f"{label:<34}" + "".join(f"{results[n][key]:>11.3f}" for n in names))
    print(f"(held-out vs train-split histograms: pitch class {held_vs_train['overlap_pitch_class']:.3f}, "
          f"interval {held_vs_train['overlap_interval']:.3f}, duration {held_vs_train['overlap_duration']:.3f})")
    print("Reconstruction of held-out windows (z = posterior mean, greedy decoding):")
    for bars, r in recon.items():
        print(f"  {bars:>2}-bar melody: {r['all_steps']:.3f} of steps, {r['note_onsets']:.3f} of note onsets")
    drums = sorted((Path(__file__).parent / "checkpoints").glob("drums_*.pt"))
    for path in drums:
        meta = torch.load(path, map_location="cpu", weights_only=True)["meta"]
        acc = meta.get("held_out_accuracy", {})
        print(f"  drums ({meta.get('steps_per_bar')}-step bars, 2 bars, {meta.get('held_out')} held-out grooves): "
              f"{acc.get('cell', float('nan')):.3f} of cells, {acc.get('step', float('nan')):.3f} of whole steps")
    print(f"evaluated in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
