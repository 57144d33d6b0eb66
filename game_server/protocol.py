"""The lobby's event payloads (docs/protocol.md) and the error shape every refusal uses; each
game's own payloads live with the game (games/<game>/game.py), built on `Strict`.

Each client event is validated here before any handler logic runs: strict types, no unknown
fields, bounded strings. A failure becomes ProtocolError("bad_payload", "<field>: <problem>").
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from models.options import DENSITIES, GROOVES, METERS, MODES, STYLES, TEMPO_LIMITS, MusicOptions
from music import DRUM_KITS


def person_name(name: str) -> str:
    """A name as people will read it on a leaderboard, the same on every database: Unicode NFKC,
    and no control or format character (NUL, newlines, right-to-left overrides, zero-width
    spaces), so that a name cannot be blank, invisible, or turn the text after it around."""
    name = unicodedata.normalize("NFKC", name).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn") for ch in name):
        raise ValueError("a name has letters, digits, spaces and punctuation only (no control or invisible characters)")
    if not name:
        raise ValueError("a name is not blank")
    if len(name) > MAX_NAME:
        raise ValueError(f"a name is at most {MAX_NAME} characters")
    return name


MAX_NAME = 24
Name = Annotated[str, StringConstraints(max_length=4 * MAX_NAME), AfterValidator(person_name)]
MAX_EVENT_BYTES = 16 * 1024


class ProtocolError(Exception):
    """A refusal: `code` for programs (docs/protocol.md lists them), `message` for people."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.extra = code, message, extra

    def reply(self) -> dict:
        return {"ok": False, "error": {"code": self.code, "message": self.message, **self.extra}}


class Strict(BaseModel):
    """Every payload model: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Hello(Strict):
    name: Name
    token: str | None = Field(default=None, max_length=512)


class LeaveRoom(Strict):
    """No fields: `{}`, or no payload at all."""


class Resync(Strict):
    """No fields: `{}`, or no payload at all."""


class CreateRoom(Strict):
    game: str = Field(max_length=16)  # a game of the registry (GET /api/games)
    mode: Literal["solo", "coop"] = "solo"
    ladder: str | None = Field(default=None, max_length=16)  # one of the game's ladders; None: its first
    level: int = Field(default=0, ge=0, le=99)


class JoinRoom(Strict):
    code: str = Field(min_length=1, max_length=16)


class InstrumentsChoice(Strict):
    """General MIDI programs for the pitched parts, and a GM drum kit (music/instruments.py)."""

    melody: int = Field(default=73, ge=0, le=127)
    chords: int = Field(default=0, ge=0, le=127)
    bass: int = Field(default=33, ge=0, le=127)
    drums: Literal[tuple(DRUM_KITS)] = 0  # type: ignore[valid-type]


class MusicChoice(Strict):
    """The music of a round as a player chose it (models/options.py says what each does); unset
    fields are the style's own. `seed`: the same choice and seed give the same piece (the studio's
    "play this" starts a round on the piece the player heard)."""

    style: Literal[STYLES] = "irish"  # type: ignore[valid-type]
    mood: Literal[MODES] | None = None  # type: ignore[valid-type]
    tempo: int | None = Field(default=None, ge=TEMPO_LIMITS[0], le=TEMPO_LIMITS[1])
    meter: Literal[METERS] = "4/4"  # type: ignore[valid-type]
    key: int | None = Field(default=None, ge=0, le=11)
    density: Literal[DENSITIES] | None = None  # type: ignore[valid-type]
    groove: Literal[GROOVES] | None = None  # type: ignore[valid-type]
    instruments: InstrumentsChoice = Field(default_factory=InstrumentsChoice)
    seed: int | None = Field(default=None, ge=0, le=2**62)

    def options(self) -> MusicOptions:
        return MusicOptions.from_dict(self.model_dump(exclude={"seed"}))


class StartRound(Strict):
    """A game with start options extends this (Run: `lanes`). `music`: the round's music as the
    host chose it (None: the pool's ready pieces, drawn as the game's levels ask)."""

    level: int | None = Field(default=None, ge=0, le=99)
    music: MusicChoice | None = None


class Calibrate(Strict):
    offset_ms: int = Field(ge=-250, le=250)


def parse(model: type[BaseModel], data: Any) -> BaseModel:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError("bad_payload", f"the payload must be an object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise ProtocolError("bad_payload", f"{where}: {first['msg']}") from None
