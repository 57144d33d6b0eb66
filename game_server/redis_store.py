"""Rooms, seats, rounds and the small shared maps in Redis, for several server processes.

The same interface as rooms.RoomStore. A room (with its live round, whatever the game) is one
pickled value under `room:<code>`; the parts of a round that never change once it has started
(the types the games name as `unchanging`: a piece, a puzzle, a level) are pickled once, under
`blob:<id>`, and the room refers to them (pickle's persistent ids), so that a move
reads and writes a few hundred bytes, not the whole puzzle (measured: 0.7 ms of pickling a
Sort move, 1.2 ms a Run input); each process keeps the ones it has seen. Changing a room:
take the room's Redis lock (SET NX with an expiry; released by redis-py's Lua script), read it,
let the handler change it, and write it back in a MULTI/EXEC transaction that WATCHes the key, so
a write that lost its lock (a process that stalled past the lock's expiry) fails instead of
overwriting a newer room. Rooms expire after a day without a change.

Player tokens need no storage: they are signed with SECRET_KEY, which every process shares.
Redis here is trusted infrastructure (rooms are pickles): never point REDIS_URL at a Redis that
anyone else can write to.
"""

from __future__ import annotations

import functools
import io
import pickle
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from .rooms import Room, RoomsUnavailable, new_room_code

ROOM_TTL = 24 * 3600
LOCK_SECONDS = 10  # a lock held longer than this (a stalled process) expires
PREFIX = "melody-arcade:"
# redis-py caps a client's pool at 100 connections and refuses the 101st. Every handler in the
# process may hold one (a room's lock and WATCH pipeline, while its move commits) and use another
# meanwhile; on gevent every connected player's handler runs at once: measured, 100 closed-loop
# clients on one process hit the cap and Run's clock stopped. Redis itself allows 10,000 clients.
MAX_CONNECTIONS = 2000


BLOBS_KEPT = 2048  # per process, most recently used
# A command that fails to reach Redis is tried again a few times within ~0.2 s (a connection
# that went stale when Redis restarted is replaced so), then the player hears rooms_unavailable:
# redis-py's default (10 tries, up to a second apart) held each handler ~5 s during an outage.
RETRY = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=3)
CONNECT_TIMEOUT = 2.0  # seconds: a Redis host that does not answer at all is an outage too
OUTAGE = (redis.ConnectionError, redis.TimeoutError)  # BusyLoadingError (a restart loading its AOF) is a ConnectionError


def reachable(fn):
    """Redis's connection errors as RoomsUnavailable, which the transport answers with
    `rooms_unavailable`: the lobby and the round path know no Redis."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OUTAGE as exc:
            raise RoomsUnavailable(f"{type(exc).__name__}: {exc}"[:200]) from exc

    return call


class RoomConflict(RuntimeError):
    """The room changed under a write whose lock had expired; the change is dropped."""


class RedisHash(MutableMapping):
    """A Redis hash as a dict of str -> str (or int, with `kind=int`)."""

    def __init__(self, client: redis.Redis, key: str, kind=str):
        self.client, self.key, self.kind = client, key, kind

    @reachable
    def __getitem__(self, field):
        value = self.client.hget(self.key, field)
        if value is None:
            raise KeyError(field)
        return self.kind(value.decode())

    @reachable
    def __setitem__(self, field, value) -> None:
        self.client.hset(self.key, field, value)

    @reachable
    def __delitem__(self, field) -> None:
        if not self.client.hdel(self.key, field):
            raise KeyError(field)

    @reachable
    def __iter__(self):
        return (f.decode() for f in self.client.hkeys(self.key))

    @reachable
    def __len__(self) -> int:
        return self.client.hlen(self.key)


class RedisSet:
    def __init__(self, client: redis.Redis, key: str):
        self.client, self.key = client, key

    @reachable
    def add(self, member: str) -> None:
        self.client.sadd(self.key, member)

    @reachable
    def discard(self, member: str) -> None:
        self.client.srem(self.key, member)

    @reachable
    def __iter__(self):
        return iter(sorted(m.decode() for m in self.client.smembers(self.key)))


class Blobs:
    """A round's unchanging parts, each stored once in Redis under a fresh id and kept here."""

    def __init__(self, client: redis.Redis, unchanging: tuple[type, ...]):
        self.client = client
        self.unchanging = unchanging  # the types kept as blobs: never changed once a round has started
        self._objects: OrderedDict[str, object] = OrderedDict()  # id -> object, LRU
        self._id_of: dict[int, str] = {}  # id(object) -> its blob id, while the object lives

    def _remember(self, blob_id: str, obj) -> None:
        self._objects[blob_id] = obj
        self._objects.move_to_end(blob_id)
        while len(self._objects) > BLOBS_KEPT:
            self._objects.popitem(last=False)
        if id(obj) not in self._id_of:
            self._id_of[id(obj)] = blob_id
            weakref.finalize(obj, self._id_of.pop, id(obj), None)

    @reachable
    def id_of(self, obj) -> str:
        """The blob id of an unchanging object, storing it on first sight."""
        blob_id = self._id_of.get(id(obj))
        if blob_id is None:
            blob_id = uuid.uuid4().hex
            self.client.set(PREFIX + "blob:" + blob_id, pickle.dumps(obj), ex=ROOM_TTL)
            self._remember(blob_id, obj)
        return blob_id

    @reachable
    def get(self, blob_id: str):
        obj = self._objects.get(blob_id)
        if obj is None:
            raw = self.client.get(PREFIX + "blob:" + blob_id)
            if raw is None:
                raise KeyError(f"blob {blob_id} has expired")
            obj = pickle.loads(raw)
        self._remember(blob_id, obj)
        return obj

    def dumps(self, room: Room) -> tuple[bytes, set[str]]:
        """The room's pickle, and the blob ids it refers to."""
        used: set[str] = set()
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)

        def persistent_id(obj):
            if isinstance(obj, self.unchanging):
                blob_id = self.id_of(obj)
                used.add(blob_id)
                return blob_id
            return None

        pickler.persistent_id = persistent_id
        pickler.dump(room)
        return buffer.getvalue(), used

    def loads(self, raw: bytes) -> Room:
        unpickler = pickle.Unpickler(io.BytesIO(raw))
        unpickler.persistent_load = self.get
        return unpickler.load()


