"""A real PostgreSQL that goes away and comes back, and a database writer that is killed: no room
is left stuck, nothing acknowledged is lost. (tests/test_durability.py does the same faults on
SQLite, in more detail.)"""

from __future__ import annotations

import os
import signal
import threading
import time

import psycopg
import pytest

from game_server.app import create_app, services_of
from game_server.config import Config
from game_server.storage import Storage

from .server import InProcessClient, fill_in_the_answer
from .services import postgres_cluster

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


@pytest.fixture(scope="module")
def postgres():
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def app(postgres):
    app = create_app(Config(database_url=postgres.url, pool_depth=0, composer_processes=0, log_level="WARNING"))
    yield app
    services_of(app).storage.close()


def sort_room(app, name: str) -> tuple[InProcessClient, str]:
    player = InProcessClient(app, name)
    return player, player.call("create_room", {"game": "sort", "ladder": "slices", "level": 0})["room"]["code"]


def stored(postgres, round_id: str):
    return Storage(postgres.url).get_round(round_id)  # a fresh engine: what another process would read


def test_a_start_while_postgresql_is_down_is_refused_and_the_room_starts_once_it_is_back(app, postgres):
    ada, _ = sort_room(app, "Ada")
    postgres.stop()
    try:
        refused = ada.call("start_round", {})
        assert refused["error"]["code"] == "storage_unavailable" and refused["error"]["retry"] is True
        assert ada.call("start_round", {})["error"]["code"] == "storage_unavailable"  # not round_in_progress
    finally:
        postgres.start()
    view = ada.call("start_round", {})["round"]  # the room was left free
    listened = ada.call("sort_move", listen(view, 1))
    assert listened["ok"], listened
    assert len(stored(postgres, view["round_id"]).moves) == 1


def test_a_submit_while_postgresql_is_down_changes_nothing_and_scores_once_it_is_back(app, postgres):
    ada, code = sort_room(app, "Bea")
    view = ada.call("start_round", {})["round"]
    seq, version = fill_in_the_answer(app, ada, code, view)
    submit = {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "submit"}}
    postgres.stop()
    try:
        refused = ada.call("sort_move", submit)["error"]  # the submit itself is not stored: not applied
        assert refused["code"] == "storage_unavailable" and refused["retry"] is True and "result" not in refused
    finally:
        postgres.start()
    result = ada.call("sort_move", submit)["result"]
    assert stored(postgres, view["round_id"]).result["score"] == result["score"]
    assert [e["score"] for e in ada.events("round_ended")] == [result["score"]]


def test_a_result_postgresql_refuses_is_kept_and_stored_on_the_next_try(app, postgres):
    """Between the submit's write and the result's, the database refuses the result (a trigger
    here; a full disk or a lost connection in life): the player hears the result is kept."""
    ada, code = sort_room(app, "Cy")
    view = ada.call("start_round", {})["round"]
    seq, version = fill_in_the_answer(app, ada, code, view)
    submit = {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "submit"}}
    with psycopg.connect(postgres.url.replace("+psycopg", ""), autocommit=True) as db:
        db.execute("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql")
        db.execute("CREATE TRIGGER refuse_results BEFORE INSERT ON results FOR EACH ROW EXECUTE FUNCTION refuse()")
        try:
            kept = ada.call("sort_move", submit)["error"]
            assert kept["code"] == "storage_unavailable" and kept["retry"] is True and kept["result"]["details"]["cleared"]
        finally:
            db.execute("DROP TRIGGER refuse_results ON results")
            db.execute("DROP FUNCTION refuse()")
    again = ada.call("sort_move", submit)
    assert again["error"]["code"] == "round_over" and again["error"]["result"] == kept["result"]
    assert stored(postgres, view["round_id"]).result["score"] == kept["result"]["score"]
    assert [e["score"] for e in ada.events("round_ended")] == [kept["result"]["score"]]
    assert ada.call("start_round", {})["ok"]  # and the room plays on


def test_the_database_writer_killed_under_load_loses_nothing_acknowledged(app, postgres):
    """Four players start rounds and move while the writer process is killed three times: every start
    and move is either acknowledged (and then in the database) or refused `storage_unavailable`
    (and may be sent again); afterwards every room's live round takes moves."""
    rooms = [sort_room(app, f"P{i}") for i in range(4)]
    played: dict[str, int] = {}  # round id -> moves acknowledged in it
    refusals: list[str] = []
    kills: list[int] = []
    failures: list[BaseException] = []

    def play(player: InProcessClient) -> None:
        try:
            play_rounds(player)
        except BaseException as exc:  # an assertion in a thread would otherwise pass unseen
            failures.append(exc)

    def play_rounds(player: InProcessClient) -> None:
        mine = 0
        while len(kills) < 3 or mine < 2:
            start = player.call("start_round", {})
            if not start["ok"]:
                assert start["error"]["code"] in ("storage_unavailable", "composer_busy"), start  # composed on demand here
                refusals.append(start["error"]["code"])
                time.sleep(0.2)  # then again, at a person's pace: well under the event rate limit
                continue
            view, seq, mine = start["round"], 0, mine + 1
            played[view["round_id"]] = 0
            for _ in range(4):
                time.sleep(0.1)
                reply = player.call("sort_move", listen(view, seq + 1))
                if reply["ok"]:
                    seq += 1
                    played[view["round_id"]] += 1
                else:
                    assert reply["error"]["code"] == "storage_unavailable", reply
                    refusals.append("move")
            player.call("leave_room", {})  # ends the round unscored; the next start needs a room again
            player.call("create_room", {"game": "sort", "ladder": "slices", "level": 0})

    def kill_the_writer() -> None:
        while len(kills) < 3:
            threading.Event().wait(1.5)  # a new writer takes a while to start: let it commit some
            writer = services_of(app).storage._writes.process
            if writer is not None and writer.is_alive():
                os.kill(writer.pid, signal.SIGKILL)
                kills.append(writer.pid)

    threads = [threading.Thread(target=play, args=(player,)) for player, _ in rooms]
    threads.append(threading.Thread(target=kill_the_writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    print(f"writer killed {len(kills)} times; refused: {len(refusals)}; rounds played: {len(played)}")
    assert len(played) >= 2 * len(rooms)
    for round_id, moves in played.items():
        assert len(stored(postgres, round_id).moves) == moves, round_id
    for player, _ in rooms:  # every room starts, and its round takes moves
        view = player.call("start_round", {})["round"]
        assert player.call("sort_move", listen(view, 1))["ok"]


def listen(view: dict, seq: int) -> dict:
    return {"round_id": view["round_id"], "seq": seq, "version": view["board"]["version"], "move": {"kind": "listen_board"}}
