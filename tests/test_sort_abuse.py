"""Hostile clients: each abuse is refused with a code, and a bystander playing in another room
notices nothing. And a result acknowledged before a SIGKILL is still there after a restart."""

from __future__ import annotations

import threading

import pytest
import socketio

from game_server.storage import Storage

from .server import Player, ServerProcess, answer_of, disconnect, solve, start_sort

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def bystander(server):
    """A player mid-round in another room, who must keep playing normally throughout."""
    player = Player(server, "Bystander")
    round_ = start_sort(player)
    yield player, round_
    player.close()


def still_fine(bystander) -> None:
    player, round_ = bystander
    reply = player.move(round_["round_id"], 0, "listen_board")
    assert reply["ok"], reply


def test_submitting_a_score_is_an_unknown_event(server, bystander):
    cheat = Player(server, "Cheat")
    try:
        reply = cheat.call("submit_score", {"score": 1000})
        assert reply["error"]["code"] == "unknown_event"
        assert cheat.wait_for("error")["code"] == "unknown_event"
        still_fine(bystander)
    finally:
        cheat.close()


def test_moves_in_a_room_one_is_not_in(server, bystander):
    intruder = Player(server, "Intruder")
    try:
        _, round_ = bystander
        reply = intruder.move(round_["round_id"], 0, "place", clip=round_["board"]["tray"][0], slot=1)
        assert reply["error"]["code"] == "not_in_room"
        start_sort(intruder)  # in a room of its own now, still not the bystander's
        reply = intruder.move(round_["round_id"], 0, "place", clip=round_["board"]["tray"][0], slot=1)
        assert reply["error"]["code"] == "wrong_round"
        still_fine(bystander)
    finally:
        intruder.close()


def test_a_thousand_events_a_second_are_rate_limited(server, bystander):
    flooder = Player(server, "Flood")
    try:
        round_ = start_sort(flooder)
        codes = []
        done = threading.Event()
        flooder.sio.on("error", lambda data: codes.append(data["code"]))
        for i in range(1000):
            flooder.sio.emit("sort_move", {"round_id": round_["round_id"], "seq": 10 + i, "version": 0, "move": {"kind": "listen_board"}})
        reply = flooder.call("sort_move", {"round_id": round_["round_id"], "seq": 5000, "version": 0, "move": {"kind": "listen_board"}})
        done.set()
        assert "rate_limited" in codes
        assert reply["ok"] or reply["error"]["code"] == "rate_limited"
        still_fine(bystander)
    finally:
        flooder.close()


def test_a_five_megabyte_payload_is_refused(server, bystander):
    big = Player(server, "Big")
    try:
        reply = big.call("create_room", {"game": "sort", "ladder": "x" * (5 * 1024 * 1024)}, timeout=30)
        assert reply["error"]["code"] == "payload_too_large"
        assert big.call("create_room", {"game": "sort"})["ok"]  # the connection is still good
        still_fine(bystander)
    finally:
        big.close()


@pytest.mark.parametrize(
    "event, payload, code",
    [
        ("hello", "just a string", "bad_payload"),
        ("create_room", {"game": "chess"}, "unknown_game"),
        ("create_room", {"game": "sort", "level": "1"}, "bad_payload"),
        ("create_room", {"game": "sort", "surprise": True}, "bad_payload"),
        ("join_room", {"code": "NOPE1234"}, "no_such_room"),
        ("sort_move", {"round_id": "r", "seq": 1, "version": 0}, "bad_payload"),
        ("sort_move", {"round_id": "r", "seq": -1, "version": 0, "move": {"kind": "place"}}, "bad_payload"),
        ("sort_move", [1, 2, 3], "bad_payload"),
        ("start_round", {}, "not_in_room"),
        # binary events (the protocol is JSON only: the server sends none, and refuses them)
        ("hello", {"name": b"Ada"}, "bad_payload"),
        ("create_room", b"\x00\xff" * 100, "bad_payload"),
    ],
)
def test_garbage_is_refused_with_a_code(server, bystander, event, payload, code):
    junk = Player(server, "Junk")
    try:
        reply = junk.call(event, payload)
        assert reply["ok"] is False and reply["error"]["code"] == code, reply
        still_fine(bystander)
    finally:
        junk.close()


def test_events_before_hello_are_refused(server):
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"])
    try:
        assert client.call("create_room", {"game": "sort"}, timeout=10)["error"]["code"] == "no_hello"
    finally:
        disconnect(client)


def test_third_player_refused(server):
    """(Wrong codes are limited per address, and every player here is 127.0.0.1: that limit is
    tested in-process, with addresses of their own, in tests/test_identity.py.)"""
    host, guest, third = Player(server, "H"), Player(server, "G"), Player(server, "T")
    try:
        code = host.call("create_room", {"game": "sort", "mode": "coop"})["room"]["code"]
        assert guest.call("join_room", {"code": code})["ok"]
        assert third.call("join_room", {"code": code})["error"]["code"] == "room_full"
    finally:
        for p in (host, guest, third):
            p.close()


def test_moves_after_the_round_ended(server):
    player = Player(server, "Late")
    try:
        round_ = start_sort(player)
        board = solve(player, round_, answer_of(server, round_["round_id"]))
        assert player.move(round_["round_id"], board["version"], "submit")["ok"]
        late = player.move(round_["round_id"], board["version"] + 1, "listen_board")
        assert late["error"]["code"] == "round_over"
    finally:
        player.close()


@pytest.mark.slow  # a server process of its own
def test_sigkill_right_after_an_acknowledged_result_loses_nothing(tmp_path):
    proc = ServerProcess(tmp_path).start()
    player = Player(proc, "Survivor")
    round_ = start_sort(player)
    board = solve(player, round_, answer_of(proc, round_["round_id"]))
    ack = player.move(round_["round_id"], board["version"], "submit")
    assert ack["ok"]
    proc.kill()
    player.close()
    proc.start()
    try:
        board = proc.get("/api/leaderboard?game=sort&level=slices-0")
        assert any(r["round_id"] == round_["round_id"] and r["score"] == ack["result"]["score"] for r in board["results"])
    finally:
        proc.stop()


@pytest.mark.slow  # a server process of its own
def test_sigkill_mid_round_loses_no_acknowledged_move(tmp_path):
    """Moves and Run inputs acknowledged before a SIGKILL are all in the database after it."""
    proc = ServerProcess(tmp_path).start()
    player = Player(proc, "Mover")
    round_ = start_sort(player)
    answer = answer_of(proc, round_["round_id"])
    acked, version = [], round_["board"]["version"]
    for slot, clip in enumerate(answer[:3]):
        reply = player.move(round_["round_id"], version, "place", clip=clip, slot=slot)
        assert reply["ok"]
        acked.append({"kind": "place", "clip": clip, "slot": slot})
        version = reply["board"]["version"]
    proc.kill()  # mid-round, right after the third ack
    player.close()
    stored = Storage(f"sqlite:///{proc.db}").get_round(round_["round_id"])
    assert [{k: v for k, v in m["payload"].items() if v is not None} for m in stored.moves] == acked
    assert stored.result is None and stored.ended_at is None  # the live round itself is lost with the process (docs/deploy.md: Redis keeps it)
