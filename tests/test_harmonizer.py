"""The harmonizer: the committed tables, hand-made melodies, hand-made chorales for fitting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from models.corpus import ChoraleChords
from models.harmonizer import (
    DEFAULT_PATH,
    METHOD,
    STATES,
    VERSION,
    Harmonizer,
    chord_fit,
    fit_harmonizer,
    load_default,
    slot_length,
    viterbi,
)
from music import Chord, Key, Meter, Note, Piece
from tests.strategies import pieces

C, D, E, F, G, A, B = 60, 62, 64, 65, 67, 69, 71


@pytest.fixture(scope="module")
def harmonizer() -> Harmonizer:
    return load_default()


def line(spec, unit: int = 4) -> list[Note]:
    """[(pitch, length in units)] played one after another from step 0."""
    notes, step = [], 0
    for pitch, length in spec:
        notes.append(Note(step, step + length * unit, pitch))
        step += length * unit
    return notes


def chord_at(chords, step: int) -> tuple[int, str]:
    chord = next(c for c in chords if c.start <= step < c.end)
    return chord.root, chord.quality


def assert_covers(chords, total: int) -> None:
    assert chords and chords[0].start == 0 and chords[-1].end == total
    assert all(a.end == b.start for a, b in zip(chords, chords[1:]))
    assert all(c.start < c.end for c in chords)
    assert all((a.root, a.quality) != (b.root, b.quality) for a, b in zip(chords, chords[1:])), "equal neighbours merge"


# ---- the committed tables ----------------------------------------------------------------------


def test_committed_tables_load():
    harmonizer = Harmonizer.load(DEFAULT_PATH)
    assert harmonizer.meta["chorales"]["major"] > 100 and harmonizer.meta["chorales"]["minor"] > 50
    assert set(harmonizer.tables) == {"major", "minor"}
    assert load_default() is load_default()  # read once per process
    import json

    blob = json.loads(DEFAULT_PATH.read_text())
    assert blob["method"] == METHOD and blob["version"] == VERSION and blob["chorales"] == harmonizer.meta["chorales"]


def test_learned_tables_are_distributions(harmonizer):
    for tables in harmonizer.tables.values():
        off_diagonal = np.exp(tables.change) * (1 - np.eye(len(STATES)))
        assert np.allclose(off_diagonal.sum(axis=1), 1.0, atol=1e-3)
        assert np.allclose(np.exp(tables.transition).sum(axis=1), 1.0, atol=1e-3)
        assert np.allclose(np.exp(tables.initial).sum(), 1.0, atol=1e-3)
        assert np.allclose(np.exp(tables.emission).sum(axis=1), 1.0, atol=1e-3)
        assert np.all((tables.stay > 0) & (tables.stay < 1))
    # cadences: the chorales end on the tonic triad (Picardy thirds counted as i in minor)
    assert STATES[int(np.argmax(harmonizer.tables["major"].final))] == (0, "maj")
    assert STATES[int(np.argmax(harmonizer.tables["minor"].final))] == (0, "min")


# ---- harmonizing -------------------------------------------------------------------------------


@settings(max_examples=40)
@given(pieces(max_bars=16))
def test_chords_cover_the_piece_and_make_a_valid_piece(piece):
    chords = load_default().harmonize(piece.melody, piece.key, piece.meter, piece.bars)
    assert_covers(chords, piece.total_steps)
    assert all(c.start % slot_length(piece.meter) == 0 for c in chords)
    Piece(tempo=piece.tempo, meter=piece.meter, key=piece.key, bars=piece.bars, melody=piece.melody, chords=chords)


@pytest.mark.parametrize("meter", [Meter(4, 4), Meter(3, 4), Meter(6, 8), Meter(2, 4), Meter(12, 8), Meter(5, 4)])
def test_an_empty_melody_rests_on_the_tonic(harmonizer, meter):
    for key in (Key(2, "major"), Key(9, "minor")):
        chords = harmonizer.harmonize([], key, meter, 3)
        assert_covers(chords, 3 * meter.steps_per_bar)
        assert (chords[-1].root, chords[-1].quality) == (key.tonic, "maj" if key.mode == "major" else "min")


def test_an_arpeggio_gets_its_own_chord(harmonizer):
    """C-E-G-C, F-A-C-F, G-B-D-G, C-E-G-C in quarters: I IV V I, a chord per bar."""
    melody = line([(p, 1) for p in (C, E, G, 72, F, A, 72, 77, G, B, 74, 79, C, E, G, 72)])
    chords = harmonizer.harmonize(melody, Key(0, "major"), Meter(4, 4), 4)
    assert_covers(chords, 64)
    for step, expected in zip(range(0, 64, 8), [(0, "maj")] * 2 + [(5, "maj")] * 2 + [(7, "maj")] * 2 + [(0, "maj")] * 2):
        assert chord_at(chords, step) == expected
    assert chord_fit(melody, chords) == 1.0


@pytest.mark.parametrize("key", [Key(0, "major"), Key(7, "major"), Key(5, "major"), Key(9, "minor"), Key(4, "minor")])
def test_a_c_major_arpeggio_gets_c_major_in_any_key_it_belongs_to(harmonizer, key):
    """Tonic arpeggio | C-E-G-C | dominant arpeggio | tonic: the C-E-G-C bar is I in C, IV in G,
    V in F, III in A minor, VI in E minor, and always gets the C triad."""
    third = 4 if key.mode == "major" else 3
    tonic = 60 + key.tonic

    def triad(root: int, third: int) -> list[int]:
        return [root, root + third, root + 7, root + 12]

    pitches = triad(tonic, third) + triad(C, 4) + triad(tonic + 7, 4) + [tonic + 12]
    melody = line([(p, 1) for p in pitches[:-1]] + [(pitches[-1], 4)])
    chords = harmonizer.harmonize(melody, key, Meter(4, 4), 4)
    assert chord_at(chords, 16) == (0, "maj") and chord_at(chords, 24) == (0, "maj")
    assert chord_at(chords, 32) == ((key.tonic + 7) % 12, "maj")
    assert chords[-1].root == key.tonic


def test_a_c_major_scale_starts_and_ends_on_c_major(harmonizer):
    melody = line([(p, 1) for p in (C, D, E, F, G, A, B, 72)])
    chords = harmonizer.harmonize(melody, Key(0, "major"), Meter(4, 4), 2)
    assert chord_at(chords, 0) == (0, "maj")  # the slot where C, then D sound
    assert (chords[-1].root, chords[-1].quality) == (0, "maj")
    assert chord_fit(melody, chords, Meter(4, 4)) == 0.75  # beats 1 and 3: C, E, G fit; B under C does not


def test_a_minor_melody_ends_with_a_cadence_on_a_minor(harmonizer):
    """A-C-E-C | D-F-A-F | E-G#-B-G# | A: the leading tone asks for E major, then i."""
    melody = line([(p, 1) for p in (69, 72, 76, 72, 74, 77, 81, 77, 76, 80, 83, 80)] + [(81, 4)])
    chords = harmonizer.harmonize(melody, Key(9, "minor"), Meter(4, 4), 4)
    assert (chords[-1].root, chords[-1].quality) == (9, "min")
    assert (chords[-2].root, chords[-2].quality) == (4, "maj")
    assert chord_at(chords, 0) == (9, "min")


