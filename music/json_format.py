"""The Piece as JSON for the web client: a documented, versioned shape, validated on the way in.

Shape (version 1; docs/piece-json.md says the same):

    {"format": "melody-arcade.piece", "version": 1,
     "tempo": 120, "meter": "4/4", "key": {"tonic": 2, "mode": "minor"}, "bars": 8,
     "steps_per_bar": 16,                                   # derived, written for the client's ease
     "melody": [{"pitch": 62, "start": 0, "end": 4, "velocity": 90}, ...],
     "chords": [{"root": 2, "quality": "min", "start": 0, "end": 16}, ...],
     "drums":  [{"step": 0, "drum": "kick", "velocity": 100}, ...],
     "instruments": {"melody": 73, "chords": 0, "bass": 33, "drums": 0},  # GM programs, a GM kit
     "tempo_changes": [{"bar": 4, "tempo": 150}, ...],                   # a story's sections: only
     "instrument_changes": [{"bar": 4, "instruments": {...}}, ...]}      # where there are any

`instruments` may be left out on the way in (the defaults: flute, piano, finger bass, standard kit).

On the way in, pydantic checks types strictly (no "60" for 60, no extra fields) and Piece checks
the musical rules; both kinds of error come out as PieceFormatError naming the field.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .instruments import InstrumentError, Instruments
from .piece import Chord, DrumClass, DrumHit, Key, Meter, Note, Piece, PieceError

FORMAT = "melody-arcade.piece"
VERSION = 1


class PieceFormatError(PieceError):
    """JSON that is not a valid Piece; the message names the field and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _NoteIn(_Strict):
    pitch: int = Field(ge=0, le=127)
    start: int = Field(ge=0)
    end: int = Field(ge=1)
    velocity: int = Field(default=90, ge=1, le=127)


class _ChordIn(_Strict):
    root: int = Field(ge=0, le=11)
    quality: str
    start: int = Field(ge=0)
    end: int = Field(ge=1)


class _DrumIn(_Strict):
    step: int = Field(ge=0)
    drum: DrumClass = Field(strict=False)  # given as its name, e.g. "kick"
    velocity: int = Field(default=90, ge=1, le=127)


class _KeyIn(_Strict):
    tonic: int = Field(ge=0, le=11)
    mode: Literal["major", "minor"]


class _InstrumentsIn(_Strict):
    melody: int = Field(default=73, ge=0, le=127)
    chords: int = Field(default=0, ge=0, le=127)
    bass: int = Field(default=33, ge=0, le=127)
    drums: int = Field(default=0, ge=0, le=127)


class _TempoChangeIn(_Strict):
    bar: int
    tempo: int


class _InstrumentChangeIn(_Strict):
    bar: int
    instruments: _InstrumentsIn


class _PieceIn(_Strict):
    format: Literal["melody-arcade.piece"]
    version: Literal[1]
    tempo: int
    meter: str
    key: _KeyIn
    bars: int
    steps_per_bar: int | None = None
    melody: list[_NoteIn] = Field(max_length=10_000)
    chords: list[_ChordIn] = Field(default_factory=list, max_length=10_000)
    drums: list[_DrumIn] = Field(default_factory=list, max_length=50_000)
    instruments: _InstrumentsIn = Field(default_factory=_InstrumentsIn)
    tempo_changes: list[_TempoChangeIn] = Field(default_factory=list, max_length=512)
    instrument_changes: list[_InstrumentChangeIn] = Field(default_factory=list, max_length=512)


def piece_to_dict(piece: Piece) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "tempo": piece.tempo,
        "meter": str(piece.meter),
        "key": {"tonic": piece.key.tonic, "mode": piece.key.mode},
        "bars": piece.bars,
        "steps_per_bar": piece.steps_per_bar,
        "melody": [{"pitch": n.pitch, "start": n.start, "end": n.end, "velocity": n.velocity} for n in piece.melody],
        "chords": [{"root": c.root, "quality": c.quality, "start": c.start, "end": c.end} for c in piece.chords],
        "drums": [{"step": h.step, "drum": h.drum.value, "velocity": h.velocity} for h in piece.drums],
        "instruments": asdict(piece.instruments),
        **({"tempo_changes": [{"bar": bar, "tempo": tempo} for bar, tempo in piece.tempo_changes]} if piece.tempo_changes else {}),
        **({"instrument_changes": [{"bar": bar, "instruments": asdict(sounds)} for bar, sounds in piece.instrument_changes]} if piece.instrument_changes else {}),
    }


def piece_from_dict(data: Any) -> Piece:
    try:
        parsed = _PieceIn.model_validate(data)
    except ValidationError as exc:
        raise PieceFormatError(_describe(exc)) from None
    try:
        meter = Meter.parse(parsed.meter)
    except PieceError as exc:
        raise PieceFormatError(f"meter: {exc}") from None
    if parsed.steps_per_bar is not None and parsed.steps_per_bar != meter.steps_per_bar:
        raise PieceFormatError(f"steps_per_bar: {parsed.steps_per_bar} does not match meter {meter} ({meter.steps_per_bar})")
    try:
        return Piece(
            tempo=parsed.tempo,
            meter=meter,
            key=Key(parsed.key.tonic, parsed.key.mode),
            bars=parsed.bars,
            melody=tuple(Note(start=n.start, end=n.end, pitch=n.pitch, velocity=n.velocity) for n in parsed.melody),
            chords=tuple(Chord(start=c.start, end=c.end, root=c.root, quality=c.quality) for c in parsed.chords),
            drums=tuple(DrumHit(step=d.step, drum=d.drum, velocity=d.velocity) for d in parsed.drums),
            instruments=Instruments(**parsed.instruments.model_dump()),
            tempo_changes=tuple((change.bar, change.tempo) for change in parsed.tempo_changes),
            instrument_changes=tuple((change.bar, Instruments(**change.instruments.model_dump())) for change in parsed.instrument_changes),
        )
    except (PieceError, InstrumentError) as exc:
        raise PieceFormatError(str(exc)) from None


def piece_to_json(piece: Piece) -> str:
    return json.dumps(piece_to_dict(piece), separators=(",", ":"))


def piece_from_json(text: str | bytes) -> Piece:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PieceFormatError(f"not JSON: {exc}") from None
    return piece_from_dict(data)


def _describe(exc: ValidationError) -> str:
    """pydantic's errors as 'melody.3.pitch: Input should be less than or equal to 127; ...'."""
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error["loc"]) or "piece"
        parts.append(f"{location}: {error['msg']}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
