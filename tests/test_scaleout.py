"""Several server processes on a real Redis, and results in a real PostgreSQL.

A co-op Sort round with one player on each of two processes: moves made on one reach the other,
then the host's process is killed (SIGKILL) and the host reconnects to the other process and
finishes the round there. Storage is tested against PostgreSQL the way it is used."""

from __future__ import annotations

import json
import threading
import time

import pytest

from game_server.storage import Storage, StorageError

from .server import Player, ServerProcess
from .services import postgres_server, redis_server

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]  # real Redis, PostgreSQL and server processes


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


def test_coop_round_across_two_processes_survives_one_dying(tmp_path, redis_url):
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {"REDIS_URL": redis_url, "DATABASE_URL": db}
    a = ServerProcess(tmp_path, extra_env=env).start()
    b = ServerProcess(tmp_path, extra_env=env).start()
    host, guest = Player(a, "Host"), Player(b, "Guest")
    try:
        code = host.call("create_room", {"game": "sort", "mode": "coop", "ladder": "slices", "level": 0})["room"]["code"]
        assert guest.call("join_room", {"code": code})["ok"]  # the room lives in Redis, not in process A
        host.wait_for("room", where=lambda room: len(room["seats"]) == 2)  # broadcast from B reaches A
        round_ = host.call("start_round", {})["round"]
        assert guest.wait_for("round_started")["round_id"] == round_["round_id"]
        answer = Storage(db).get_round(round_["round_id"]).setup["answer"]

        reply = guest.move(round_["round_id"], round_["board"]["version"], "place", clip=answer[0], slot=0)
        assert reply["ok"], reply
        seen = host.wait_for("board", where=lambda d: d["by"] == guest.player_id)
        assert seen["board"]["slots"][0] == answer[0]
        reply = host.move(round_["round_id"], seen["board"]["version"], "place", clip=answer[1], slot=1)
        assert reply["ok"], reply
        guest.wait_for("board", where=lambda d: d["by"] == host.player_id)

        a.kill()  # the host's process dies mid-round
        back = Player(b, "Host", token=host.token)  # and the host carries on on the other one
        back.seq = back.hello["last_seq"]
        assert back.hello["room"]["code"] == code and back.hello["round"]["round_id"] == round_["round_id"]
        board = back.hello["round"]["board"]
        assert board["slots"][:2] == answer[:2]
        for slot, clip in enumerate(answer):
            if board["slots"][slot] is None:
                reply = back.move(round_["round_id"], board["version"], "place", clip=clip, slot=slot)
                assert reply["ok"], reply
                board = reply["board"]
        result = back.move(round_["round_id"], board["version"], "submit")["result"]
        assert result["score"] > 900
        assert guest.wait_for("round_ended")["score"] == result["score"]
        assert Storage(db).get_round(round_["round_id"]).result["score"] == result["score"]
        back.close()
    finally:
        host.close()
        guest.close()
        a.stop()
        b.stop()


def test_storage_on_postgresql():
    with postgres_server() as url:
        storage = Storage(url)
        storage.add_player("p_1", "Ad")
        storage.add_player("p_1", "Ada")  # hello again: renamed (PostgreSQL's upsert)
        storage.add_round("r_1", "sort", "slices-0", "ROOMCODE", 2**61 + 5, ["p_1"], "{}", {"answer": ["a", "b"]})
        storage.add_move("r_1", 0, "p_1", {"kind": "place", "clip": "a", "slot": 0}, 1.5)
        writers = [threading.Thread(target=storage.add_move, args=("r_1", i, "p_1", {"n": i}, 2.0)) for i in range(1, 41)]
        for writer in writers:  # at once: group commits of several rows, one INSERT each
            writer.start()
        for writer in writers:
            writer.join()
        storage.finish_round("r_1", "sort", "slices-0", ["p_1"], "Ada", 833, {"order": 0.83})
        stored = Storage(url).get_round("r_1")  # a second engine, as another process would have
        assert stored.seed == 2**61 + 5 and stored.moves[0]["payload"]["clip"] == "a" and stored.result["score"] == 833
        assert [move["payload"].get("n") for move in stored.moves[1:]] == list(range(1, 41))
        assert storage.leaderboard("sort", "slices-0")[0]["names"] == "Ada"
        with storage.engine.connect() as connection:
            assert connection.exec_driver_sql("select name from players where id = 'p_1'").scalar() == "Ada"
        storage.add_move("r_1", 0, "p_1", {"again": True}, 2.0)  # one move per index: the later one replaces it
        assert Storage(url).get_round("r_1").moves[0]["payload"] == {"again": True}
        with pytest.raises(StorageError, match="ForeignKeyViolation"):
            storage.add_move("r_none", 0, "p_1", {}, 2.0)  # and a failing write is a StorageError
        with storage.engine.connect() as connection:  # the database drops the writer's connection
            dropped = connection.exec_driver_sql("select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and datname = current_database()").all()
        assert dropped
        storage.add_move("r_1", 41, "p_1", {"n": 41}, 3.0)  # retried on a fresh connection
        assert Storage(url).get_round("r_1").moves[-1]["payload"] == {"n": 41}
        storage.close()


