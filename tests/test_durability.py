"""No room is ever stuck by a database that does not take a write. The database here is the real
SQLite file of an in-process server; a trigger makes it refuse the writes of one table, as a
full disk or a lost database would, and is dropped to bring it back."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from game_server.app import create_app, services_of
from game_server.config import Config

from .server import InProcessClient, fill_in_the_answer, wait_for_round


def database(app) -> str:
    return services_of(app).storage.url.removeprefix("sqlite:///")


@contextmanager
def refusing(app, table: str):
    """While inside: every INSERT into `table` fails in the database itself."""
    with sqlite3.connect(database(app)) as db:
        db.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    try:
        yield
    finally:
        with sqlite3.connect(database(app)) as db:
            db.execute(f"DROP TRIGGER refuse_{table}")


def sort_room(app, name: str = "Ada") -> tuple[InProcessClient, str]:
    player = InProcessClient(app, name)
    return player, player.call("create_room", {"game": "sort", "ladder": "slices", "level": 0})["room"]["code"]


def listen(player, view, seq: int, version: int) -> dict:
    return player.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "listen_board"}})


def test_a_start_the_database_does_not_take_leaves_the_room_free(app):
    ada, _ = sort_room(app)
    with refusing(app, "rounds"):
        refused = ada.call("start_round", {})
    assert refused["error"]["code"] == "storage_unavailable" and refused["error"]["retry"] is True
    view = ada.call("start_round", {})["round"]  # the room was not left with a round nobody stored
    assert listen(ada, view, 1, view["board"]["version"])["ok"]
    assert len(wait_for_round(services_of(app).storage, view["round_id"]).moves) == 1


def test_a_move_the_database_does_not_take_changes_nothing_and_can_be_sent_again(app):
    ada, _ = sort_room(app)
    view = ada.call("start_round", {})["round"]
    board = view["board"]
    clip, slot = board["tray"][0], next(i for i, s in enumerate(board["slots"]) if s is None and i not in board["fixed"])
    place = {"round_id": view["round_id"], "seq": 1, "version": board["version"], "move": {"kind": "place", "clip": clip, "slot": slot}}
    with refusing(app, "moves"):
        refused = ada.call("sort_move", place)
    assert refused["error"]["code"] == "storage_unavailable"
    again = ada.call("sort_move", place)  # the same move, the same seq: it was never applied
    assert again["ok"] and again["board"]["slots"][slot] == clip and "duplicate" not in again
    assert [m["payload"]["kind"] for m in wait_for_round(services_of(app).storage, view["round_id"]).moves] == ["place"]


def test_a_result_the_database_does_not_take_is_kept_and_stored_on_the_next_try(app):
    ada, code = sort_room(app)
    view = ada.call("start_round", {})["round"]
    rid = view["round_id"]
    seq, version = fill_in_the_answer(app, ada, code, view)
    submit = {"round_id": rid, "seq": seq, "version": version, "move": {"kind": "submit"}}
    with refusing(app, "results"):
        first = ada.call("sort_move", submit)
        assert first["error"]["code"] == "storage_unavailable" and first["error"]["retry"] is True
        assert first["error"]["result"]["details"]["cleared"]  # told truthfully: the result exists, not yet stored
        assert ada.call("sort_move", submit)["error"]["code"] == "storage_unavailable"  # still down: still kept
        assert ada.call("start_round", {})["error"]["code"] == "storage_unavailable"  # a start tries to store it too
        assert ada.events("round_ended") == []
    stored_now = ada.call("sort_move", submit)  # the database is back: this try stores it
    assert stored_now["error"]["code"] == "round_over" and stored_now["error"]["result"] == first["error"]["result"]
    assert [e["score"] for e in ada.events("round_ended")] == [first["error"]["result"]["score"]]
    stored = wait_for_round(services_of(app).storage, rid)
    assert stored.result["score"] == first["error"]["result"]["score"] and stored.ended_at is not None
    assert ada.call("start_round", {})["ok"]  # and the room plays on


def test_a_new_start_stores_the_kept_result_first(app):
    """The players need not send the last move again: starting the next round stores the result
    the database did not take, and the next round plays."""
    ada, code = sort_room(app)
    view = ada.call("start_round", {})["round"]
    seq, version = fill_in_the_answer(app, ada, code, view)
    with refusing(app, "results"):
        kept = ada.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "submit"}})["error"]["result"]
    assert ada.call("start_round", {})["ok"]
    assert wait_for_round(services_of(app).storage, view["round_id"]).result["score"] == kept["score"]
    assert [e["round_id"] for e in ada.events("round_ended")] == [view["round_id"]]


def test_hello_works_while_the_database_is_down(app):
    with refusing(app, "players"):
        bea = InProcessClient(app, "Bea")
    assert bea.hello["ok"]


def test_rounds_a_crash_cut_off_end_unscored_at_the_next_start(tmp_path):
    config = Config(database_url=f"sqlite:///{tmp_path}/crash.db", pool_depth=0, composer_processes=0, log_level="WARNING")
    first = create_app(config)
    ada = InProcessClient(first, "Ada")
    ada.call("create_room", {"game": "sort"})
    rid = ada.call("start_round", {})["round"]["round_id"]
    services_of(first).storage.close()  # the process is gone; its room with it
    second = create_app(config)
    try:
        stored = services_of(second).storage.get_round(rid)
        assert stored.ended_at is not None and stored.result is None
    finally:
        services_of(second).storage.close()


def test_a_round_whose_room_closes_ends_unscored(app):
    ada, _ = sort_room(app)
    rid = ada.call("start_round", {})["round"]["round_id"]
    assert ada.call("leave_room", {})["ok"]
    storage = services_of(app).storage
    storage.add_player("p_sync", "Sync")  # a write that returns once every write queued before it has committed
    stored = storage.get_round(rid)
    assert stored.ended_at is not None and stored.result is None
