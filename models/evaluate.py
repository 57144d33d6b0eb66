"""`python -m models.evaluate`: how the composer's melodies compare with held-out folk tunes and
with two baselines computed in the same run, as one table (`--json PATH` writes every figure).

Sets (each N melodies of 8 bars; meter, style and key copied from the held-out excerpts, so
every column answers the same requests):
    held-out   the first 8 full bars of test-split tunes (a pickup bar skipped)
    vae        MelodyComposer.sample, every bar written anew, before the memorization filter
    composer   the same with a form drawn from training-tune openings (models/forms.py): the
               repeated bars are copies; this is how the composer writes melodies
    markov     first-order chain over (interval, duration), fit on the train split
    random     uniform pitches around the tonic, uniform durations
Histogram overlaps (pitch class relative to the tonic, interval, duration, onset position in
the bar) are against the held-out set's pooled histograms (1 = identical), over all meters and
per meter. Memorization: share of melodies with a bar-aligned 2-bar (4-bar) window found
verbatim, transposition-invariant, in a training tune.

Beside them:
- endings (last note the tonic, a beat or longer, approached by step) of whole pieces, against
  the ENDS of the same held-out tunes (their last 8 bars), since a tune's 8th bar is no ending;
  composer pieces of 8 and 16 bars, and pieces served by Composer.compose;
- rhythm variety, range and repetition with the held-out tunes' 10th-90th percentile band;
- repetition at 16 bars: the first 16 full bars of test tunes that long, against 16-bar pieces;
- a style classifier (models/style_classifier.py) fitted on the valid split's openings: how
  often test tunes, composer pieces and Markov melodies of style X are classified as X;
- uniqueness: distinct melodies among the composer set (distinct seeds) and among pieces served
  unseeded by Composer.compose, whose 4-bar copies of a training tune are counted with this
  run's own index of the train split (the composer filters with the committed one);
- reconstruction of held-out windows (z = posterior mean, greedy decoding), beside MusicVAE's
  reported figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from music import Key

from . import checkpoint
from .composer import TEMPERATURE as DEFAULT_TEMPERATURE
from .composer import Composer, notes_of
from .corpus import load_folk_tunes, split_of
from .dataset import encode_tunes
from .encoding import FIRST_NOTE, STEPS_PER_BAR, window
from .evaluate_table import print_table
from .forms import Forms
from .markov import MarkovMelody, random_melody
from .melody import MelodyComposer
from .metrics import BarWindowIndex, pooled_histograms, summarize
from .style_classifier import STYLES, StyleClassifier, confusion, melody_features

EXCERPT_BARS = 8
LONG_BARS = 16
MUSICVAE_STEP_ACCURACY = {2: 0.95, 16: 0.81}  # Roberts et al. 2018, reconstruction accuracy of steps
SERVED = 100  # pieces composed unseeded by Composer.compose (the served path, memorization filter included)
ENDING_FIGURES = ("ends_on_tonic", "ends_long", "approached_by_step")


def meter_of(tune) -> str:
    return f"{tune.meter[0]}/{tune.meter[1]}"


def opening(tune, bars: int) -> np.ndarray | None:
    """The first `bars` full bars (a pickup bar skipped, as forms.learn does), the last note cut
    at the end; None if the tune is shorter or its last bar here has no onset."""
    spb = tune.steps_per_bar
    first = 1 if tune.pickup_steps else 0
    notes = np.asarray(tune.notes, dtype=np.int64)
    notes = notes[(notes[:, 1] >= first * spb) & (notes[:, 1] < (first + bars) * spb)].copy()
    if len(notes) < bars or notes[:, 1].max() < (first + bars - 1) * spb:
        return None
    notes[:, 1:] -= first * spb
    notes[:, 2] = np.minimum(notes[:, 2], bars * spb)
    return notes


def ending(tune, bars: int) -> np.ndarray | None:
    """The tune's last `bars` bars, moved to start at step 0 (the final bar as written, often
    short where the tune began with a pickup); None if the tune is shorter."""
    spb = tune.steps_per_bar
    notes = np.asarray(tune.notes, dtype=np.int64)
    first = (int(notes[:, 2].max()) - 1) // spb - bars + 1
    if first < (1 if tune.pickup_steps else 0):
        return None
    notes = notes[notes[:, 1] >= first * spb].copy()
    notes[:, 1:] -= first * spb
    return notes


def excerpts(tunes, bars: int, n: int, rng: np.random.Generator) -> list[dict]:
    """Up to n requests drawn from `tunes` in the composer's meters: the tune's opening of `bars`
    bars and its ending of as many, with meter, steps_per_bar, style and key."""
    out = []
    for i in rng.permutation(len(tunes)):
        tune = tunes[i]
        if meter_of(tune) not in STEPS_PER_BAR:
            continue
        start, end = opening(tune, bars), ending(tune, bars)
        if start is None or end is None:
            continue
        out.append({"notes": start, "end": end, "spb": tune.steps_per_bar, "meter": meter_of(tune), "style": tune.style, "key": tune.key})
        if len(out) == n:
            break
    return out


def matched(pool: list[dict], requests: list[dict], rng) -> list[dict]:
    """For each request, a different excerpt of `pool` with the same meter and style: a second
    real set that answers the same requests, so its overlaps with the held-out set show how close
    two samples of real tunes this large come (the ceiling for every other column)."""
    groups: dict[tuple, list[dict]] = {}
    for r in pool:
        groups.setdefault((r["meter"], r["style"]), []).append(r)
    taken: dict[tuple, int] = {}
    out = []
    for r in requests:
        group = groups[(r["meter"], r["style"])]
        i = taken.get((r["meter"], r["style"]), 0)
        if i == 0:
            rng.shuffle(group)
        out.append(group[i % len(group)])
        taken[(r["meter"], r["style"])] = i + 1
    return out


def composed(composer: MelodyComposer, forms: Forms | None, requests: list[dict], bars: int, temperature: float, rng) -> list[np.ndarray]:
    """One composer melody per request (a distinct seed each); with `forms`, as the composer writes them."""
    return [
        composer.sample(bars, r["meter"], r["style"], r["key"][0], r["key"][1], temperature, int(rng.integers(2**62)),
                        forms=[forms.draw(bars, rng)] if forms is not None else None)[0]
        for r in requests
    ]


def style_figures(composer, forms, markov, valid, test, per_style: int, temperature: float, rng) -> dict:
    """Fit the classifier on the valid split's openings; accuracy per style on every test
    opening, on `per_style` composer pieces per style (requests from test tunes of that style)
    and on Markov melodies for the same requests; the confusion rows of all three."""
    def features(melodies, requests):
        return np.stack([melody_features(m, r["key"], r["meter"], r["spb"]) for m, r in zip(melodies, requests)])

    fit_on = excerpts(valid, EXCERPT_BARS, len(valid), rng)
    classifier = StyleClassifier.fit(features([r["notes"] for r in fit_on], fit_on), [r["style"] for r in fit_on])
    real = excerpts(test, EXCERPT_BARS, len(test), rng)
    requests = []
    for style in STYLES:
        pool = [r for r in real if r["style"] == style]
        requests += [pool[i] for i in rng.choice(len(pool), per_style, replace=len(pool) < per_style)]
    sets = {
        "test tunes": (real, [r["notes"] for r in real]),
        "composer": (requests, composed(composer, forms, requests, EXCERPT_BARS, temperature, rng)),
        "markov": (requests, [markov.sample(EXCERPT_BARS, r["spb"], r["key"], rng) for r in requests]),
    }
    out = {"fit_on_valid_tunes": len(fit_on), "accuracy": {}, "n": {}, "confusion": {}}
    for name, (reqs, melodies) in sets.items():
        matrix = confusion([r["style"] for r in reqs], classifier.predict(features(melodies, reqs)))
        totals = matrix.sum(axis=1)
        out["n"][name] = dict(zip(STYLES, totals.tolist()))
        out["accuracy"][name] = {s: float(matrix[i, i] / totals[i]) if totals[i] else float("nan") for i, s in enumerate(STYLES)}
        out["confusion"][name] = {s: dict(zip(STYLES, matrix[i].tolist())) for i, s in enumerate(STYLES)}
    return out


def served_figures(composer: Composer, requests: list[dict], index: BarWindowIndex) -> dict:
    """Pieces as a round gets them: Composer.compose, unseeded, for the first requests."""
    pieces = [composer.compose(EXCERPT_BARS, r["meter"], r["style"], Key(*r["key"]), seed=None) for r in requests]
    melodies = [notes_of(p) for p in pieces]
    longest = [index.longest_copied_bars(m, r["spb"]) for m, r in zip(melodies, requests)]
    ends = summarize(melodies, [r["key"] for r in requests], [r["spb"] for r in requests], meters=[r["meter"] for r in requests])
    return {
        "count": len(pieces),
        "distinct": distinct(melodies, requests),
        "copies_k4": sum(k >= 4 for k in longest),
        "copies_k2": sum(k >= 2 for k in longest),
        **{name: ends[name] for name in ENDING_FIGURES},
    }


def distinct(melodies, requests) -> int:
    """How many different melodies, compared relative to the tonic (a melody written again in
    another key counts once) on the bar grid of its meter."""
    return len({(r["spb"], tuple(map(tuple, (m - [r["key"][0], 0, 0]).tolist()))) for m, r in zip(melodies, requests)})


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
    return {"all_steps": hits / total, "note_onsets": onset_hits / onsets, "musicvae_all_steps": MUSICVAE_STEP_ACCURACY[bars]}


def model_ids(tune) -> tuple[int, int, int]:
    from .dataset import condition_ids

    return condition_ids(tune.meter, tune.style, tune.mode)


def summaries(sets: dict[str, list], requests: list[dict], reference: dict, index: BarWindowIndex | None) -> dict:
    keys, spbs, meters = ([r[f] for r in requests] for f in ("key", "spb", "meter"))
    return {name: summarize(melodies, keys, spbs, reference, index, meters) for name, melodies in sets.items()}


def evaluate(n: int, seed: int, temperature: float, checkpoint_path: Path, served: int = SERVED) -> dict:
    """Every figure of the table, as a JSON-ready dict."""
    started = time.monotonic()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    tunes = load_folk_tunes(progress=False)
    splits = {s: [t for t in tunes if split_of(t.tune_id) == s] for s in ("train", "valid", "test")}
    train, test = splits["train"], splits["test"]
    composer = MelodyComposer.load(checkpoint_path)
    forms_path = checkpoint_path.parent / "forms.json"
    forms_path = forms_path if forms_path.exists() else checkpoint.CHECKPOINT_DIR / "forms.json"
    forms = Forms.load(forms_path)
    markov = MarkovMelody.fit(train)
    index = BarWindowIndex.build([t.notes for t in train], [t.steps_per_bar for t in train], ks=(2, 4))

    held_out = excerpts(test, EXCERPT_BARS, n, rng)
    keys, spbs = [r["key"] for r in held_out], [r["spb"] for r in held_out]
    sets = {
        "held-out": [r["notes"] for r in held_out],
        "vae": composed(composer, None, held_out, EXCERPT_BARS, temperature, rng),
        "composer": composed(composer, forms, held_out, EXCERPT_BARS, temperature, rng),
        "markov": [markov.sample(EXCERPT_BARS, spb, key, rng) for spb, key in zip(spbs, keys)],
        "random": [random_melody(EXCERPT_BARS, spb, key, rng) for spb, key in zip(spbs, keys)],
    }
    meters = [r["meter"] for r in held_out]
    reference = pooled_histograms(sets["held-out"], keys, meters)
    results = summaries(sets, held_out, reference, index)
    results["tune ends"] = summaries({"tune ends": [r["end"] for r in held_out]}, held_out, reference, None)["tune ends"]
    other = matched(excerpts(train, EXCERPT_BARS, len(train), rng), held_out, rng)
    held_vs_train = summarize([r["notes"] for r in other], [r["key"] for r in other], [r["spb"] for r in other], reference, None, [r["meter"] for r in other])

    per_meter = {}
    for meter in STEPS_PER_BAR:
        chosen = [i for i, m in enumerate(meters) if m == meter]
        if not chosen:
            continue
        requests = [held_out[i] for i in chosen]
        ref = pooled_histograms([sets["held-out"][i] for i in chosen], [r["key"] for r in requests], [meter] * len(chosen))
        per_meter[meter] = {"n": len(chosen)}
        for name in ("composer", "markov"):
            per_meter[meter].update(summaries({name: [sets[name][i] for i in chosen]}, requests, ref, None))
        per_meter[meter].update(summaries({"train tunes": [other[i]["notes"] for i in chosen]}, [other[i] for i in chosen], ref, None))

    long_held_out = excerpts(test, LONG_BARS, n, rng)
    long_sets = {
        "held-out": [r["notes"] for r in long_held_out],
        "composer": composed(composer, forms, long_held_out, LONG_BARS, temperature, rng),
        "markov": [markov.sample(LONG_BARS, r["spb"], r["key"], rng) for r in long_held_out],
    }
    long_results = summaries(long_sets, long_held_out, pooled_histograms(long_sets["held-out"], [r["key"] for r in long_held_out], [r["meter"] for r in long_held_out]), None)

    style = style_figures(composer, forms, markov, splits["valid"], test, max(10, n // 3), temperature, rng)
    served_composer = dataclasses.replace(Composer.load(checkpoint.CHECKPOINT_DIR), melody=composer, forms=forms)
    served_requests = [held_out[i % len(held_out)] for i in range(served)]
    recon = {str(bars): reconstruction(composer, test, bars, 256, rng) for bars in (2, 16)}

    def scalars(summary: dict) -> dict:
        return {k: v for k, v in summary.items() if not k.startswith("hist_")}

    figures = {
        "settings": {"n": n, "bars": EXCERPT_BARS, "seed": seed, "temperature": temperature, "checkpoint": str(checkpoint_path), "forms": str(forms_path),
                     "test_tunes": len(test), "train_tunes": len(train), "valid_tunes": len(splits["valid"]), "long_bars": LONG_BARS,
                     "long_n": len(long_held_out), "served": served},
        "sets": {name: scalars(s) for name, s in results.items()},
        "held_out_vs_train": scalars(held_vs_train),
        "per_meter": {m: {k: (v if k == "n" else scalars(v)) for k, v in d.items()} for m, d in per_meter.items()},
        "bars16": {name: scalars(s) for name, s in long_results.items()},
        "style": style,
        "uniqueness": {"composer_count": len(sets["composer"]), "composer_distinct": distinct(sets["composer"], held_out),
                       "served": served_figures(served_composer, served_requests, index)},
        "reconstruction": recon,
        "drums": drum_figures(),
    }
    figures["seconds"] = time.monotonic() - started
    return figures


def drum_figures() -> dict | None:
    """The drum VAE's held-out figures as `python -m models.drum_training` measured them after training
    (stored in the checkpoint: recomputing them means rendering the mma library)."""
    path = checkpoint.CHECKPOINT_DIR / "drums.pt"
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)["meta"].get("held_out")


def json_ready(value):
    """Numbers as plain floats and ints, NaN as null (strict JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    return value


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="melodies per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE, help="the composer's sampling temperature")
    parser.add_argument("--checkpoint", type=Path, default=checkpoint.CHECKPOINT_DIR / "melody_vae.pt")
    parser.add_argument("--served", type=int, default=SERVED, help="pieces composed unseeded by Composer.compose")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    figures = json_ready(evaluate(args.n, args.seed, args.temperature, args.checkpoint, args.served))
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return figures


if __name__ == "__main__":
    main()