def test_a_room_on_redis_keeps_its_puzzle_apart_and_another_process_reads_it(redis_url):
    """The puzzle (and its piece) is stored once as a blob; each change writes only the small
    room. A second store (another process: nothing cached) reads the same room, puzzle included,
    and its change is seen by the first."""
    import random
    import time

    from game_server.games import unchanging_types
    from game_server.games.sort import rules as sort
    from game_server.games.sort.game import SortRound
    from game_server.redis_store import PREFIX, RedisRoomStore
    from game_server.rooms import Room, Seat
    from music import Chord, Key, Meter, Note, Piece

    melody = tuple(Note(start=4 * i, end=4 * i + 3, pitch=60 + i % 7, velocity=90) for i in range(32))
    piece = Piece(tempo=120, meter=Meter.parse("4/4"), key=Key(0, "major"), bars=8, melody=melody, chords=(Chord(start=0, end=128, root=0, quality="maj"),))
    puzzle, board = sort.slices_puzzle(piece, sort.LADDERS["slices"][0], random.Random(5))
    first, second = RedisRoomStore(redis_url, unchanging_types()), RedisRoomStore(redis_url, unchanging_types())
    room = first.create(lambda code: Room(code, "sort", False, "slices", 0, "p_1", [Seat("p_1", "Ada")]))
    with first.locked(room.code) as live:
        live.round = SortRound("r_1", "slices-0", ["p_1"], "Ada", time.time(), puzzle=puzzle, board=board)
    room_bytes = len(first.client.get(f"{PREFIX}room:{room.code}"))
    blobs = [first.client.get(key) for key in first.client.scan_iter(PREFIX + "blob:*")]
    assert len(blobs) >= 1 and room_bytes < 1000 < max(len(blob) for blob in blobs)
    with second.locked(room.code) as seen:
        assert seen.round.puzzle == puzzle  # fetched from its blob
        seen.round.board = sort.apply_move(puzzle, seen.round.board, sort.Move("swap", slot=0, other=1))
    with first.locked(room.code) as live:
        assert live.round.board.version == board.version + 1 and live.round.puzzle is puzzle  # its own copy, kept
        assert first.client.ttl(f"{PREFIX}blob:{first.blobs.id_of(puzzle)}") > 0


def test_many_handlers_at_once_each_holding_a_room_on_redis(redis_url):
    """Every handler may hold a room's lock and pipeline (one connection) and use another
    meanwhile; on gevent all connected players' handlers run at once. 150 at once must not run
    out of connections (redis-py's pool refuses the 101st by default)."""
    from game_server.redis_store import RedisRoomStore
    from game_server.rooms import Room, Seat

    store = RedisRoomStore(redis_url)
    rooms = [store.create(lambda code, i=i: Room(code, "sort", False, "slices", 0, f"p_{i}", [Seat(f"p_{i}", "Ada")])) for i in range(150)]
    inside, errors = threading.Barrier(len(rooms), timeout=30), []

    def handler(i: int) -> None:
        try:
            with store.locked(rooms[i].code) as room:
                inside.wait()  # all 150 hold their room's connection now
                store.offsets[f"p_{i}"] = i  # and each uses another
                room.level = 1
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=handler, args=(i,)) for i in range(len(rooms))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert all(store.offsets[f"p_{i}"] == i for i in range(len(rooms)))
    with store.locked(rooms[-1].code) as room:
        assert room.level == 1


def test_readyz_names_postgresql_and_redis_when_they_stop(tmp_path):
    """A server on PostgreSQL and Redis is ready; with both stopped it is alive (/healthz) but
    not ready (/readyz: 503, naming both)."""
    import urllib.error

    with postgres_server() as database_url, redis_server() as redis_url:
        server = ServerProcess(tmp_path, extra_env={"DATABASE_URL": database_url, "REDIS_URL": redis_url}).start(timeout=120)
        try:
            deadline = time.monotonic() + 60  # the pool fills first
            while not (ready := server.get("/readyz") if _status(server, "/readyz") == 200 else None):
                assert time.monotonic() < deadline, "never ready"
                time.sleep(0.5)
            assert ready["checks"] == {"database": "ok", "rooms": "ok", "composer": "ok"}
        except BaseException:
            server.stop()
            raise
    try:
        with pytest.raises(urllib.error.HTTPError) as down:
            server.get("/readyz")
        checks = json.loads(down.value.read())["checks"]
        assert down.value.code == 503 and checks["database"] != "ok" and checks["rooms"] != "ok"
        assert server.get("/healthz")["status"] == "ok"
    finally:
        server.stop()


def _status(server, path: str) -> int:
    import urllib.error

    try:
        server.get(path)
        return 200
    except urllib.error.HTTPError as exc:
        return exc.code
