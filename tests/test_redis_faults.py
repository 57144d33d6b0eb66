"""Redis going away and coming back (docs/deploy.md, "Redis"): `resync`, `rooms_unavailable`, the
message queue resubscribing within about a second, and rooms kept by Redis's append-only file.

The real redis-server throughout (tests/services.py), killed with SIGKILL and started again on
the same port and directory, as a crash and a supervisor's restart would do."""

from __future__ import annotations

import sqlite3
import time

import pytest

from game_server.app import socketio_of

from .server import InProcessClient, Player, ServerProcess, fill_in_the_answer
from .services import RedisServer

QUEUE_LOST, QUEUE_BACK = "message queue lost Redis", "message queue back after"


def test_resync_answers_the_room_as_hello_does(app):
    """`resync` is hello's answer for a seated player, from the same code: the room, its round
    as it stands, and the seat's last sequence number; not seated, nothing."""
    ada = InProcessClient(app, "Ada")
    assert ada.call("resync", {}) == {"ok": True, "room": None, "round": None, "last_seq": 0}
    code = ada.call("create_room", {"game": "sort", "mode": "solo", "ladder": "slices", "level": 0})["room"]["code"]
    view = ada.call("start_round", {})["round"]
    seq, version = fill_in_the_answer(app, ada, code, view)
    again = ada.call("resync")  # no payload at all is `{}`
    assert again["ok"] and again["room"]["code"] == code and again["last_seq"] == seq - 1
    assert again["round"]["round_id"] == view["round_id"] and again["round"]["board"]["version"] == version
    assert again["round"]["result"] is None
    assert ada.call("resync", {"room": code})["error"]["code"] == "bad_payload"
    hello = socketio_of(app).test_client(app).emit("hello", {"name": "Ada", "token": ada.hello["token"]}, callback=True)  # takes Ada's seat over
    assert {k: hello[k] for k in ("room", "round", "last_seq")} == {k: again[k] for k in ("room", "round", "last_seq")}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_coop_round_across_two_processes_outlives_a_redis_crash(tmp_path):
    """Two server processes, one player on each, a real redis-server with its append-only file.
    Redis is killed (SIGKILL) mid-round and started again on the same port and directory: a move
    meanwhile is `rooms_unavailable` (retry); both players get `resync` within a few seconds of
    Redis returning (the host, whose page reloaded meanwhile and whose hello could not say where
    they sit, too), events flow between the processes again, the same move is accepted, and the
    round is played to `round_ended` for both, its result stored once. The outage is one WARNING
    and one INFO line per process."""
    redis = RedisServer(appendonly=True).start()
    db = tmp_path / "shared.db"
    env = {"REDIS_URL": redis.url, "DATABASE_URL": f"sqlite:///{db}", "LOG_LEVEL": "INFO"}
    a, b = ServerProcess(tmp_path, extra_env=env).start(), ServerProcess(tmp_path, extra_env=env).start()
    host, guest = Player(a, "Host"), Player(b, "Guest")
    try:
        code = host.call("create_room", {"game": "sort", "mode": "coop", "ladder": "slices", "level": 0})["room"]["code"]
        assert guest.call("join_room", {"code": code})["ok"]
        host.wait_for("room", where=lambda room: len(room["seats"]) == 2)
        round_ = host.call("start_round", {})["round"]
        rid = round_["round_id"]
        assert guest.wait_for("round_started")["round_id"] == rid
        answer = _answer(db, rid)
        first = guest.move(rid, round_["board"]["version"], "place", clip=answer[0], slot=0)
        assert first["ok"], first
        host.wait_for("board", where=lambda d: d["by"] == guest.player_id)

        redis.kill()
        killed = time.monotonic()
        refused = guest.move(rid, first["board"]["version"], "place", clip=answer[1], slot=1)
        assert refused["error"]["code"] == "rooms_unavailable" and refused["error"]["retry"] is True, refused
        assert time.monotonic() - killed < 3  # refused at once, not held on redis-py's retries
        visitor = Player(a, "Visitor")
        assert visitor.hello["room"] is None and "rooms_unavailable" not in visitor.hello  # a new player needs no Redis
        visitor.close()
        reloaded = Player(a, "Host", token=host.token)  # the host's page reloads: who they are needs no Redis, where they sit does
        assert reloaded.hello["player_id"] == host.player_id and reloaded.hello["rooms_unavailable"] is True and reloaded.hello["room"] is None
        time.sleep(max(0.0, killed + 6 - time.monotonic()))  # an outage past python-socketio's first back-offs (1, 2, 4 s)

        redis.start()  # the same port and directory: the append-only file brings the room back
        restarted = time.monotonic()
        for player, seq in ((reloaded, 0), (guest, 1)):
            state = player.wait_for("resync", timeout=10)
            assert state["room"]["code"] == code and state["round"]["round_id"] == rid and state["last_seq"] == seq
            assert state["round"]["board"]["slots"][:2] == [answer[0], None]  # the refused move changed nothing
        assert time.monotonic() - restarted < 5, "the queues took too long to come back"
        host = reloaded

        again = guest.move(rid, first["board"]["version"], "place", seq=guest.seq, clip=answer[1], slot=1)  # the same move, the same seq
        assert again["ok"] and "duplicate" not in again, again
        seen = host.wait_for("board", timeout=5, where=lambda d: d["by"] == guest.player_id)  # across processes again
        board = seen["board"]
        for slot, clip in enumerate(answer):
            if board["slots"][slot] is None:
                reply = host.move(rid, board["version"], "place", clip=clip, slot=slot)
                assert reply["ok"], reply
                board = reply["board"]
        result = host.move(rid, board["version"], "submit")["result"]
        assert host.wait_for("round_ended")["score"] == guest.wait_for("round_ended")["score"] == result["score"]
        with sqlite3.connect(db) as sql:
            assert sql.execute("select score from results where round_id = ?", (rid,)).fetchall() == [(result["score"],)]
        for server in (a, b):  # the outage said once per process, not once per retry
            log = server.log.read_text()
            assert log.count(QUEUE_LOST) == 1 and log.count(QUEUE_BACK) == 1, log[-3000:]
    finally:
        host.close()
        guest.close()
        a.stop()
        b.stop()
        redis.stop()


