"""models.corpus on small inputs: synthetic ABC tunes, the first Essen file of the music21 corpus
(313 tunes, ~1 s to parse), three Bach chorales, one mma groove file."""

import json
import time
from collections import Counter

import numpy as np
import pytest

from models import corpus
from models.corpus import (
    corpus_stats,
    load_chorale_chords,
    load_folk_tunes,
    load_folk_tunes_with_skips,
    normal_meter,
    parse_tune,
    provenance,
    split_abc,
    split_of,
)


def tune(body: str, meter: str = "4/4", length: str = "1/8", key: str = "G", collection: str = "miscFolk"):
    counts = Counter()
    found = parse_tune(f"X:1\nT:t\nM:{meter}\nL:{length}\nK:{key}\n{body}\n", "miscFolk/t/0", collection, counts)
    return found, counts


# ---- one tune at a time -----------------------------------------------------------------------


def test_a_plain_tune_lands_on_the_16th_grid():
    t, _ = tune("GABc d2e2|f2g2 a4|]")
    assert t.notes.dtype == np.int16 and t.notes.shape == (9, 3)
    assert t.notes[:, 1].tolist() == [0, 2, 4, 6, 8, 12, 16, 20, 24] and t.notes[-1, 2] == 32
    assert t.meter == (4, 4) and t.pickup_steps == 0 and t.key == (7, "major") and t.style == "misc"


def test_pickup_with_a_trailing_rest_moves_the_first_bar_line():
    # 3/4: the first bar holds A (an 8th) and an 8th rest = 4 steps of the 12 a bar has
    t, _ = tune("A z|d2 f2 a2|g2 e2 c2|d6|]", meter="3/4", key="D")
    assert t.pickup_steps == 4
    assert t.notes[0, 1] == 12 - 4 and t.notes[1, 1] == 12  # the first full bar starts on a bar line


def test_skyline_keeps_the_top_note_and_cuts_at_the_next_onset():
    t, counts = tune("[GB]4 A4|c2d2e2f2|g2a2b2c'2|d'8|]")  # a chord on 1 of 11 onsets: a tune, not polyphony
    assert t.notes[:2, 0].tolist() == [71, 69] and t.notes[0, 2] == 8
    assert counts["notes dropped: lower notes of chords"] == 1


def test_triplets_are_rounded_and_counted():
    t, counts = tune("(3ABc d2 e4|f2g2a2b2|c'8|]")
    assert counts["notes moved by quantizing: triplets"] == 2
    assert t.notes[:3, 1].tolist() == [0, 1, 3]  # 0, 1.33, 2.67 steps, rounded


def test_chord_symbols_grace_notes_and_trills_are_not_melody():
    t, _ = tune('"G"G2 {AB}A2 TB2 c2|"D"d8|e8|f8|g8|]')
    assert [int(p) for p in t.notes[:4, 0]] == [67, 69, 71, 72] and t.notes[:4, 1].tolist() == [0, 4, 8, 12]


@pytest.mark.parametrize(
    "body, meter, reason",
    [
        ("ABcd efga|bagf edcB|]", "none", "no or free meter"),
        ("ABcd efga|[M:3/4]bagf ed|]", "4/4", "meter change"),
        ("ABc d2 e2|f8|]", "4/4", "fewer than 8 notes"),
        ("A/B/c/d/e/f/g/a/ b/a/g/f/e/d/c/B/|A8|]", "4/4", "off the 16th grid"),
        ("[GBd]2[GBd]2 [Ace]2[Ace]2|[GBd]2[GBd]2 [Ace]2[Ace]2|]", "4/4", "polyphonic"),
        ("V:1\nABcd efga|bagf edcB|]\nV:2\nGABc defg|agfe dcBA|]", "4/4", "several voices"),
    ],
)
def test_skips_are_counted_by_reason(body, meter, reason):
    found, counts = tune(body, meter=meter, length="1/16" if reason == "off the 16th grid" else "1/8")
    assert found is None and counts[f"skipped: {reason}"] == 1


@pytest.mark.parametrize(
    "field, expected",
    [("G", (7, "major")), ("Gm", (7, "minor")), ("Ador", (9, "minor")), ("A Mixolydian", (9, "major")), ("F#m", (6, "minor")), ("Bb", (10, "major"))],
)
def test_key_comes_from_the_k_field_with_its_mode(field, expected):
    t, _ = tune("ABcd efga|bagf edcB|]", key=field)
    assert t.key == expected


def test_key_is_estimated_where_the_k_field_names_none():
    t, counts = tune("CDEF GABc|BAGF EDC2|CEGc G2C2|]", key="none")
    assert t.key == (0, "major") and counts["keys estimated"] == 1


