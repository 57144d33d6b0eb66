"""Music core: the Piece and everything that reads, writes, cuts and moves it."""

from .instruments import DRUM_KITS, GM_PROGRAMS, InstrumentError, Instruments
from .json_format import PieceFormatError, piece_from_dict, piece_from_json, piece_to_dict, piece_to_json
from .midi import GM_DRUM_CLASSES, MidiError, estimate_key, read_midi, to_midi_bytes, write_midi
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
    accent,
    accented_melody,
    drum_hits,
)
from .slicing import concatenate, content_key, join_sections, slice_piece

__all__ = [
    "CHORD_INTERVALS",
    "DRUM_CLASSES",
    "DRUM_KITS",
    "GM_PROGRAMS",
    "Chord",
    "DrumClass",
    "DrumHit",
    "GM_DRUM_CLASSES",
    "InstrumentError",
    "Instruments",
    "Key",
    "Meter",
    "MidiError",
    "Note",
    "Piece",
    "PieceError",
    "PieceFormatError",
    "accent",
    "accented_melody",
    "concatenate",
    "content_key",
    "drum_hits",
    "estimate_key",
    "join_sections",
    "piece_from_dict",
    "piece_from_json",
    "piece_to_dict",
    "piece_to_json",
    "read_midi",
    "slice_piece",
    "to_midi_bytes",
    "write_midi",
]
