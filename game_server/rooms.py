"""Players, rooms, co-op seats, reconnection, and where room state lives.

- A player says hello with a name and gets an id and a token signed with SECRET_KEY
  (itsdangerous). The token names the player, so it cannot be used as anyone else, and a changed
  token fails its signature. It carries when it was issued and is refused past its lifetime, so
  a token copied off a machine does not work for ever; every hello issues a fresh one, so a
  player who keeps playing keeps theirs moving forward.
- A room has one seat (solo) or two (co-op). Its code is 8 characters from a 31-letter alphabet
  (~8.5e11 codes), and failed joins are rate-limited per remote address (a reconnection does not
  start the count again), so codes cannot be found by trying. A third player is refused.
- A remote address holds a limited number of connections at once, so one machine cannot take a
  process's sockets (ConnectionsPerAddress).
- A seat whose player's connection drops is *away*; the round waits (moves are refused with
  `round_paused`) for the grace period, then goes on with the seat that is still there (solo
  rules; the result keeps both names). If every seat is away past the grace period the round is
  abandoned and records no result.

RoomStore keeps rooms in memory, one lock per room, so two moves on one room are applied one at
a time. With REDIS_URL set, redis_store.RedisRoomStore keeps the same things in Redis instead, so
that several server processes share them.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[:31]
CODE_LENGTH = 8
GRACE_SECONDS = 20.0  # the default; GRACE_SECONDS in the environment sets it (config.py)


class TokenError(ValueError):
    pass


class RoomsUnavailable(RuntimeError):
    """The room store cannot be reached (Redis is down, or restarting and loading its data): the
    room was not written, and the same call may succeed in a moment. The transport answers it
    with `rooms_unavailable` (services.rooms_unavailable)."""


class TokenExpired(TokenError):
    """A token this server signed, issued longer ago than the tokens' lifetime."""


# Tokens signed before they carried their issue time (until 2026-12-04) count as issued then:
# their players keep their identity through the upgrade (the first hello rotates the token into
# one that carries its time), and such a token dies a lifetime after that day like any other.
UNDATED_TOKENS_ISSUED = 1796342400.0  # 2026-12-04 00:00 UTC


class Tokens:
    """Player tokens: the player's id and when the token was issued, signed with the server's
    secret. `lifetime` in seconds (0: tokens never expire); `clock` is time.time, or a test's."""

    def __init__(self, secret: str, lifetime: float = 30 * 86400.0, clock: Callable[[], float] = time.time):
        self._serializer = URLSafeSerializer(secret, salt="melody-arcade.player")
        self.lifetime, self.clock = lifetime, clock

    def issue(self, player_id: str) -> str:
        return self._serializer.dumps({"player": player_id, "issued": int(self.clock())})

    def player_of(self, token: str) -> str:
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            raise TokenError("the token is not one this server signed") from None
        if not isinstance(data, dict) or not isinstance(data.get("player"), str):
            raise TokenError("the token names no player")
        issued = data.get("issued", UNDATED_TOKENS_ISSUED)
        if not isinstance(issued, int | float) or isinstance(issued, bool):
            raise TokenError("the token's issue time is not a number")
        if self.lifetime and self.clock() - issued > self.lifetime:
            raise TokenExpired(f"the token is more than {self.lifetime / 86400:g} days old: say hello without it to play on as a new player")
        return data["player"]


def new_player_id() -> str:
    return "p_" + secrets.token_hex(8)


def new_room_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass
class Seat:
    player_id: str
    name: str
    away_since: float | None = None  # set while the player's connection is gone
    last_seq: int = 0  # highest move sequence number applied for this player
    last_reply: dict | None = None  # the reply to that move, sent again for a resend


