"""Music core: the Piece and everything that reads, writes, cuts and moves it."""

from .json_format import PieceFormatError, piece_from_dict, piece_from_json, piece_to_dict, piece_to_json
from .midi import MidiError, read_midi, to_midi_bytes, write_midi
from .piece import (
    CHORD_INTERVALS,
    DRUM_CLASSES,
    Chord,
    DrumClass,
    DrumHit,
    Key,
    Meter,
    Note,
    Piece,
    PieceError,
)
from .slicing import concatenate, content_key, slice_piece

__all__ = [
    "CHORD_INTERVALS",
    "DRUM_CLASSES",
    "Chord",
    "DrumClass",
    "DrumHit",
    "Key",
    "Meter",
    "MidiError",
    "Note",
    "Piece",
    "PieceError",
    "PieceFormatError",
    "concatenate",
    "content_key",
    "piece_from_dict",
    "piece_from_json",
    "piece_to_dict",
    "piece_to_json",
    "read_midi",
    "slice_piece",
    "to_midi_bytes",
    "write_midi",
]
