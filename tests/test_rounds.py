"""The one round path, in-process (Flask-SocketIO's test client on the real app, the committed
models composing in this process): the checks every game shares, once for all of them; and a
game that is not one of ours, plugged in through the registry alone, played to its result."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic import Field

from game_server.app import services_of
from game_server.games import GAMES
from game_server.games.base import Checked, Game, Move, Outcome, Result, RoundState, Started, Table, new_round_id
from game_server.material import PieceRequest
from game_server.protocol import ProtocolError, Strict

from .server import Clock, InProcessClient, fill_in_the_answer, in_process_app, wait_for_round


def sort_round(app, name="Ada", coop=False) -> tuple[InProcessClient, str]:
    """A player in a new Sort room (slices, level 0), and the room's code."""
    host = InProcessClient(app, name)
    created = host.call("create_room", {"game": "sort", "mode": "coop" if coop else "solo", "ladder": "slices", "level": 0})
    return host, created["room"]["code"]


def test_one_sequence_rule_a_resend_gets_its_reply_an_older_number_is_refused(app):
    ada, code = sort_round(app)
    view = ada.call("start_round", {})["round"]
    rid, board = view["round_id"], view["board"]
    clip = board["tray"][0]
    slot = next(i for i, s in enumerate(board["slots"]) if s is None and i not in board["fixed"])
    first = ada.call("sort_move", {"round_id": rid, "seq": 1, "version": board["version"], "move": {"kind": "place", "clip": clip, "slot": slot}})
    assert first["ok"] and first["board"]["slots"][slot] == clip
    again = ada.call("sort_move", {"round_id": rid, "seq": 1, "version": board["version"], "move": {"kind": "place", "clip": clip, "slot": slot}})
    assert again == {**first, "duplicate": True}  # not applied twice: the same board
    listen = ada.call("sort_move", {"round_id": rid, "seq": 2, "version": first["board"]["version"], "move": {"kind": "listen_board"}})
    assert listen["ok"]
    old = ada.call("sort_move", {"round_id": rid, "seq": 1, "version": listen["board"]["version"], "move": {"kind": "listen_board"}})
    assert old["error"]["code"] == "old_seq"
    stored = wait_for_round(services_of(app).storage, rid)
    assert [m["payload"]["kind"] for m in stored.moves] == ["place", "listen_board"]  # each move stored once


def test_a_move_for_another_round_or_another_game_is_wrong_round_and_changes_nothing(app):
    ada, code = sort_round(app)
    view = ada.call("start_round", {})["round"]
    wrong = ada.call("sort_move", {"round_id": "r_0000000000000000", "seq": 1, "version": 0, "move": {"kind": "listen_board"}})
    assert wrong["error"]["code"] == "wrong_round"
    other_game = ada.call("run_input", {"round_id": view["round_id"], "seq": 1, "inputs": [{"tick": 0, "lane": 0, "key": "right", "down": True}]})
    assert other_game["error"]["code"] == "wrong_round"
    assert ada.call("start_round", {"lanes": "both"})["error"]["code"] == "bad_payload"  # Sort's start has no lanes
    assert ada.call("start_round", {})["error"]["code"] == "round_in_progress"
    assert wait_for_round(services_of(app).storage, view["round_id"]).moves == []


def test_the_move_that_ends_a_round_stores_its_result_and_every_later_move_hears_it(app):
    ada, code = sort_round(app)
    view = ada.call("start_round", {})["round"]
    rid = view["round_id"]
    seq, version = fill_in_the_answer(app, ada, code, view)
    ended = ada.call("sort_move", {"round_id": rid, "seq": seq, "version": version, "move": {"kind": "submit"}})
    answer = wait_for_round(services_of(app).storage, rid).setup["answer"]
    assert ended["ok"] and ended["result"]["details"]["cleared"] and ended["result"]["answer"] == answer
    assert [e["round_id"] for e in ada.events("round_ended")] == [rid]
    stored = wait_for_round(services_of(app).storage, rid)
    assert stored.result["score"] == ended["result"]["score"] and stored.ended_at is not None
    late = ada.call("sort_move", {"round_id": rid, "seq": seq + 1, "version": version, "move": {"kind": "listen_board"}})
    assert late["error"]["code"] == "round_over" and late["error"]["result"] == ended["result"]
    assert ada.call("start_round", {})["ok"]  # the room is free for the next round


def test_a_coop_partner_sees_the_start_and_every_move_and_the_round_waits_while_a_seat_is_away(app):
    host, code = sort_round(app, "Host", coop=True)
    guest = InProcessClient(app, "Guest")
    assert guest.call("join_room", {"code": code})["ok"]
    view = host.call("start_round", {})["round"]
    assert [v["round_id"] for v in guest.events("round_started")] == [view["round_id"]]
    moved = host.call("sort_move", {"round_id": view["round_id"], "seq": 1, "version": view["board"]["version"], "move": {"kind": "listen_board"}})
    pushed = guest.events("board")
    assert [(b["by"], b["move"], b["board"]) for b in pushed] == [(host.player_id, "listen_board", moved["board"])]
    guest.sio.disconnect()
    away = host.events("partner_away")
    assert [a["player_id"] for a in away] == [guest.player_id]
    paused = host.call("sort_move", {"round_id": view["round_id"], "seq": 2, "version": moved["board"]["version"], "move": {"kind": "listen_board"}})
    assert paused["error"]["code"] == "round_paused"


