"""Cutting a piece into parts at bar lines, putting parts back together, and telling equal parts.

The rule for a note (or chord) that crosses a cut: it belongs to the part in which it *starts*,
and keeps its full length there, ringing past the part's last bar line the way a tied note rings
into the next bar. So every note is in exactly one part, and concatenating the parts gives back
the piece exactly. Drum hits last one step and never cross a cut. A part starts at the tempo and
with the instruments of its first bar and keeps the changes inside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from .piece import Piece, PieceError, changes_of


def cut_points_for(piece: Piece, parts: int) -> list[int]:
    """Bar numbers at which to cut `piece` into `parts` equal parts (bars must divide evenly)."""
    if not isinstance(parts, int) or parts < 1:
        raise PieceError(f"parts must be a positive integer, got {parts!r}")
    if piece.bars % parts:
        raise PieceError(f"{piece.bars} bars do not divide into {parts} equal parts")
    size = piece.bars // parts
    return [size * i for i in range(1, parts)]


def slice_piece(piece: Piece, parts: int | None = None, cuts: list[int] | None = None) -> list[Piece]:
    """Cut `piece` into equal `parts`, or at the given bar numbers `cuts` (strictly increasing)."""
    if (parts is None) == (cuts is None):
        raise PieceError("give either parts or cuts")
    if cuts is None:
        cuts = cut_points_for(piece, parts)
    if any(not isinstance(c, int) for c in cuts) or list(cuts) != sorted(set(cuts)) or any(not 0 < c < piece.bars for c in cuts):
        raise PieceError(f"cuts must be strictly increasing bar numbers between 1 and {piece.bars - 1}, got {cuts}")
    spb = piece.steps_per_bar
    bounds = [0, *cuts, piece.bars]
    result = []
    for first_bar, end_bar in zip(bounds, bounds[1:]):
        lo, hi = first_bar * spb, end_bar * spb
        result.append(
            replace(
                piece,
                bars=end_bar - first_bar,
                tempo=piece.tempo_at(first_bar),
                tempo_changes=tuple((bar - first_bar, tempo) for bar, tempo in piece.tempo_changes if first_bar < bar < end_bar),
                instruments=piece.instruments_at(lo),
                instrument_changes=tuple((bar - first_bar, sounds) for bar, sounds in piece.instrument_changes if first_bar < bar < end_bar),
                melody=tuple(replace(n, start=n.start - lo, end=n.end - lo) for n in piece.melody if lo <= n.start < hi),
                chords=tuple(replace(c, start=c.start - lo, end=c.end - lo) for c in piece.chords if lo <= c.start < hi),
                drums=tuple(replace(h, step=h.step - lo) for h in piece.drums if lo <= h.step < hi),
            )
        )
    return result


def concatenate(parts: list[Piece]) -> Piece:
    """Parts one after another; they must share meter and key. A part at another tempo than the
    one before it changes the tempo on its first bar."""
    if not parts:
        raise PieceError("nothing to concatenate")
    for i, part in enumerate(parts[1:], 1):
        if part.key != parts[0].key:
            raise PieceError(f"part {i} differs in key from part 0")
    return join_sections(parts)


def join_sections(parts: list[Piece]) -> Piece:
    """A story's sections one after another, as one piece in the first's key: each keeps its notes
    and chords, its tempo and its instruments (changes on its first bar). They must share the
    meter: one bar grid."""
    if not parts:
        raise PieceError("nothing to join")
    first = parts[0]
    for i, part in enumerate(parts[1:], 1):
        if part.meter != first.meter:
            raise PieceError(f"part {i} differs in meter from part 0")
    melody, chords, drums, offset, bar = [], [], [], 0, 0
    tempi, sounds = [], []  # (bar, value) of every stretch, in order
    for part in parts:
        melody += [replace(n, start=n.start + offset, end=n.end + offset) for n in part.melody]
        chords += [replace(c, start=c.start + offset, end=c.end + offset) for c in part.chords]
        drums += [replace(h, step=h.step + offset) for h in part.drums]
        tempi += [(bar + start // part.steps_per_bar, tempo) for start, tempo in part.tempo_spans()]
        sounds += [(bar + start // part.steps_per_bar, instruments) for start, instruments in part.instrument_spans()]
        offset, bar = offset + part.total_steps, bar + part.bars
    return replace(first, bars=bar, melody=tuple(melody), chords=tuple(chords), drums=tuple(drums),
                   tempo_changes=changes_of(tempi), instrument_changes=changes_of(sounds))


def content_key(part: Piece) -> str:
    """Equal for two parts exactly when they sound the same: same meter and length, and the same
    notes, chords and hits at the same steps relative to the part's start. Tempo and key name are
    left out (within one piece they are shared, and a key name is not a sound). A SHA-256 of the
    canonical content, so it is short enough to use as an id and collisions are out of reach."""
    content = [
        str(part.meter),
        part.bars,
        [[n.start, n.end, n.pitch, n.velocity] for n in part.melody],
        [[c.start, c.end, c.root, c.quality] for c in part.chords],
        [[h.step, h.drum.value, h.velocity] for h in part.drums],
    ]
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()