def test_a_held_tonic_closes_on_i_not_on_the_picardy_third(harmonizer):
    melody = line([(76, 2), (74, 1), (72, 1), (71, 2), (69, 2), (72, 1), (71, 1), (69, 1), (68, 1), (69, 4)])
    chords = harmonizer.harmonize(melody, Key(9, "minor"), Meter(4, 4), 4)
    assert (chords[-1].root, chords[-1].quality) == (9, "min")


@pytest.mark.parametrize("meter", [Meter(4, 4), Meter(3, 4), Meter(6, 8)])
def test_transposing_melody_and_key_transposes_the_chords(harmonizer, meter):
    rng = np.random.default_rng(7)
    steps = meter.steps_per_bar
    starts = np.sort(rng.choice(np.arange(1, 4 * steps), 14, replace=False))
    bounds = [0, *starts.tolist(), 4 * steps]
    melody = [Note(s, e, int(p)) for s, e, p in zip(bounds, bounds[1:], rng.choice([60, 62, 64, 65, 67, 69, 71, 72], 15))]
    for mode in ("major", "minor"):
        base = harmonizer.harmonize(melody, Key(0, mode), meter, 4)
        for shift in range(1, 12):
            moved = harmonizer.harmonize([Note(n.start, n.end, n.pitch + shift) for n in melody], Key(shift, mode), meter, 4)
            assert [Chord(c.start, c.end, (c.root + shift) % 12, c.quality) for c in base] == list(moved)


def test_notes_past_the_end_and_unsorted_input_are_handled(harmonizer):
    melody = [Note(8, 40, 67), Note(0, 8, 64)]  # unsorted; rings past 2 bars of 2/4 (16 steps)
    chords = harmonizer.harmonize(melody, Key(0, "major"), Meter(2, 4), 2)
    assert_covers(chords, 16)


