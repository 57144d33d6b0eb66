"""models/evaluate.py: the excerpts it compares against, and one small run of the whole table."""

import json
import math

import numpy as np
import pytest

from models.corpus import Tune
from models.evaluate import distinct, ending, main, matched, opening
from models.evaluate_table import ENDINGS, HISTOGRAMS, ROWS
from models.style_classifier import STYLES


def tune(notes, meter=(3, 4), pickup=0, style="irish", key=(2, "major")):
    return Tune("t/x/0", "oneills1850", style, meter, key, pickup, np.array(notes, dtype=np.int16))


# 3/4 with a one-beat pickup (steps 8..12 of bar 0), then bars 1..4; the last bar is short (8 steps)
PICKUP_TUNE = tune(
    [(62, 8, 12), (64, 12, 16), (66, 16, 24), (67, 24, 28), (69, 28, 36), (71, 36, 40), (69, 40, 44), (66, 44, 48), (62, 48, 56)],
    pickup=4,
)


def test_opening_skips_the_pickup_bar():
    notes = opening(PICKUP_TUNE, 2)
    assert notes.tolist() == [[64, 0, 4], [66, 4, 12], [67, 12, 16], [69, 16, 24]]  # bars 1..2, moved to bar 0
    assert opening(PICKUP_TUNE, 4)[:, 1].tolist() == [0, 4, 12, 16, 24, 28, 32, 36]
    assert opening(PICKUP_TUNE, 5) is None
    no_pickup = tune([(60, 0, 12), (62, 12, 30)])
    assert opening(no_pickup, 2).tolist() == [[60, 0, 12], [62, 12, 24]]  # the note ringing past the end is cut


def test_ending_is_the_tunes_last_bars():
    notes = ending(PICKUP_TUNE, 2)  # the last note starts in bar 4: bars 3..4
    assert notes[:, 1].tolist() == [0, 4, 8, 12]
    assert notes[-1].tolist() == [62, 12, 20]  # as written, short last bar included
    assert ending(PICKUP_TUNE, 4).shape[0] == 8  # bars 1..4: the pickup left out
    assert ending(PICKUP_TUNE, 5) is None


def test_matched_answers_the_same_requests_with_other_tunes():
    rng = np.random.default_rng(0)
    pool = [{"meter": m, "style": s, "id": i} for i, (m, s) in enumerate([("3/4", "irish")] * 3 + [("6/8", "essen")] * 2)]
    requests = [{"meter": "6/8", "style": "essen"}] * 3 + [{"meter": "3/4", "style": "irish"}] * 2
    got = matched(pool, requests, rng)
    assert [(g["meter"], g["style"]) for g in got] == [(r["meter"], r["style"]) for r in requests]
    assert len({g["id"] for g in got[:2]}) == 2 and got[2]["id"] == got[0]["id"]  # reused only once the group runs out
    assert len({g["id"] for g in got[3:]}) == 2


def test_distinct_compares_relative_to_the_tonic():
    a = np.array([(60, 0, 4), (62, 4, 8)])
    requests = [{"spb": 8, "key": (0, "major")}, {"spb": 8, "key": (5, "major")}, {"spb": 16, "key": (0, "major")}]
    assert distinct([a, a + [5, 0, 0], a], requests) == 2  # the same tune a fourth up counts once; another meter not


@pytest.mark.slow  # the whole corpus (parsed once, ~20 s on a fresh clone, then cached) and every model: ~15 s
def test_a_small_run_reports_every_figure(tmp_path, capsys):
    path = tmp_path / "figures.json"
    figures = main(["-n", "20", "--served", "5", "--json", str(path)])
    printed = capsys.readouterr().out
    assert json.loads(path.read_text()) == figures

    def share(value):
        return value is None or 0.0 <= value <= 1.0 + 1e-9  # None: undefined (NaN) for this sample; overlaps sum floats

    sets = figures["sets"]
    assert set(sets) == {"held-out", "vae", "composer", "markov", "random", "tune ends"}
    for name, summary in sets.items():
        assert summary["n"] == 20
        for key in [k for _, k in HISTOGRAMS] + [k for _, k, _ in ROWS if k not in ("pitch_range_median", "notes_per_bar") and "copied" not in k] + [k for _, k in ENDINGS]:
            assert share(summary[key]), (name, key)
        assert 0 <= summary["pitch_range_median"] <= 48 and summary["pitch_range_p10"] <= summary["pitch_range_p90"]
        assert summary["rhythm_variety_p10"] <= summary["rhythm_variety_p90"]
    for name in ("held-out", "vae", "composer", "markov", "random"):
        assert share(sets[name]["copied_share_k2"]) and share(sets[name]["copied_share_k4"])
    assert all(sets["held-out"][k] == pytest.approx(1.0) for _, k in HISTOGRAMS)
    for summary in [figures["held_out_vs_train"], *figures["bars16"].values()]:
        assert all(share(summary[k]) for _, k in HISTOGRAMS)
    assert set(figures["bars16"]) == {"held-out", "composer", "markov"}
    assert figures["bars16"]["held-out"]["repetition_share_p10"] <= figures["bars16"]["held-out"]["repetition_share_p90"]
    assert sum(d["n"] for d in figures["per_meter"].values()) == 20
    for d in figures["per_meter"].values():
        assert {"composer", "markov", "train tunes"} <= set(d) and all(share(d[s][k]) for s in ("composer", "markov", "train tunes") for _, k in HISTOGRAMS)

    style = figures["style"]
    assert set(style["accuracy"]) == {"test tunes", "composer", "markov"}
    for name, accuracy in style["accuracy"].items():
        assert list(accuracy) == list(STYLES) and all(share(a) for a in accuracy.values())
        for s in STYLES:
            assert sum(style["confusion"][name][s].values()) == style["n"][name][s]
    assert all(style["n"]["composer"][s] == 10 for s in STYLES)

    unique = figures["uniqueness"]
    assert unique["composer_distinct"] == unique["composer_count"] == 20  # distinct seeds give distinct melodies
    served = unique["served"]
    assert served["count"] == 5 and served["distinct"] == 5
    assert served["copies_k4"] == 0  # the memorization filter: never served
    assert all(share(served[k]) for _, k in ENDINGS)
    for bars, r in figures["reconstruction"].items():
        assert 0 < r["all_steps"] <= 1 and 0 <= r["note_onsets"] <= 1 and r["musicvae_all_steps"] == {"2": 0.95, "16": 0.81}[bars]
    for label in [label for label, _ in HISTOGRAMS] + [label for label, _, _ in ROWS] + [label for label, _ in ENDINGS]:
        assert label in printed
    assert "Style classifier" in printed and "4-bar copies of a train tune served: 0" in printed
    assert not math.isnan(figures["seconds"])
