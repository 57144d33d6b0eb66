"""Run over the real socket protocol: a scripted bot plays a whole level in real time and gets the
score the rules compute offline from the same inputs; a co-op round with two clients; every
cheat refused with a code while the round goes on."""

from __future__ import annotations

import time

import pytest

from game_server.games.run import bot as run_bot
from game_server.games.run import rules as run
from game_server.games.run.game import stored_result
from game_server.games.run.physics import Lane, Platform
from music import piece_from_dict

from .server import Clock, Player

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)
pytestmark = pytest.mark.realtime  # bots that play on the round's clock


def level_of(view: dict) -> run.Level:
    """The level rebuilt from the piece the server sent; it must be the level the server sent."""
    chords = len(view["run"]["lanes"]) == 2
    level = run.build_level(piece_from_dict(view["run"]["piece"]), chords)
    public = {k: view["run"][k] for k in ("physics", "tempo", "ticks_per_second", "lead_steps", "bar_x", "lanes")}
    assert level.public() == public
    return level


def lane_of(public_lane: dict, tempo: int) -> Lane:
    return Lane(tuple(Platform(*p) for p in public_lane["platforms"]), public_lane["goal"], public_lane["start_x"], tempo)


def bot_batches(view: dict, lanes: list[int]) -> list[list[dict]]:
    """The bot's inputs for these lanes, one batch per tick, in tick order."""
    by_tick: dict[int, list[dict]] = {}
    for lane in lanes:
        for tick, key, down in run_bot.play(lane_of(view["run"]["lanes"][lane], view["run"]["tempo"])).inputs:
            by_tick.setdefault(tick, []).append({"tick": tick, "lane": lane, "key": key, "down": down})
    return [by_tick[t] for t in sorted(by_tick)]


def stream(player: Player, view: dict, batches: list[list[dict]], early: int = 10) -> list[list[dict]]:
    """Send each batch `early` ticks before its tick, as a client playing live would; returns the
    batches the server accepted."""
    clock, accepted = Clock(view), []
    for batch in batches:
        clock.wait_for(batch[0]["tick"] - early)
        player.seq += 1
        reply = player.call("run_input", {"round_id": view["round_id"], "seq": player.seq, "inputs": batch})
        if reply["ok"]:
            accepted.append(batch)
        else:
            player.seq -= 1
            assert reply["error"]["code"] == "round_over", reply
            break
    return accepted


def start(player: Player, level: int | None, **start_args) -> dict:
    reply = player.call("start_round", {**({} if level is None else {"level": level}), **start_args})
    assert reply["ok"], reply
    return reply["round"]


def test_a_bot_plays_a_whole_level_and_gets_the_offline_score(server):
    bot = Player(server, "RunBot")
    try:
        assert bot.call("create_room", {"game": "run", "mode": "solo", "level": 0})["ok"]
        view = start(bot, 0)
        assert view["game"] == "run" and view["level"] == "run-0" and view["run"]["clock_tick"] < 0
        level = level_of(view)
        accepted = stream(bot, view, bot_batches(view, [0]))
        result = bot.wait_for("round_ended", timeout=30)
        offline = run.replay(level, (0,), {0: 0}, accepted)
        assert result["score"] == offline["score"] and result["lanes"] == offline["lanes"]
        lane = result["lanes"][0]
        assert lane["status"] == "goal" and lane["judgements"]["perfect"] >= 0.7 * (len(level.lanes[0].platforms) - 1)
        judged = [j for name, data in bot.seen if name == "run_judgements" for j in data["judgements"]]
        assert len(judged) == sum(lane["judgements"].values())  # every judgement was pushed as it happened
        stored = server.stored_round(view["round_id"])
        assert stored.result["score"] == result["score"]
        assert stored_result(stored.setup, piece_from_dict(view["run"]["piece"]), [m["payload"]["inputs"] for m in stored.moves]) == offline
        # frame-exact timing: stored and shown with the reason, but no person plays so: not ranked
        assert "no person's timing is that even" in result["flagged"] and stored.result["flagged"] == result["flagged"]
        board = server.get("/api/leaderboard?game=run&level=run-0")
        assert not any(r["round_id"] == view["round_id"] for r in board["results"])
        # after the end, inputs are refused
        late = bot.call("run_input", {"round_id": view["round_id"], "seq": bot.seq + 1, "inputs": [{"tick": 99_999, "lane": 0, "key": "jump", "down": True}]})
        assert late["error"]["code"] == "round_over"
    finally:
        bot.close()


