"""Slicing: parts concatenate back to the piece, every note lands in exactly one part, and the
content key is equal exactly when two parts sound the same."""

from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from music import Key, Meter, Note, Piece, PieceError, concatenate, content_key, slice_piece

from .strategies import pieces


@st.composite
def piece_and_cuts(draw):
    piece = draw(pieces(max_bars=16))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, piece.bars - 1)), max_size=6)))
    cuts = [c for c in cuts if 0 < c < piece.bars]
    return piece, cuts


@given(piece_and_cuts())
def test_parts_concatenate_back_to_the_piece(case):
    piece, cuts = case
    parts = slice_piece(piece, cuts=cuts)
    assert len(parts) == len(cuts) + 1
    assert sum(p.bars for p in parts) == piece.bars
    assert concatenate(parts) == piece


@given(piece_and_cuts())
def test_every_note_in_exactly_one_part_the_one_it_starts_in(case):
    piece, cuts = case
    parts = slice_piece(piece, cuts=cuts)
    offsets = [0] + [c * piece.steps_per_bar for c in cuts]
    placed = [replace(n, start=n.start + off, end=n.end + off) for part, off in zip(parts, offsets) for n in part.melody]
    assert sorted(placed) == list(piece.melody)  # each once, none lost, none invented
    for part in parts:
        assert all(n.start < part.total_steps for n in part.melody)


@given(pieces(bars=8), st.sampled_from([1, 2, 4, 8]))
def test_equal_parts(piece, n):
    parts = slice_piece(piece, parts=n)
    assert [p.bars for p in parts] == [8 // n] * n


def test_crossing_note_belongs_to_the_part_it_starts_in():
    piece = Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=2, melody=[Note(12, 20, 60), Note(20, 24, 62)])
    first, second = slice_piece(piece, parts=2)
    assert first.melody == (Note(12, 20, 60),)  # rings 4 steps past its part's end
    assert second.melody == (Note(4, 8, 62),)


def test_bad_cuts_refused():
    piece = Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=4)
    with pytest.raises(PieceError, match="do not divide into 3"):
        slice_piece(piece, parts=3)
    with pytest.raises(PieceError, match="strictly increasing"):
        slice_piece(piece, cuts=[2, 2])
    with pytest.raises(PieceError, match="strictly increasing"):
        slice_piece(piece, cuts=[4])


@given(pieces(max_bars=4))
def test_content_key_ignores_position_and_tempo(piece):
    """A part moved to another place in a piece (or another tempo) keeps its key."""
    assume(all(e.end <= piece.total_steps for e in piece.melody + piece.chords))  # no tail to collide
    doubled = concatenate([piece, piece.with_tempo(piece.tempo)])
    first, second = slice_piece(doubled, parts=2)
    assert content_key(first) == content_key(second) == content_key(piece.with_tempo(200))


@given(pieces(max_bars=4), pieces(max_bars=4))
def test_content_key_differs_when_the_sound_differs(a, b):
    same_sound = (str(a.meter), a.bars, a.melody, a.chords, a.drums) == (str(b.meter), b.bars, b.melody, b.chords, b.drums)
    assert (content_key(a) == content_key(b)) == same_sound


@given(pieces(max_bars=4))
def test_content_key_sees_a_single_changed_note(piece):
    assume(piece.melody)
    first = piece.melody[0]
    changed = replace(piece, melody=(replace(first, pitch=(first.pitch + 1) % 128),) + piece.melody[1:])
    assert content_key(changed) != content_key(piece)