def _answer(db, round_id: str) -> list[str]:
    from game_server.storage import Storage

    storage = Storage(f"sqlite:///{db}")
    try:
        return storage.get_round(round_id).setup["answer"]
    finally:
        storage.close()


LOSE = """(event) => {  // the page's connection loses every `event` from now on, as a queue's gap would
  const net = window.arcade.net, dispatch = net.dispatchEvent.bind(net);
  net.dispatchEvent = (e) => (e.type === event ? true : dispatch(e));
}"""
RESYNC = "async () => { const state = await window.arcade.net.call('resync', {}); window.arcade.net.dispatchEvent(new CustomEvent('resync', {detail: state})); }"


def test_the_page_applies_a_resync_a_round_it_missed_shows_and_so_does_its_result(players, server):
    """A co-op guest's page that lost `round_started`, then `round_ended`, is given `resync`
    (the server's own state; a push carries the same as the reply): the round starts showing,
    then its result does."""
    from .server import solve

    host = Player(server, "Host")
    try:
        code = host.call("create_room", {"game": "sort", "mode": "coop", "ladder": "slices", "level": 0})["room"]["code"]
        guest = players("Guest")
        page = guest.page
        page.fill("#join-code", code)
        page.click("#join-form button")
        host.wait_for("room", where=lambda room: len(room["seats"]) == 2)
        page.evaluate(LOSE, "round_started")
        round_ = host.call("start_round", {})["round"]
        page.wait_for_timeout(500)
        assert page.evaluate("window.arcade.round") is None  # it never heard of the round
        page.evaluate(RESYNC)
        page.wait_for_selector("#sort:not([hidden]) #slots .slot")
        assert page.evaluate("window.arcade.round.round_id") == round_["round_id"]

        page.evaluate(LOSE, "round_ended")
        board = solve(host, round_, server.stored_round(round_["round_id"]).setup["answer"])
        result = host.move(round_["round_id"], board["version"], "submit")["result"]
        page.wait_for_timeout(500)
        assert page.is_hidden("#result")
        page.evaluate(RESYNC)
        page.wait_for_selector("#result:not([hidden])")
        assert page.inner_text("#result-score") == str(result["score"])
    finally:
        host.close()
