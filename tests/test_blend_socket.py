"""Beat Hunt over the real socket protocol: a real server process and real python-socketio clients
play solo and co-op rounds; every refusal the game can send is triggered once; the target is
heard (a WAV at an unguessable address), never read. The clock's tests run in-process on a level
of a second, so that a round's time runs out within the test.

The clients never learn the target from the server; the tests read it from the server's own
database, as an all-knowing referee would."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import wave

import pytest

from game_server.app import services_of
from game_server.games.base import Outcome
from game_server.games.blend import rules
from game_server.games.blend.game import BeatHunt, stored_result
from game_server.games.blend.material import unpack_beats

from .server import InProcessClient, Player, ServerProcess, heard_only_rate, wait_for_round

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)

pytestmark = [pytest.mark.timeout(240), pytest.mark.realtime]  # played on the round's clock


def start_hunt(player: Player, level: int = 0, mode: str = "solo", partner: Player | None = None) -> dict:
    room = player.call("create_room", {"game": "blend", "mode": mode, "level": level})
    assert room["ok"], room
    if partner is not None:
        assert partner.call("join_room", {"code": room["room"]["code"]})["ok"]
    started = player.call("start_round", {})
    assert started["ok"], started
    return started["round"]


def hunt(player: Player | InProcessClient, round_id: str, kind: str, seq: int | None = None, **fields) -> dict:
    """A `hunt_move` with the player's next sequence number (or `seq`)."""
    if seq is None:
        player.seq = getattr(player, "seq", 0) + 1
        seq = player.seq
    return player.call("hunt_move", {"round_id": round_id, "seq": seq, "kind": kind, **fields})


def code(reply: dict) -> str:
    assert not reply["ok"], reply
    return reply["error"]["code"]


def near(target: list[int], grid: int) -> tuple[int, int]:
    """A cell one step from the target along y: a close answer, not an exact one."""
    x, y = target
    return (x, y + 1 if y + 1 < grid else y - 1)


def replayed(server: ServerProcess, round_id: str):
    stored = server.stored_round(round_id)
    return stored, stored_result(stored.setup, [m["payload"] for m in stored.moves])


def test_the_catalog_lists_beat_hunt(server):
    entry = next(g for g in server.get("/api/games")["games"] if g["game"] == "blend")
    assert entry["name"] == "Beat Hunt" and [ladder["ladder"] for ladder in entry["ladders"]] == ["hunt"]
    levels = entry["ladders"][0]["levels"]
    assert [lv["grid"] for lv in levels] == [lv.grid for lv in rules.LADDER]
    assert levels[0]["name"] == "Level 1 — 5×5 grid, corners far apart" and "11×11" in levels[-1]["changes"]


def test_a_solo_round_moves_listens_and_submits_to_the_rules_score(server):
    ada = Player(server, "Ada")
    try:
        view = start_hunt(ada)
        rid, seen = view["round_id"], view["hunt"]
        assert view["game"] == "blend" and view["level"] == "hunt-0" and view["result"] is None
        assert (seen["grid"], seen["puck"], seen["listens_left"], seen["owners"]) == (5, [2, 2], 6, {ada.player_id: "xy"})
        assert unpack_beats(seen["packed_beats"], 5 * 5, seen["steps"]).shape == (25, 32, 9)  # every cell's beat, packed
        assert set(seen["target"]) == {"audio", "seconds"}  # heard only: no cell, no hits
        stored = server.stored_round(rid)
        target, level = stored.setup["target"], rules.LADDER[0]
        answer = near(target, 5)
        assert hunt(ada, rid, "move", x=target[0], y=target[1])["hunt"]["puck"] == target
        moved = hunt(ada, rid, "move", y=answer[1])  # an axis not sent stays
        assert moved["ok"] and moved["hunt"]["puck"] == list(answer) and moved["hunt"]["moves"] == 2
        listen = hunt(ada, rid, "listen")
        assert listen["target"] == seen["target"] and listen["hunt"]["listens_left"] == 5
        time.sleep(max(0.0, rules.MIN_SECONDS - listen["hunt"]["clock"]))  # a person hears the beat once first
        done = hunt(ada, rid, "submit")
        result = done["result"]
        assert ada.wait_for("round_ended") == result and result["target"] == target and result["flagged"] is None
        stored, offline = replayed(server, rid)
        t = stored.moves[-1]["payload"]["t"]
        assert result["score"] == rules.score(level, tuple(target), answer, 1, t).points == offline.points == stored.result["score"]
        assert result["details"] == offline.breakdown and result["details"]["answer"] == list(answer) and 0 < result["score"] < 1000
        assert server.get(f"/api/rounds/{rid}/piece.mid")[:4] == b"MThd"  # the beat to find, once the round is over
        assert code(hunt(ada, rid, "listen")) == "round_over"
    finally:
        ada.close()


