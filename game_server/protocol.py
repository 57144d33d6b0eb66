"""Inbound event payloads (docs/protocol.md) and the error shape every refusal uses.

Each client event is validated here before any handler logic runs: strict types, no unknown
fields, bounded strings. A failure becomes ProtocolError("bad_payload", "<field>: <problem>").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from socketio.packet import Packet

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=24)]
MAX_EVENT_BYTES = 16 * 1024


class JsonPacket(Packet):
    """Socket.IO packets for a protocol that is JSON only, both ways (docs/protocol.md). The
    stock packet searches every element of every outgoing payload for bytes to send as binary
    attachments, without stopping early: a packet carrying a piece took 3.5 times as long to
    build (bench/music.py), and a move a fifth more of the server's CPU (bench/realtime.py, 200
    players). A client's binary event still decodes, and is refused like any other bad payload."""

    uses_binary_events = False


class ProtocolError(Exception):
    """A refusal: `code` for programs (docs/protocol.md lists them), `message` for people."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.extra = code, message, extra

    def reply(self) -> dict:
        return {"ok": False, "error": {"code": self.code, "message": self.message, **self.extra}}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Hello(_Strict):
    name: Name
    token: str | None = Field(default=None, max_length=512)


class LeaveRoom(_Strict):
    """No fields: `{}`, or no payload at all."""


class CreateRoom(_Strict):
    game: Literal["sort", "run"]
    mode: Literal["solo", "coop"] = "solo"
    ladder: str | None = Field(default=None, max_length=16)  # Sort: slices | morph; Run: run
    level: int = Field(default=0, ge=0, le=99)


class JoinRoom(_Strict):
    code: str = Field(min_length=1, max_length=16)


class StartRound(_Strict):
    level: int | None = Field(default=None, ge=0, le=99)
    lanes: Literal["melody", "both"] = "melody"  # Run, solo on a chord level: one avatar or two


class SortMoveBody(_Strict):
    kind: Literal["place", "swap", "take_back", "listen_clip", "listen_board", "submit"]
    clip: str | None = Field(default=None, max_length=32)
    slot: int | None = Field(default=None, ge=0, le=63)
    other: int | None = Field(default=None, ge=0, le=63)


class SortMove(_Strict):
    round_id: str = Field(max_length=40)
    seq: int = Field(ge=1, le=2**31)
    version: int = Field(ge=0, le=2**31)
    move: SortMoveBody


class RunInputBody(_Strict):
    tick: int = Field(ge=0, le=10**6)
    lane: int = Field(ge=0, le=1)
    key: Literal["left", "right", "jump"]
    down: bool


class RunInput(_Strict):
    """Key presses and releases with their ticks. Nothing else: no position, no score."""

    round_id: str = Field(max_length=40)
    seq: int = Field(ge=1, le=2**31)
    inputs: list[RunInputBody] = Field(min_length=1, max_length=32)


class RunPause(_Strict):
    """Pause or resume a solo Run round: the round's clock stops while it is paused."""

    round_id: str = Field(max_length=40)
    paused: bool


class Calibrate(_Strict):
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
