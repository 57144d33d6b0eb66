"""The lobby's event payloads (docs/protocol.md) and the error shape every refusal uses; each
game's own payloads live with the game (games/<game>/game.py), built on `Strict`.

Each client event is validated here before any handler logic runs: strict types, no unknown
fields, bounded strings. A failure becomes ProtocolError("bad_payload", "<field>: <problem>").
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError


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


class StartRound(Strict):
    """A game with start options extends this (Run: `lanes`)."""

    level: int | None = Field(default=None, ge=0, le=99)


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
