"""The harmonizer on hand-made melodies, with the committed tables."""

import pytest

from game_server.music import Key, Meter, Note, Piece
from models.harmonizer import DEFAULT_PATH, Harmonizer, chord_fit, viterbi

import numpy as np


@pytest.fixture(scope="module")
def harmonizer() -> Harmonizer:
    return Harmonizer.load(DEFAULT_PATH)


def arpeggio(pitches, length=4):
    return [Note(i * length, (i + 1) * length, p) for i, p in enumerate(pitches)]


def test_committed_tables_load(harmonizer):
    assert harmonizer.meta["chorales"]["major"] > 100 and harmonizer.meta["chorales"]["minor"] > 50


def test_chords_cover_the_piece_without_gaps(harmonizer):
    melody = arpeggio([60, 64, 67, 72, 65, 69, 72, 77, 67, 71, 74, 79, 60, 64, 67, 72])
    chords = harmonizer.harmonize(melody, Key(0, "major"), Meter(4, 4), 4)
    assert chords[0].start == 0 and chords[-1].end == 64
    assert all(a.end == b.start for a, b in zip(chords, chords[1:]))
    Piece(tempo=100, meter=Meter(4, 4), key=Key(0, "major"), bars=4, melody=melody, chords=chords)


def test_an_arpeggio_gets_its_own_chord(harmonizer):
    """C-E-G-C, F-A-C-F, G-B-D-G, C-E-G-C: I IV V I."""
    melody = arpeggio([60, 64, 67, 72, 65, 69, 72, 77, 67, 71, 74, 79, 60, 64, 67, 72])
    chords = harmonizer.harmonize(melody, Key(0, "major"), Meter(4, 4), 4)
    by_bar = [next(c for c in chords if c.start <= bar * 16 < c.end) for bar in range(4)]
    assert [(c.root, c.quality) for c in by_bar] == [(0, "maj"), (5, "maj"), (7, "maj"), (0, "maj")]
    assert chord_fit(melody, chords) == 1.0


def test_transposing_melody_and_key_transposes_chords(harmonizer):
    melody = arpeggio([69, 72, 76, 81, 64, 68, 71, 76, 69, 72, 76, 81], 4)
    in_a = harmonizer.harmonize(melody, Key(9, "minor"), Meter(3, 4), 4)
    up = [Note(n.start, n.end, n.pitch + 2) for n in melody]
    in_b = harmonizer.harmonize(up, Key(11, "minor"), Meter(3, 4), 4)
    assert [((c.root + 2) % 12, c.quality, c.start) for c in in_a] == [(c.root, c.quality, c.start) for c in in_b]
    assert (in_a[-1].root, in_a[-1].quality) == (9, "min")  # ends on i


def test_viterbi_by_hand():
    """Two states; emissions favour 0 then 1; switching costs less than the emission gain."""
    start = np.log([0.5, 0.5])
    trans = np.log([[0.8, 0.2], [0.2, 0.8]])
    emissions = np.log([[0.1, 0.9]])
    assert viterbi(start + np.log([0.9, 0.1]), trans, emissions, np.zeros(2)) == [0, 1]
