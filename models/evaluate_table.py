"""The printed table of `python -m models.evaluate`, made from the same dict `--json` writes, so
the two never disagree."""

from __future__ import annotations

NAMES = ("held-out", "vae", "composer", "markov", "random")
HISTOGRAMS = (
    ("  pitch class (rel. to tonic)", "overlap_pitch_class"),
    ("  interval", "overlap_interval"),
    ("  duration", "overlap_duration"),
    ("  onset position in the bar", "overlap_onset_position"),
)
ROWS = (
    ("in-scale rate", "in_scale_rate", None),
    ("bars repeating an earlier bar", "repetition_share", "repetition_share"),
    ("  (transposed repeats too)", "repetition_share_transposed", None),
    ("notes per bar", "notes_per_bar", None),
    ("commonest bar rhythm's share (mean)", "rhythm_variety", "rhythm_variety"),
    ("range in semitones (median)", "pitch_range_median", "pitch_range"),
    ("copies >= 2 bars of a train tune", "copied_share_k2", None),
    ("copies >= 4 bars of a train tune", "copied_share_k4", None),
)
ENDINGS = (
    ("last note is the tonic", "ends_on_tonic"),
    ("last note lasts a beat or more", "ends_long"),
    ("last note approached by step", "approached_by_step"),
)
WIDTH = 37


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _row(label: str, cells) -> str:
    return f"{label:<{WIDTH}}" + "".join(f"{c:>11}" for c in cells)


def print_table(fig: dict) -> None:
    s, sets = fig["settings"], fig["sets"]
    print(f"Melodies: {s['n']} x {s['bars']} bars per set (meter, style, key copied from the held-out tunes); held-out = the first "
          f"{s['bars']} full bars of test-split tunes ({s['test_tunes']} tunes); train = {s['train_tunes']} tunes; temperature {s['temperature']}")
    print(_row("metric", NAMES) + "   tunes' band (10-90 %)")
    print("histogram overlap with held-out (1 = identical)")
    for label, key in HISTOGRAMS:
        print(_row(label, [_f(sets[n].get(key, 1.0 if n == "held-out" else None)) for n in NAMES]))
    for label, key, band in ROWS:
        digits = 1 if key == "pitch_range_median" else 3
        line = _row(label, [_f(sets[n][key], digits) for n in NAMES])
        if band:
            h = sets["held-out"]
            line += f"   {_f(h[f'{band}_p10'], digits)}-{_f(h[f'{band}_p90'], digits)}"
        print(line)
    t = fig["held_out_vs_train"]
    print(f"(train-split tunes of the same meters and styles, cut the same way, against held-out: pitch class {_f(t['overlap_pitch_class'])}, interval {_f(t['overlap_interval'])}, "
          f"duration {_f(t['overlap_duration'])}, onset position {_f(t['overlap_onset_position'])}: two real sets this large)")

    long = fig["bars16"]
    h = long["held-out"]
    print(f"\nRepetition at {s['long_bars']} bars ({s['long_n']} test tunes with >= {s['long_bars']} full bars, their first {s['long_bars']}; "
          f"as many pieces per set): bars repeating an earlier bar")
    print(f"  held-out {_f(h['repetition_share'])} (tunes' band {_f(h['repetition_share_p10'])}-{_f(h['repetition_share_p90'])}), "
          f"composer {_f(long['composer']['repetition_share'])}, markov {_f(long['markov']['repetition_share'])}")

    print(f"\nEndings of whole pieces, against tune ends = the last {s['bars']} bars of the same held-out tunes "
          f"(openings = their first {s['bars']} bars: how a cut that is no ending looks)")
    served = fig["uniqueness"]["served"]
    columns = {"tune ends": sets["tune ends"], "openings": sets["held-out"], "vae": sets["vae"], "composer": sets["composer"],
               "composer 16": long["composer"], "served": served, "markov": sets["markov"], "random": sets["random"]}
    print(f"{'':<{WIDTH}}" + "".join(f"{c:>12}" for c in columns))
    for label, key in ENDINGS:
        print(f"{label:<{WIDTH}}" + "".join(f"{_f(c[key]):>12}" for c in columns.values()))

    print("\nHistogram overlaps per meter, each against held-out tunes of that meter (pitch class / interval / duration / onset position);")
    print("train tunes = as many train-split tunes of the same meters and styles: what two real sets this small share")
    print(f"{'meter':<7}{'n':>5}   {'composer':<25}{'markov':<25}{'train tunes':<25}")
    for meter, d in fig["per_meter"].items():
        cells = ["/".join(_f(d[name][key], 2) for _, key in HISTOGRAMS) for name in ("composer", "markov", "train tunes")]
        print(f"{meter:<7}{d['n']:>5}   " + "".join(f"{c:<25}" for c in cells))

    st = fig["style"]
    styles = list(st["accuracy"]["test tunes"])
    print(f"\nStyle classifier (logistic regression on the first {s['bars']} bars of {st['fit_on_valid_tunes']} valid-split tunes): "
          "share of style X classified as X")
    print(f"{'style':<10}" + "".join(f"{name + ' (n)':>20}" for name in st["accuracy"]) + "   composer pieces classified as " + " / ".join(styles))
    for style in styles:
        cells = [f"{_f(st['accuracy'][name][style])} ({st['n'][name][style]})" for name in st["accuracy"]]
        row = st["confusion"]["composer"][style]
        print(f"{style:<10}" + "".join(f"{c:>20}" for c in cells) + "   " + " / ".join(str(row[p]) for p in styles))

    u = fig["uniqueness"]
    print(f"\nUniqueness: composer set {u['composer_distinct']} distinct of {u['composer_count']} (distinct seeds; compared relative to the tonic); "
          f"served unseeded by Composer.compose: {served['distinct']} distinct of {served['count']}, "
          f"4-bar copies of a train tune served: {served['copies_k4']} (2-bar: {served['copies_k2']})")

    print(f"\nReconstruction of held-out windows (z = posterior mean, greedy decoding){'':<6}{'steps':>8}{'onsets':>8}{'MusicVAE steps':>16}")
    for bars, r in fig["reconstruction"].items():
        print(f"  {bars:>2}-bar melody{'':<63}{_f(r['all_steps']):>8}{_f(r['note_onsets']):>8}{_f(r['musicvae_all_steps'], 2):>16}")
    if fig["drums"]:
        from .drum_evaluation import evaluation_report

        print("\n" + "\n".join(evaluation_report(figures=fig["drums"])))
    print(f"evaluated in {fig['seconds']:.0f} s")