@pytest.mark.parametrize("meter, expected", [((4, 2), ((4, 4), 2)), ((3, 1), ((3, 4), 4)), ((6, 4), ((6, 8), 2)), ((2, 2), ((4, 4), 1)), ((2, 4), ((2, 4), 1)), ((3, 8), ((3, 8), 1))])
def test_long_value_meters_are_read_at_the_usual_beat(meter, expected):
    assert normal_meter(*meter) == expected


def test_split_is_deterministic_and_roughly_80_10_10():
    ids = [f"c/f/{i}" for i in range(5000)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]
    share = Counter(splits)
    assert 0.77 < share["train"] / 5000 < 0.83 and 0.08 < share["valid"] / 5000 < 0.12 and 0.08 < share["test"] / 5000 < 0.12


def test_abc_file_split_keeps_each_tune_and_the_file_header():
    parts = split_abc("%comment\nL:1/16\n\nX:1\nT:a\nM:2/4\nK:C\nCD|\n\nX:2\nT:b\nM:3/4\nK:G\nGAB|\n")
    assert len(parts) == 2 and parts[0].startswith("L:1/16\nX:1") and "X:2" in parts[1] and "X:1" not in parts[1]


# ---- the first Essen file -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def essen(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    tunes, counts = load_folk_tunes_with_skips(cache, limit_files=1, progress=False)
    return cache, tunes, counts


def test_essen_tunes_are_sorted_monophonic_lines(essen):
    _, tunes, counts = essen
    assert len(tunes) > 300 and counts["tunes seen"] == 313
    for t in tunes:
        n = t.notes
        assert n.dtype == np.int16 and n.ndim == 2 and n.shape[1] == 3 and len(n) >= 8
        assert (n[:, 2] > n[:, 1]).all() and (n[1:, 1] >= n[:-1, 2]).all() and n[0, 1] >= 0
        assert 0 <= t.key[0] < 12 and t.key[1] in ("major", "minor") and t.style == "essen"
        assert 0 <= t.pickup_steps < t.steps_per_bar


def test_hildebrandslied(essen):
    _, tunes, _ = essen
    first = next(t for t in tunes if t.tune_id == "essenFolksong/altdeu10/0")
    # M: 4/2 read as 4/4 at half the values; a half-note pickup (G2 |) = 4 steps; K: G with _B = G minor
    assert first.meter == (4, 4) and first.pickup_steps == 4 and first.notes[0, 1] == 12
    assert first.key == (7, "minor")


def test_second_load_comes_from_the_cache(essen, monkeypatch):
    cache, tunes, _ = essen
    monkeypatch.setattr(corpus, "parse_tune", lambda *a: pytest.fail("parsed again"))
    started = time.monotonic()
    again = load_folk_tunes(cache, limit_files=1, progress=False)
    assert time.monotonic() - started < 2.0
    assert [t.tune_id for t in again] == [t.tune_id for t in tunes]


def test_stats_and_provenance_are_json_and_name_every_collection(essen):
    _, tunes, counts = essen
    stats = corpus_stats(tunes, counts)
    assert stats["tunes"] == len(tunes) and sum(stats["by_split"].values()) == len(tunes)
    assert stats["skipped"]["no or free meter"] == 313 - len(tunes)
    info = json.loads(json.dumps(provenance(tunes, counts)))
    assert set(info["collections"]) == set(corpus.STYLES)
    assert info["collections"]["essenFolksong"]["tunes_used"] == len(tunes)
    assert info["non_commercial_collections"] == ["essenFolksong"]
    assert "Schaffrath" in info["collections"]["essenFolksong"]["stated_in_corpus"]


# ---- chorales and drums ---------------------------------------------------------------------------


def test_three_chorales_give_one_chord_and_one_soprano_pitch_per_beat(tmp_path):
    chorales = load_chorale_chords(tmp_path, limit=3)
    assert [c.chorale_id for c in chorales] == ["bwv1.6", "bwv10.7", "bwv101.7"]
    assert chorales[0].key == (5, "major") and chorales[0].chords[0] == (0, "maj")  # F major, opening on I
    for c in chorales:
        assert len(c.chords) == len(c.soprano) > 40 and c.beats_per_bar == 4
        assert all(0 <= root < 12 and quality in ("maj", "min", "dim", "aug") for root, quality in c.chords)
        assert c.soprano.dtype == np.int8 and c.soprano.min() >= -1 and c.soprano.max() < 12
    assert load_chorale_chords(tmp_path, limit=3)[0].chords == chorales[0].chords  # from the cache