def test_a_run_on_the_same_path_a_resent_batch_and_a_pause(app):
    """Run's events take the same path: the same sequence rule, and `run_pause` (not counted in
    the sequence, nothing stored) stops the clock for a solo player."""
    cy = InProcessClient(app, "Cy")
    assert cy.call("create_room", {"game": "run", "level": 0})["ok"]
    view = cy.call("start_round", {})["round"]
    rid, clock = view["round_id"], Clock(view)
    clock.wait_for(0)
    batch = {"round_id": rid, "seq": 1, "inputs": [{"tick": clock.now() + 2, "lane": 0, "key": "right", "down": True}]}
    first = cy.call("run_input", batch)
    assert first["ok"] and cy.call("run_input", batch) == {**first, "duplicate": True}
    paused = cy.call("run_pause", {"round_id": rid, "paused": True})
    assert paused["round"]["run"]["paused"] is True
    tick = paused["round"]["run"]["clock_tick"]
    refused = cy.call("run_input", {"round_id": rid, "seq": 2, "inputs": [{"tick": tick + 1, "lane": 0, "key": "jump", "down": True}]})
    assert refused["error"]["code"] == "round_paused"
    assert cy.call("run_pause", {"round_id": rid, "paused": False})["round"]["run"]["paused"] is False
    stored = wait_for_round(services_of(app).storage, rid)
    assert [m["payload"] for m in stored.moves] == [{"inputs": batch["inputs"]}]  # the batch once; pauses are not moves


def test_every_game_event_is_answered_and_unknown_games_are_refused(app):
    ada = InProcessClient(app, "Ada")
    for game in GAMES.values():
        for event in game.moves:
            assert ada.call(event, {"round_id": "r_x", "seq": 1})["error"]["code"] in ("bad_payload", "not_in_room")
    assert ada.call("create_room", {"game": "chess"})["error"]["code"] == "unknown_game"
    assert ada.call("create_room", {"game": "sort", "ladder": "run"})["error"]["code"] == "unknown_ladder"


# --- a game of the test's own, through the registry alone ---------------------------------------


class Guess(Strict):
    round_id: str = Field(max_length=40)
    seq: int = Field(ge=1)
    notes: int = Field(ge=0, le=10_000)


@dataclass(kw_only=True)
class CountRound(RoundState):
    notes: int  # the secret: how many notes the piece's melody has


def guess(state: CountRound, p: Guess, player: str, coop: bool) -> Checked:
    """Guess how many notes the melody has: the round ends on the right count."""
    if p.notes == 0:
        raise ProtocolError("no_guess", "a melody has notes")

    def apply() -> Outcome:
        if p.notes != state.notes:
            return Outcome({"right": False, "hint": "more" if p.notes < state.notes else "fewer"}, [("guessed", {"by": player, "notes": p.notes}, False)])
        public = {"round_id": state.round_id, "score": 100, "notes": state.notes}
        return Outcome({"right": True}, result=Result(100, public, {"notes": state.notes}, "guessed"))

    return Checked({"notes": p.notes}, apply)


class Count(Game):
    name = "count"
    title = "Count"
    default_ladder = "count"
    moves = {"count_guess": Move(Guess, guess)}

    def ladders(self) -> dict[str, list]:
        return {"count": [8]}

    def catalog(self) -> dict:
        return {"game": self.name, "name": self.title, "ladders": [{"ladder": "count", "name": "Count", "levels": []}]}

    def start(self, table: Table, level: int, options) -> Started:
        composed = table.take(PieceRequest(bars=8))
        piece = composed.pieces[0]
        state = CountRound(new_round_id(), f"count-{level}", table.players, table.names, time.time(), notes=len(piece.melody))
        return Started(state, composed.seed, "{}", {"notes": state.notes})

    def view(self, state: CountRound) -> dict:
        return {"round_id": state.round_id, "game": self.name, "level": state.level_name, "result": state.result}


def test_a_new_game_needs_only_its_registry_entry(tmp_path, monkeypatch):
    """A game the server has never heard of is registered (as its folder would be) and played
    to a stored result on the leaderboard: nothing in the lobby, rounds, storage or transport
    names it."""
    monkeypatch.setitem(GAMES, "count", Count())
    app = in_process_app(tmp_path)
    try:
        bea = InProcessClient(app, "Bea")
        code = bea.call("create_room", {"game": "count"})["room"]["code"]
        view = bea.call("start_round", {})["round"]
        with services_of(app).store.locked(code) as room:
            notes = room.round.notes
        assert bea.call("count_guess", {"round_id": view["round_id"], "seq": 1, "notes": 0})["error"]["code"] == "no_guess"
        wrong = bea.call("count_guess", {"round_id": view["round_id"], "seq": 1, "notes": notes + 1})
        assert wrong == {"ok": True, "right": False, "hint": "fewer"}
        right = bea.call("count_guess", {"round_id": view["round_id"], "seq": 2, "notes": notes})
        assert right["result"]["notes"] == notes
        stored = wait_for_round(services_of(app).storage, view["round_id"])
        assert [m["payload"] for m in stored.moves] == [{"notes": notes + 1}, {"notes": notes}] and stored.result["score"] == 100
        board = app.test_client().get("/api/leaderboard?game=count").get_json()
        assert [r["names"] for r in board["results"]] == ["Bea"]
    finally:
        services_of(app).storage.close()