class RedisRoomStore:
    outlives_process = True  # another process takes a room on when this one dies

    def __init__(self, url: str, unchanging: tuple[type, ...] = ()):
        """`unchanging`: the types of a round's parts that never change once it has started (the
        games say which: games.unchanging_types()), stored once each as blobs."""
        self.client = redis.Redis.from_url(url, max_connections=MAX_CONNECTIONS, retry=RETRY, socket_connect_timeout=CONNECT_TIMEOUT)
        self.client.ping()
        self.blobs = Blobs(self.client, unchanging)
        self.room_of_player = RedisHash(self.client, PREFIX + "room-of-player")
        self.offsets = RedisHash(self.client, PREFIX + "offsets", kind=int)
        self.live_rounds = RedisSet(self.client, PREFIX + "live-rounds")

    def unreachable(self) -> str | None:
        """None if Redis answers a PING now, else why not (for /readyz)."""
        try:
            self.client.ping()
        except redis.RedisError as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
        return None

    def _key(self, code: str) -> str:
        return f"{PREFIX}room:{code}"

    @reachable
    def create(self, make_room) -> Room:
        while True:
            code = new_room_code()
            room = make_room(code)
            if self.client.set(self._key(code), self.blobs.dumps(room)[0], nx=True, ex=ROOM_TTL):
                return room

    @contextmanager
    def locked(self, code: str) -> Iterator[Room | None]:
        """The room, for reading and changing; written back when the block ends without an error
        (with its blobs' expiry renewed, so that they last as long as the room). Redis out of
        reach, here or in the block: RoomsUnavailable, and the room is not written."""
        key = self._key(code)
        try:
            with self.client.lock(key + ":lock", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS, sleep=0.002):
                with self.client.pipeline() as pipe:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    room = None if raw is None else self.blobs.loads(raw)
                    yield room
                    if room is None:
                        return
                    value, blob_ids = self.blobs.dumps(room)
                    pipe.multi()
                    pipe.set(key, value, ex=ROOM_TTL)
                    for blob_id in blob_ids:
                        pipe.expire(PREFIX + "blob:" + blob_id, ROOM_TTL)
                    try:
                        pipe.execute()
                    except redis.WatchError:
                        raise RoomConflict(f"room {code} changed while its lock had expired") from None
        except OUTAGE as exc:
            raise RoomsUnavailable(f"{type(exc).__name__}: {exc}"[:200]) from exc

    @reachable
    def remove(self, code: str) -> None:
        raw = self.client.getdel(self._key(code))
        if raw is None:
            return
        for seat in self.blobs.loads(raw).seats:
            if self.room_of_player.get(seat.player_id) == code:
                del self.room_of_player[seat.player_id]

    @reachable
    def __len__(self) -> int:
        return sum(1 for _ in self.client.scan_iter(PREFIX + "room:*", count=500) if not _.endswith(b":lock"))