def test_coop_round_melody_and_chords_on_two_clients(server):
    import threading

    host, guest = Player(server, "Melody"), Player(server, "Chords")
    try:
        code = host.call("create_room", {"game": "run", "mode": "coop", "level": 1})["room"]["code"]
        assert guest.call("join_room", {"code": code})["ok"]
        view = start(host, 1)
        guest_view = guest.wait_for("round_started")
        assert view["run"]["lanes_of"] == {host.player_id: [0], guest.player_id: [1]} == guest_view["run"]["lanes_of"]
        level = level_of(view)
        sent: dict[str, list] = {}

        def play(player: Player, lane: int) -> None:
            sent[player.player_id] = stream(player, view, bot_batches(view, [lane]))

        threads = [threading.Thread(target=play, args=(host, 0)), threading.Thread(target=play, args=(guest, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        ended = [host.wait_for("round_ended", timeout=30), guest.wait_for("round_ended", timeout=30)]
        assert ended[0] == ended[1]
        result = ended[0]
        assert [lane["status"] for lane in result["lanes"]] == ["goal", "goal"] and result["sync_ticks"] > 0
        # each client saw the other's inputs, as sent
        for me, other in ((host, guest), (guest, host)):
            pushed = [data for name, data in me.seen if name == "run_inputs"]
            assert [data["inputs"] for data in pushed] == sent[other.player_id] and {data["by"] for data in pushed} == {other.player_id}
        batches = sorted(sent[host.player_id] + sent[guest.player_id], key=lambda b: b[0]["tick"])
        assert run.replay(level, (0, 1), {0: 0, 1: 0}, batches) == {k: v for k, v in result.items() if k not in ("round_id", "level", "flagged")}
        assert result["level"] == "run-1-duo"
    finally:
        host.close()
        guest.close()


def test_cheats_are_refused_and_the_round_goes_on(server):
    cheat = Player(server, "Cheater")
    try:
        assert cheat.call("create_room", {"game": "run", "level": 0})["ok"]
        assert cheat.call("calibrate", {"offset_ms": 900})["error"]["code"] == "bad_payload"
        assert cheat.call("calibrate", {"offset_ms": 30})["ok"]
        view = start(cheat, 0)
        rid, clock = view["round_id"], Clock(view)

        def send(seq: int, *inputs, **extra):
            return cheat.call("run_input", {"round_id": rid, "seq": seq, "inputs": [dict(zip(("tick", "lane", "key", "down"), i)) for i in inputs], **extra})

        def code(reply) -> str:
            assert not reply["ok"], reply
            return reply["error"]["code"]

        position = send(1, (0, 0, "right", True), x=123)
        assert code(position) == "bad_payload" and position["error"]["server_tick"] < 0  # a position is never taken; the clock is in the count-in
        assert code(send(1, (0, 0, "right", True), score=10**6)) == "bad_payload"
        assert code(cheat.call("run_input", {"round_id": rid, "seq": 1, "inputs": [{"tick": 0, "lane": 0, "key": "right", "down": True, "x": 5}]})) == "bad_payload"
        assert code(cheat.call("submit_score", {"round_id": rid, "score": 10**6})) == "unknown_event"
        assert code(send(1, (200, 0, "right", True))) == "future_input"  # the clock is still in the count-in
        clock.wait_for(30)
        t = clock.now()
        first = send(1, (t + 5, 0, "right", True))
        assert first["ok"]
        again = send(1, (t + 6, 0, "left", True))  # the same batch number again: its first reply, not applied
        assert again == {**first, "duplicate": True}
        assert code(send(2, (t + 6, 0, "right", True))) == "key_unchanged"  # right is already down
        assert code(send(2, (t + 6, 0, "jump", True), (t + 7, 0, "jump", False), (t + 8, 0, "jump", True))) == "too_fast"
        assert code(send(2, (t + 4, 0, "right", False))) == "out_of_order"
        wrong_lane = send(2, (t + 6, 1, "right", True))
        assert code(wrong_lane) == "wrong_lane" and wrong_lane["error"]["server_tick"] >= t
        assert code(send(2, (clock.now() + 120, 0, "right", False))) == "future_input"
        clock.wait_for(t + 10 + run.LATE_TOLERANCE + 12)  # the server's clock (ticking every 6) moves the lane past t + 10
        assert code(send(2, (t + 10, 0, "right", False))) == "late_input"
        no_seq = send(0, (clock.now(), 0, "right", False))
        assert code(no_seq) == "bad_payload" and no_seq["error"]["server_tick"] > t
        result = cheat.wait_for("round_ended", timeout=40)  # holding right, the avatar runs until it falls or is scrolled off
        stored = server.stored_round(rid)
        assert [m["payload"]["inputs"] for m in stored.moves] == [[{"tick": t + 5, "lane": 0, "key": "right", "down": True}]]
        assert stored.setup["offsets"] == {"0": 30} and result["lanes"][0]["inputs"] == 1
        assert code(send(2, (clock.now(), 0, "right", False))) == "round_over"
        # the connection and the room are still fine: a new round starts
        assert start(cheat, 0)["round_id"] != rid
    finally:
        cheat.close()


@pytest.mark.parametrize("args, error", [({"level": 0, "lanes": "both"}, "level_needs_chords"), ({"level": 9}, "unknown_level")])
def test_bad_round_requests(server, args, error):
    player = Player(server, "Asker")
    try:
        assert player.call("create_room", {"game": "run", "level": 1})["ok"]
        assert player.call("start_round", args)["error"]["code"] == error
        assert start(player, None)["level"] == "run-1"  # the refused request changed nothing
        assert player.call("create_room", {"game": "run", "ladder": "slices"})["error"]["code"] == "unknown_ladder"
    finally:
        player.close()


def test_solo_on_two_key_sets_and_reconnecting_mid_round(server):
    first = Player(server, "TwoHands")
    assert first.call("create_room", {"game": "run", "level": 1})["ok"]
    view = start(first, 1, lanes="both")
    assert view["level"] == "run-1-duo" and view["run"]["lanes_of"] == {first.player_id: [0, 1]}
    first.close()  # the connection drops in the count-in; the round does not wait
    player = Player(server, "TwoHands", token=first.token)
    try:
        back = player.hello["round"]
        assert back["round_id"] == view["round_id"] and back["run"]["lanes"] == view["run"]["lanes"]
        clock = Clock(back)
        clock.wait_for(10)
        t = clock.now()
        both = [{"tick": t + 2, "lane": 0, "key": "right", "down": True}, {"tick": t + 2, "lane": 1, "key": "right", "down": True}]
        batch = {"round_id": view["round_id"], "seq": 1, "inputs": both}
        accepted = player.call("run_input", batch)
        assert accepted["ok"]
        resent = player.call("run_input", batch)  # a client unsure whether its batch arrived sends it again
        assert resent == {**accepted, "duplicate": True}
        again = player.call("hello", {"name": "TwoHands", "token": first.token})["round"]
        assert again["run"]["inputs"] == {"0": [[t + 2, "right", True]], "1": [[t + 2, "right", True]]}
        assert again["run"]["clock_tick"] >= t
        sort_move = player.call("sort_move", {"round_id": view["round_id"], "seq": 2, "version": 0, "move": {"kind": "listen_board"}})
        assert sort_move["error"]["code"] == "wrong_round"
    finally:
        player.close()


def test_a_solo_run_pauses_and_resumes_where_it_stopped(server):
    player = Player(server, "Pauser")
    try:
        assert player.call("create_room", {"game": "run", "level": 0})["ok"]
        view = start(player, 0)
        rid, clock = view["round_id"], Clock(view)
        clock.wait_for(20)
        assert player.call("run_input", {"round_id": rid, "seq": 1, "inputs": [{"tick": clock.now(), "lane": 0, "key": "right", "down": True}]})["ok"]
        paused = player.call("run_pause", {"round_id": rid, "paused": True})
        assert paused["ok"] and paused["round"]["run"]["paused"]
        stopped_at = paused["round"]["run"]["clock_tick"]
        refused = player.call("run_input", {"round_id": rid, "seq": 2, "inputs": [{"tick": stopped_at, "lane": 0, "key": "right", "down": False}]})
        assert refused["error"]["code"] == "round_paused"
        time.sleep(2 * run.LATE_TOLERANCE / 60)  # had the clock gone on, the server would have stepped the lane on by now
        assert not any(name == "round_ended" for name, _ in player.seen)
        resumed = player.call("run_pause", {"round_id": rid, "paused": False})
        assert resumed["ok"] and not resumed["round"]["run"]["paused"]
        assert stopped_at <= resumed["round"]["run"]["clock_tick"] <= stopped_at + 6  # the clock went on from where it stopped
        clock = Clock(resumed["round"])
        assert player.call("run_input", {"round_id": rid, "seq": 2, "inputs": [{"tick": clock.now(), "lane": 0, "key": "right", "down": False}]})["ok"]
        assert player.call("run_pause", {"round_id": "r_nope", "paused": True})["error"]["code"] == "wrong_round"
    finally:
        player.close()


def test_a_coop_run_cannot_be_paused(server):
    host, guest = Player(server, "Host"), Player(server, "Guest")
    try:
        code = host.call("create_room", {"game": "run", "mode": "coop", "level": 1})["room"]["code"]
        assert guest.call("join_room", {"code": code})["ok"]
        view = start(host, None)
        assert host.call("run_pause", {"round_id": view["round_id"], "paused": True})["error"]["code"] == "coop_no_pause"
    finally:
        host.close()
        guest.close()
