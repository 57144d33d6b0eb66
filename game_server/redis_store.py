"""Rooms, seats, rounds and the small shared maps in Redis, for several server processes.

The same interface as rooms.RoomStore. A room (with its live round: a Sort board, or a Run
round's lanes and every accepted input) is one pickled value under `room:<code>`. Changing it:
take the room's Redis lock (SET NX with an expiry; released by redis-py's Lua script), read it,
let the handler change it, and write it back in a MULTI/EXEC transaction that WATCHes the key, so
a write that lost its lock (a process that stalled past the lock's expiry) fails instead of
overwriting a newer room. Rooms expire after a day without a change.

Player tokens need no storage: they are signed with SECRET_KEY, which every process shares.
Redis here is trusted infrastructure (rooms are pickles): never point REDIS_URL at a Redis that
anyone else can write to.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

import redis

from .rooms import Room, new_room_code

ROOM_TTL = 24 * 3600
LOCK_SECONDS = 10  # a lock held longer than this (a stalled process) expires
PREFIX = "melody-arcade:"


class RoomConflict(RuntimeError):
    """The room changed under a write whose lock had expired; the change is dropped."""


class RedisHash(MutableMapping):
    """A Redis hash as a dict of str -> str (or int, with `kind=int`)."""

    def __init__(self, client: redis.Redis, key: str, kind=str):
        self.client, self.key, self.kind = client, key, kind

    def __getitem__(self, field):
        value = self.client.hget(self.key, field)
        if value is None:
            raise KeyError(field)
        return self.kind(value.decode())

    def __setitem__(self, field, value) -> None:
        self.client.hset(self.key, field, value)

    def __delitem__(self, field) -> None:
        if not self.client.hdel(self.key, field):
            raise KeyError(field)

    def __iter__(self):
        return (f.decode() for f in self.client.hkeys(self.key))

    def __len__(self) -> int:
        return self.client.hlen(self.key)


class RedisSet:
    def __init__(self, client: redis.Redis, key: str):
        self.client, self.key = client, key

    def add(self, member: str) -> None:
        self.client.sadd(self.key, member)

    def discard(self, member: str) -> None:
        self.client.srem(self.key, member)

    def __iter__(self):
        return iter(sorted(m.decode() for m in self.client.smembers(self.key)))


class RedisRoomStore:
    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)
        self.client.ping()
        self.room_of_player = RedisHash(self.client, PREFIX + "room-of-player")
        self.offsets = RedisHash(self.client, PREFIX + "offsets", kind=int)
        self.live_runs = RedisSet(self.client, PREFIX + "live-runs")

    def _key(self, code: str) -> str:
        return f"{PREFIX}room:{code}"

    def create(self, make_room) -> Room:
        while True:
            code = new_room_code()
            room = make_room(code)
            if self.client.set(self._key(code), pickle.dumps(room), nx=True, ex=ROOM_TTL):
                return room

    @contextmanager
    def locked(self, code: str) -> Iterator[Room | None]:
        """The room, for reading and changing; written back when the block ends without an error."""
        key = self._key(code)
        with self.client.lock(key + ":lock", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS, sleep=0.002):
            with self.client.pipeline() as pipe:
                pipe.watch(key)
                raw = pipe.get(key)
                room = None if raw is None else pickle.loads(raw)
                yield room
                if room is None:
                    return
                pipe.multi()
                pipe.set(key, pickle.dumps(room), ex=ROOM_TTL)
                try:
                    pipe.execute()
                except redis.WatchError:
                    raise RoomConflict(f"room {code} changed while its lock had expired") from None

    def remove(self, code: str) -> None:
        raw = self.client.getdel(self._key(code))
        if raw is None:
            return
        for seat in pickle.loads(raw).seats:
            if self.room_of_player.get(seat.player_id) == code:
                del self.room_of_player[seat.player_id]

    def __len__(self) -> int:
        return sum(1 for _ in self.client.scan_iter(PREFIX + "room:*", count=500) if not _.endswith(b":lock"))