@dataclass
class Room:
    code: str
    game: str  # a name in games.GAMES
    coop: bool
    ladder: str
    level: int
    host: str  # player id
    seats: list[Seat] = field(default_factory=list)
    round: Any = None  # the live round (game-specific), or None between rounds
    closed: bool = False
    grace: float = GRACE_SECONDS  # seconds a dropped seat is waited for

    @property
    def capacity(self) -> int:
        return 2 if self.coop else 1

    def seat_of(self, player_id: str) -> Seat | None:
        return next((s for s in self.seats if s.player_id == player_id), None)

    def waiting_for_partner(self, now: float) -> bool:
        """True while a seat is away and its grace period has not run out."""
        return any(s.away_since is not None and now - s.away_since < self.grace for s in self.seats)

    def all_gone(self, now: float) -> bool:
        return bool(self.seats) and all(s.away_since is not None and now - s.away_since >= self.grace for s in self.seats)

    def public(self) -> dict:
        return {
            "code": self.code,
            "game": self.game,
            "mode": "coop" if self.coop else "solo",
            "ladder": self.ladder,
            "level": self.level,
            "host": self.host,
            "seats": [{"player_id": s.player_id, "name": s.name, "away": s.away_since is not None} for s in self.seats],
        }


class RoomStore:
    """Rooms in this process's memory; `with store.locked(code) as room:` serializes changes."""

    outlives_process = False  # a room dies with this process (RedisRoomStore's do not)

    def __init__(self):
        self._rooms: dict[str, Room] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.room_of_player: dict[str, str] = {}
        self.offsets: dict[str, int] = {}  # player id -> calibrated audio offset (ms)
        self.live_rounds: set[str] = set()  # codes of rooms whose round has a clock and is in play

    def unreachable(self) -> str | None:
        """None: rooms in this process's memory are always there (for /readyz)."""
        return None

    def create(self, make_room) -> Room:
        with self._guard:
            code = new_room_code()
            while code in self._rooms:
                code = new_room_code()
            room = make_room(code)
            self._rooms[code] = room
            self._locks[code] = threading.Lock()
            return room

    @contextmanager
    def locked(self, code: str) -> Iterator[Room | None]:
        lock = self._locks.get(code)
        if lock is None:
            yield None
            return
        with lock:
            yield self._rooms.get(code)

    def remove(self, code: str) -> None:
        with self._guard:
            room = self._rooms.pop(code, None)
            self._locks.pop(code, None)
            if room:
                for seat in room.seats:
                    if self.room_of_player.get(seat.player_id) == code:
                        del self.room_of_player[seat.player_id]

    def __len__(self) -> int:
        return len(self._rooms)


class AttemptLimiter:
    """At most `limit` failures per `window` seconds per key (a remote address), for join codes;
    `limit` 0: no limit. Keyed by address, not connection: a new connection would otherwise
    start the count again."""

    def __init__(self, limit: int = 5, window: float = 60.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        if not self.limit:
            return False
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window]
            if recent:
                self._failures[key] = recent
            else:  # an address whose failures are old is forgotten: the map does not grow for ever
                self._failures.pop(key, None)
            return len(recent) >= self.limit

    def failed(self, key: str) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(time.monotonic())


class ConnectionsPerAddress:
    """The open connections of each remote address, and the cap on them (`limit`; 0: none).
    Behind a reverse proxy every client has the proxy's address unless the app is told to trust
    its X-Forwarded-For (TRUSTED_PROXIES, docs/deploy.md)."""

    def __init__(self, limit: int = 50):
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, address: str) -> bool:
        """Count a new connection from `address`; False (and not counted) when it is over the cap."""
        with self._lock:
            held = self._open.get(address, 0)
            if self.limit and held >= self.limit:
                return False
            self._open[address] = held + 1
            return True

    def release(self, address: str) -> None:
        with self._lock:
            held = self._open.get(address, 0) - 1
            if held > 0:
                self._open[address] = held
            else:
                self._open.pop(address, None)

    def held(self, address: str) -> int:
        return self._open.get(address, 0)


class TokenBucket:
    """A per-connection flood guard: `rate` events a second on average, bursts up to `burst`."""

    def __init__(self, rate: float = 30.0, burst: float = 60.0):
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = burst, time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