# ---- chord_fit ---------------------------------------------------------------------------------


def test_chord_fit_by_hand():
    melody = line([(C, 1), (D, 1), (E, 1), (F, 1)])  # one bar of quarters
    chords = [Chord(0, 16, 0, "maj")]
    assert chord_fit(melody, chords) == 0.5  # C and E of C, D, E, F
    assert chord_fit(melody, chords, Meter(4, 4)) == 1.0  # beats 1 and 3: C and E
    assert chord_fit(melody, [Chord(0, 8, 2, "min"), Chord(8, 16, 0, "maj")], Meter(4, 4)) == 0.5  # C not in D minor
    assert np.isnan(chord_fit([], chords))
    assert chord_fit([Note(0, 8, 62)], [Chord(0, 4, 7, "maj")]) == 1.0  # steps without a chord are left out


# ---- fitting -----------------------------------------------------------------------------------


def chorale(key, chords, soprano, pickup=0, beats_per_bar=4) -> ChoraleChords:
    return ChoraleChords("hand", key, beats_per_bar, pickup, chords, np.array(soprano, dtype=np.int8), 0)


I, IV, V, i, iv, ii_dim = (0, "maj"), (5, "maj"), (7, "maj"), (0, "min"), (5, "min"), (2, "dim")  # noqa: E741 (Roman numerals)
HAND_MADE = [
    chorale((0, "major"), [I, I, IV, IV, V, V, I, I], [0, 4, 5, 9, 7, 11, 0, 0]),
    chorale((7, "major"), [I, IV, I, V, V, I, (0, "aug"), I], [4, 5, 4, 2, 7, 0, 0, 0], pickup=1),
    chorale((9, "minor"), [i, i, iv, ii_dim, V, V, (0, "maj"), (0, "maj")], [3, 7, 8, 5, 2, 11, 0, 0]),
    chorale((2, "minor"), [i, iv, V, i, i, V, i, i], [0, 0, 11, 0, 3, 2, 3, -1], beats_per_bar=3),
]


def test_fit_counts_hand_made_chorales(tmp_path):
    fitted = fit_harmonizer(HAND_MADE)
    assert fitted.meta["chorales"] == {"major": 2, "minor": 2}
    major, minor = fitted.tables["major"], fitted.tables["minor"]
    index = {state: n for n, state in enumerate(STATES)}
    # changes: I->IV twice, I->V once, IV->V once, IV->I once, V->I twice; add-one over the 35 others
    assert np.exp(major.change[index[I], index[IV]]) == pytest.approx(3 / (3 + 35))
    assert np.exp(major.change[index[V], index[I]]) == pytest.approx(3 / (2 + 35))
    assert np.exp(major.initial[index[I]]) == pytest.approx(3 / (2 + 36))
    # the Picardy ending of the first minor chorale is counted as i
    assert np.exp(minor.final[index[i]]) == pytest.approx(3 / (2 + 36))
    # the soprano on the beat: the root of I twice... its chord tones beat the others
    assert major.emission[0, 0] > major.emission[0, 1] and minor.emission[1, 3] > minor.emission[1, 4]
    # save / load round trip decodes the same
    path = tmp_path / "harmonizer.json"
    fitted.save(path)
    loaded = Harmonizer.load(path)
    melody = line([(C, 1), (E, 1), (F, 1), (A, 1), (G, 1), (B, 1), (72, 2)])
    assert loaded.harmonize(melody, Key(0, "major"), Meter(4, 4), 2) == fitted.harmonize(melody, Key(0, "major"), Meter(4, 4), 2)


def test_fit_needs_both_modes():
    with pytest.raises(ValueError):
        fit_harmonizer(HAND_MADE[:2])


def test_load_refuses_other_versions(tmp_path):
    path = tmp_path / "old.json"
    path.write_text('{"method": "something else", "version": 1}')
    with pytest.raises(ValueError):
        Harmonizer.load(path)
    with pytest.raises(FileNotFoundError):
        Harmonizer.load(tmp_path / "missing.json")


def test_viterbi_by_hand():
    """Two states; emissions favour 0 then 1; switching costs less than the emission gain."""
    start = np.log([0.5, 0.5]) + np.log([0.9, 0.1])
    trans = np.log([[0.8, 0.2], [0.2, 0.8]])
    assert viterbi(start, trans, np.log([[0.1, 0.9]]), np.zeros(2)) == [0, 1]
    assert viterbi(start, trans, np.log([[0.4, 0.6]]), np.zeros(2)) == [0, 0]  # too weak to switch
