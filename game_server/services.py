"""What the lobby and the round path share: the services a server process runs on, a client's
connection, the way out to the clients, and the operator's log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .composer import PiecePool
from .protocol import ProtocolError
from .rooms import AttemptLimiter, ConnectionsPerAddress, RoomStore, TokenBucket, Tokens
from .storage import Storage

# What an operator reads (docs/deploy.md): one INFO line per connection, room and round event,
# none per move. Arguments are formatted only when the level is on.
connections_log = logging.getLogger("melody_arcade.connections")
rooms_log = logging.getLogger("melody_arcade.rooms")
rounds_log = logging.getLogger("melody_arcade.rounds")


@dataclass
class Connection:
    sid: str
    address: str | None = None  # the remote address, counted in Services.addresses (None: not counted)
    bucket: TokenBucket = field(default_factory=TokenBucket)
    player_id: str | None = None
    name: str = ""
    flood_refusals: int = 0


@dataclass
class Services:
    store: RoomStore
    storage: Storage
    tokens: Tokens
    pool: PiecePool
    grace: float = 20.0  # seconds a co-op round waits for a dropped player
    join_limiter: AttemptLimiter = field(default_factory=AttemptLimiter)  # wrong room codes, per address
    addresses: ConnectionsPerAddress = field(default_factory=ConnectionsPerAddress)  # open connections, per address
    connections: dict[str, Connection] = field(default_factory=dict)
    sid_of_player: dict[str, str] = field(default_factory=dict)


class Clients(Protocol):
    """The way out to the clients (python-socketio's server, in `transport`)."""

    def emit(self, event: str, data: dict, to: str, skip_sid: str | None = None) -> None: ...

    def enter_room(self, sid: str, room: str) -> None: ...

    def leave_room(self, sid: str, room: str) -> None: ...

    def disconnect(self, sid: str) -> None: ...


@dataclass(frozen=True)
class Background:
    """Starting work off the handlers, the way the server's async mode does it."""

    start: Callable[..., object]
    sleep: Callable[[float], None]


def storage_unavailable() -> ProtocolError:
    """The refusal for a write the database did not take: nothing changed, and the player may
    send the same event again (`retry`)."""
    return ProtocolError("storage_unavailable", "the game's database cannot be reached: nothing changed; try again in a moment", retry=True)


def composer_unavailable() -> ProtocolError:
    """The refusal for a start while the composer that makes its piece is down (frozen, dead, or
    its replacement loading) and none is ready: nothing changed, and it is back within seconds."""
    return ProtocolError("composer_unavailable", "the composer is restarting: nothing changed; try again in a few seconds", retry=True)


def rooms_unavailable() -> ProtocolError:
    """The refusal for an event that needs the room store (Redis) while it cannot be reached:
    the room is as it was, and the player may send the same event again (`retry`)."""
    return ProtocolError("rooms_unavailable", "the game's rooms cannot be reached just now: nothing changed; try again in a moment", retry=True)


class Players(list):
    """A round's players as a log field, `p_1a2b:'Ada',p_3c4d:'Bob'` (names quoted: a name may hold
    anything), formatted only if the line is written."""

    def __str__(self) -> str:
        return ",".join(f"{player}:{name!r}" for player, name in self)