def test_the_target_is_a_wav_at_its_address_only(server):
    bea = Player(server, "Bea")
    try:
        view = start_hunt(bea)
        heard = view["hunt"]["target"]
        server.stored_round(view["round_id"])  # committed just after the start's ack
        with wave.open(io.BytesIO(server.get(heard["audio"]))) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, heard_only_rate())
            assert abs(wav.getnframes() / wav.getframerate() - heard["seconds"]) < 0.05
        for wrong in (heard["audio"].replace(heard["audio"][-10:-4], "AAAAAA"), f"/api/rounds/{view['round_id']}/clips/{'A' * 22}.wav"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                server.get(wrong)
            assert refused.value.code == 404 and json.loads(refused.value.read())["error"]["code"] == "no_such_clip"
    finally:
        bea.close()


def test_a_coop_round_each_steers_one_axis_and_one_submit_ends_it(server):
    host, guest = Player(server, "Ex"), Player(server, "Why")
    try:
        view = start_hunt(host, level=1, mode="coop", partner=guest)
        rid = view["round_id"]
        assert guest.wait_for("round_started")["hunt"]["owners"] == {host.player_id: "x", guest.player_id: "y"} == view["hunt"]["owners"]
        assert hunt(host, rid, "move", x=1)["hunt"]["puck"] == [1, 3]
        assert guest.wait_for("hunt")["hunt"]["puck"] == [1, 3]  # live, with who moved
        assert hunt(guest, rid, "move", y=5)["hunt"]["puck"] == [1, 5]
        pushed = host.wait_for("hunt")
        assert (pushed["by"], pushed["kind"], pushed["hunt"]["puck"]) == (guest.player_id, "move", [1, 5])
        assert code(hunt(host, rid, "move", x=2, y=2)) == "not_your_axis" and code(hunt(guest, rid, "move", x=0)) == "not_your_axis"
        assert hunt(guest, rid, "listen")["hunt"]["listens_left"] == rules.LADDER[1].listens - 1
        assert host.wait_for("hunt")["kind"] == "listen"
        done = hunt(guest, rid, "submit")
        assert host.wait_for("hunt")["kind"] == "submit"
        ended = [p.wait_for("round_ended") for p in (host, guest)]
        assert ended[0] == ended[1] == done["result"] and done["result"]["details"]["answer"] == [1, 5]
        assert code(hunt(host, rid, "move", x=3)) == "round_over"
        stored, offline = replayed(server, rid)
        assert [m["payload"]["player"] for m in stored.moves] == [host.player_id, guest.player_id, guest.player_id, guest.player_id]
        assert offline.points == stored.result["score"] == done["result"]["score"]
    finally:
        host.close()
        guest.close()


def test_a_coop_hunt_goes_on_without_a_dropped_partner_and_a_newcomer_has_no_axis(server):
    """waits_for_partner=False: the clock does not stop, so the seat still there plays on."""
    host, guest = Player(server, "Stays"), Player(server, "Drops")
    newcomer = None
    try:
        view = start_hunt(host, mode="coop", partner=guest)
        rid = view["round_id"]
        guest.close()
        host.wait_for("partner_away")
        assert hunt(host, rid, "move", x=0)["ok"]  # not round_paused
        guest_back = Player(server, "Drops", token=guest.token)
        assert guest_back.call("leave_room", {})["ok"]
        guest_back.close()
        newcomer = Player(server, "Late")
        assert newcomer.call("join_room", {"code": host.call("resync", {})["room"]["code"]})["ok"]
        assert code(hunt(newcomer, rid, "move", y=0)) == "not_in_round"  # the round's seats were set at its start
        assert code(hunt(newcomer, rid, "submit")) == "not_in_round"
    finally:
        host.close()
        if newcomer is not None:
            newcomer.close()


def test_every_refusal_the_round_path_and_the_rules_send(server):
    cy = Player(server, "Cy")
    try:
        assert code(hunt(cy, "r_0000000000000000", "listen")) == "not_in_room"
        view = start_hunt(cy)
        rid = view["round_id"]
        bad = [{"x": 11}, {"x": -1}, {"y": True}, {"x": 1, "t": 0.0}, {"x": 1, "score": 1000}]
        assert [code(hunt(cy, rid, "move", seq=1, **fields)) for fields in bad] == ["bad_payload"] * len(bad)  # no time or score is taken from a client
        assert code(hunt(cy, rid, "teleport", seq=1)) == "bad_payload"
        assert code(hunt(cy, rid, "move", seq=1, x=7)) == "off_grid"  # within the payload's bound, off a 5 x 5 grid
        assert code(hunt(cy, rid, "move", seq=1)) == "empty_move"
        assert code(hunt(cy, "r_0000000000000000", "move", seq=1, x=1)) == "wrong_round"
        first = hunt(cy, rid, "move", seq=1, x=1)
        assert first["ok"] and hunt(cy, rid, "move", seq=1, x=4) == {**first, "duplicate": True}  # sent again: not applied again
        for seq in range(2, 2 + rules.LADDER[0].listens):
            assert hunt(cy, rid, "listen", seq=seq)["ok"]
        assert code(hunt(cy, rid, "listen", seq=seq + 1)) == "no_listens_left"
        assert code(hunt(cy, rid, "move", seq=seq - 1, x=2)) == "old_seq"
        done = hunt(cy, rid, "submit", seq=seq + 1)
        late = hunt(cy, rid, "move", seq=seq + 2, x=2)
        assert code(late) == "round_over" and late["error"]["result"] == done["result"]
        stored = server.stored_round(rid)
        assert [m["payload"]["kind"] for m in stored.moves] == ["move"] + ["listen"] * rules.LADDER[0].listens + ["submit"]
        # submitted before a beat can be heard once: stored, shown, not ranked
        assert (done["result"]["flagged"] is not None) == (stored.moves[-1]["payload"]["t"] < rules.MIN_SECONDS)
    finally:
        cy.close()


# --- the clock, in-process, on a level of one second ---------------------------------------------

QUICK = rules.Level("5x5-quick", grid=5, listens=1, seconds=1.0, contrast="contrasting")


@pytest.fixture
def quick(app, monkeypatch):
    """The real app in this process, Beat Hunt's ladder one level of a second, and a solo round on it."""
    monkeypatch.setattr(rules, "LADDER", (QUICK,))
    dee = InProcessClient(app, "Dee")
    assert dee.call("create_room", {"game": "blend"})["ok"]
    return dee


def wait_for_end(player: InProcessClient, timeout: float = 5) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ended := player.events("round_ended"):
            return ended[0]
        time.sleep(0.05)
    raise AssertionError("no round_ended")


def test_the_clock_ends_a_round_at_its_limit(app, quick):
    view = quick.call("start_round", {})["round"]
    rid = view["round_id"]
    assert view["hunt"]["seconds"] == QUICK.seconds and hunt(quick, rid, "move", x=0)["ok"]
    result = wait_for_end(quick)
    assert result["ended"] == "timeout" and result["details"]["seconds"] == QUICK.seconds and result["details"]["answer"] == [0, 2]
    assert code(hunt(quick, rid, "listen")) == "round_over"
    stored = wait_for_round(services_of(app).storage, rid)
    assert stored_result(stored.setup, [m["payload"] for m in stored.moves]).points == stored.result["score"] == result["score"]


def test_a_move_after_the_limit_is_too_late_and_a_late_submit_still_ends_it(app, quick, monkeypatch):
    """The clock held back (as when a tick is late): the rules still judge by the server's time."""
    monkeypatch.setattr(BeatHunt, "tick", lambda self, state: Outcome())
    view = quick.call("start_round", {})["round"]
    rid = view["round_id"]
    time.sleep(QUICK.seconds + 0.1)
    assert code(hunt(quick, rid, "move", x=0)) == "too_late" and code(hunt(quick, rid, "listen")) == "too_late"
    done = hunt(quick, rid, "submit")
    assert done["result"]["ended"] == "submitted" and done["result"]["details"]["pace"] == 0
    stored = wait_for_round(services_of(app).storage, rid)
    assert stored_result(stored.setup, [m["payload"] for m in stored.moves]).points == stored.result["score"] == done["result"]["score"]
