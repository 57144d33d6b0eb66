"""The storage's group commit on SQLite (PostgreSQL: tests/test_scaleout.py): many writers at once,
all committed in order; a failing write fails alone; players say hello again; a database made by
the previous version (before `results.flagged`) opens, keeps its results ranked, and ranks no
flagged one."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from sqlalchemy import event, func, select

from game_server.storage import MoveRow, Storage, StorageError, add_missing_columns, named_statements, open_engine, transaction


@pytest.fixture
def storage(tmp_path):
    store = Storage(f"sqlite:///{tmp_path / 'arcade.db'}")
    store.add_player("p_1", "Ada")
    store.add_round("r_1", "sort", "slices-0", "ROOMCODE", 7, ["p_1"], "{}", {"answer": []})
    yield store
    store.close()


def test_concurrent_writers_are_all_committed_in_their_order(storage):
    """16 threads, 50 moves each, every one acknowledged only once committed: all 800 are there,
    each thread's moves in the order it wrote them."""

    def writer(t: int) -> None:
        for i in range(50):
            storage.add_move("r_1", t * 50 + i, "p_1", {"writer": t, "n": i}, at=float(i))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    moves = storage.get_round("r_1").moves
    assert len(moves) == 800
    for t in range(16):
        assert [m["payload"]["n"] for m in moves if m["payload"]["writer"] == t] == list(range(50))


def test_a_batch_of_moves_is_sent_as_one_insert(storage):
    """What the writer process does with a batch: one transaction, one INSERT carrying every row
    (a statement per row would let go of the GIL and win it back once a row)."""
    engine = open_engine(storage.url)
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda connection, cursor, statement, *rest: sent.append(statement))
    moves = [(named_statements("sqlite")["move"], {"round_id": "r_1", "index": i, "player_id": "p_1", "payload": {"n": i}, "at": 0.0}) for i in range(20)]
    with engine.connect() as connection:
        transaction(connection, moves)
    inserts = [statement for statement in sent if statement.startswith("INSERT INTO moves")]
    assert len(inserts) == 1 and inserts[0].count("(?, ?, ?, ?, ?)") == 20
    assert [m["payload"]["n"] for m in storage.get_round("r_1").moves] == list(range(20))


def test_a_failing_write_fails_alone(storage):
    """A move of a round that does not exist (the foreign key) raises for its writer only; the
    writes that shared its batch are committed."""
    errors: list[Exception] = []
    barrier = threading.Barrier(9)

    def write(index: int) -> None:
        barrier.wait()
        try:
            storage.add_move("r_none" if index == 4 else "r_1", index, "p_1", {"n": index}, 1.0)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1 and isinstance(errors[0], StorageError) and "FOREIGN KEY" in str(errors[0])
    with storage.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(MoveRow)).scalar() == 8


def test_a_move_stored_again_at_its_index_replaces_the_one_never_acknowledged(storage):
    """A handler that committed a move and then could not write its room back (Redis gone)
    refused it: the room never applied it, and the move that comes to that index next (the
    same one sent again, or another) takes its place; so does a result stored again."""
    storage.add_move("r_1", 0, "p_1", {"kind": "place", "slot": 1}, 1.0)
    storage.add_move("r_1", 0, "p_1", {"kind": "place", "slot": 2}, 2.0)
    assert [(m["index"], m["payload"]["slot"]) for m in storage.get_round("r_1").moves] == [(0, 2)]
    storage.finish_round("r_1", "sort", "slices-0", ["p_1"], "Ada", 500, {"try": 1})
    storage.finish_round("r_1", "sort", "slices-0", ["p_1"], "Ada", 500, {"try": 2})
    assert storage.get_round("r_1").result["details"] == {"try": 2}


def test_a_round_ends_without_the_moves_its_room_never_applied(storage):
    """A move refused because its writer died before answering may have committed all the same;
    if no move came to its index after, the round's end drops it (the room applied 2)."""
    for index in range(3):
        storage.add_move("r_1", index, "p_1", {"n": index}, 1.0)
    storage.finish_round("r_1", "sort", "slices-0", ["p_1"], "Ada", 500, {}, applied=2)
    assert [m["index"] for m in storage.get_round("r_1").moves] == [0, 1]
    storage.add_round("r_2", "sort", "slices-0", "ROOMCODE", 7, ["p_1"], "{}", {"answer": []})
    storage.add_move("r_2", 0, "p_1", {"n": 0}, 1.0)
    storage.abandon_round("r_2", applied=0)
    storage.add_player("p_sync", "Sync")  # returns once the queued abandon has committed
    assert storage.get_round("r_2").moves == [] and storage.get_round("r_2").ended_at is not None


def test_a_writer_process_that_dies_between_writes_is_replaced_before_the_next(storage):
    dead = storage._writes.process
    os.kill(dead.pid, signal.SIGKILL)
    dead.join()
    storage.add_move("r_1", 0, "p_1", {"n": 0}, 0.0)  # nothing was in flight: nothing fails
    assert storage._writes.process.pid != dead.pid
    assert [m["index"] for m in storage.get_round("r_1").moves] == [0]


def test_a_writer_process_that_dies_holding_writes_fails_them_and_the_next_starts_another(storage):
    """The writes it held fail (StorageError: not acknowledged, may or may not be committed)."""
    writer = storage._writes.process
    os.kill(writer.pid, signal.SIGSTOP)  # it holds the next batch without answering
    failed: list[Exception] = []

    def write() -> None:
        try:
            storage.add_move("r_1", 0, "p_1", {"n": 0}, 0.0)
        except StorageError as exc:
            failed.append(exc)

    held = threading.Thread(target=write)
    held.start()
    held.join(0.5)
    assert held.is_alive()  # waiting for the answer
    os.kill(writer.pid, signal.SIGKILL)
    held.join(10)
    assert failed and "writer stopped" in str(failed[0])
    storage.add_move("r_1", 1, "p_1", {"n": 1}, 0.0)
    assert [m["index"] for m in storage.get_round("r_1").moves] == [1]


def in_background(write) -> tuple[threading.Thread, list[Exception]]:
    """`write()` on a thread of its own; what it raised is kept in the list."""
    failed: list[Exception] = []

    def run() -> None:
        try:
            write()
        except Exception as exc:
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, failed


def test_a_rounds_row_goes_to_the_writer_while_a_batch_of_moves_is_in_flight(storage):
    """A start waits for its round's row only, not behind the moves' batch in flight: with the
    writer held, both are sent (one in flight on each lane); let go, both commit, and one
    writer process served both."""
    writer = storage._writes.process
    os.kill(writer.pid, signal.SIGSTOP)
    try:
        move, move_failed = in_background(lambda: storage.add_move("r_1", 0, "p_1", {"n": 0}, 0.0))
        deadline = time.monotonic() + 10
        while storage._writes._in_flight is None and time.monotonic() < deadline:
            time.sleep(0.01)
        start, start_failed = in_background(lambda: storage.add_round("r_2", "blend", "hunt-0", "ROOMCODE", 8, ["p_1"], "{}", {"beats": []}))
        while storage._starts._in_flight is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert storage._writes._in_flight is not None and storage._starts._in_flight is not None
        assert move.is_alive() and start.is_alive()  # neither is answered while the writer is held
    finally:
        os.kill(writer.pid, signal.SIGCONT)
    move.join(10)
    start.join(10)
    assert move_failed == start_failed == []
    assert storage.get_round("r_2") is not None and [m["index"] for m in storage.get_round("r_1").moves] == [0]
    assert storage._starts.process is storage._writes.process is writer


def test_a_writer_that_dies_holding_both_lanes_fails_both_and_one_new_writer_serves_them(storage):
    writer = storage._writes.process
    os.kill(writer.pid, signal.SIGSTOP)
    move, move_failed = in_background(lambda: storage.add_move("r_1", 0, "p_1", {"n": 0}, 0.0))
    start, start_failed = in_background(lambda: storage.add_round("r_2", "blend", "hunt-0", "ROOMCODE", 8, ["p_1"], "{}", {"beats": []}))
    move.join(0.5)
    start.join(0.5)
    assert move.is_alive() and start.is_alive()
    os.kill(writer.pid, signal.SIGKILL)
    move.join(10)
    start.join(10)
    assert "writer stopped" in str(move_failed[0]) and "writer stopped" in str(start_failed[0])
    storage.add_round("r_3", "blend", "hunt-0", "ROOMCODE", 9, ["p_1"], "{}", {"beats": []})
    storage.add_move("r_3", 0, "p_1", {"n": 0}, 0.0)
    assert storage._starts.process is storage._writes.process and storage._writes.process.pid != writer.pid
    assert [m["index"] for m in storage.get_round("r_3").moves] == [0]


def test_a_write_that_cannot_be_sent_fails_and_the_next_goes_through(storage):
    """A write the pipe cannot carry (it does not pickle) fails its batch with a StorageError, and
    leaves nothing in flight: the writes after it are committed, none waits forever."""
    with pytest.raises(StorageError, match="could not be sent"):
        storage.add_move("r_1", 0, "p_1", {"n": lambda: 0}, 0.0)
    storage.add_move("r_1", 1, "p_1", {"n": 1}, 0.0)
    assert [m["index"] for m in storage.get_round("r_1").moves] == [1]


def test_a_round_stored_without_waiting_commits_before_the_writes_after_it(storage):
    """add_round(wait=False) returns before its commit; a move of that round written next (the
    foreign key needs the round) commits all the same, from 8 threads at once; and a round queued
    while nothing else is written commits on its own."""
    errors: list[Exception] = []

    def player(t: int) -> None:
        try:
            storage.add_round(f"r_t{t}", "sort", "slices-0", "ROOMCODE", t, ["p_1"], "{}", {"answer": []}, wait=False)
            for i in range(5):
                storage.add_move(f"r_t{t}", i, "p_1", {"n": i}, 0.0)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=player, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(len(storage.get_round(f"r_t{t}").moves) == 5 for t in range(8))
    storage.add_round("r_alone", "sort", "slices-0", "ROOMCODE", 9, ["p_1"], "{}", {"answer": []}, wait=False)
    deadline = time.monotonic() + 10
    while storage.get_round("r_alone") is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert storage.get_round("r_alone") is not None


def test_a_round_stored_without_waiting_that_fails_is_logged(storage, caplog):
    """Nobody waits for its answer, so the log says it failed; the writes after it go through."""
    storage.add_round("r_1", "sort", "slices-0", "ROOMCODE", 7, ["p_1"], "{}", {"answer": []}, wait=False)  # r_1 exists
    storage.add_move("r_1", 0, "p_1", {"n": 0}, 0.0)
    assert [m["index"] for m in storage.get_round("r_1").moves] == [0]
    assert any("a queued write (round) failed" in r.getMessage() and "UNIQUE" in r.getMessage() for r in caplog.records)


def test_a_result_ends_its_round_and_needs_one(storage):
    storage.finish_round("r_1", "sort", "slices-0", ["p_1"], "Ada", 640, {"order": 0.64})
    stored = storage.get_round("r_1")
    assert stored.result["score"] == 640 and stored.ended_at is not None
    with pytest.raises(StorageError):
        storage.finish_round("r_nope", "sort", "slices-0", ["p_1"], "Ada", 1, {})


def test_hello_again_renames_the_player(storage):
    storage.add_player("p_1", "Ada L.")
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("select name from players where id = 'p_1'").scalar() == "Ada L."


# The schema as the version before `results.flagged` made it (SQLite's .schema of its database).
OLD_SCHEMA = """
CREATE TABLE players (id VARCHAR(32) NOT NULL, name VARCHAR(64) NOT NULL, created_at FLOAT NOT NULL, PRIMARY KEY (id));
CREATE TABLE rounds (id VARCHAR(32) NOT NULL, game VARCHAR(16) NOT NULL, level VARCHAR(32) NOT NULL, room VARCHAR(32) NOT NULL,
    seed BIGINT NOT NULL, players JSON NOT NULL, piece TEXT NOT NULL, setup JSON NOT NULL, started_at FLOAT NOT NULL, ended_at FLOAT,
    PRIMARY KEY (id));
CREATE INDEX ix_rounds_game ON rounds (game);
CREATE INDEX ix_rounds_level ON rounds (level);
CREATE TABLE moves (id INTEGER NOT NULL, round_id VARCHAR(32) NOT NULL, "index" INTEGER NOT NULL, player_id VARCHAR(32) NOT NULL,
    payload JSON NOT NULL, at FLOAT NOT NULL, PRIMARY KEY (id), UNIQUE (round_id, "index"), FOREIGN KEY(round_id) REFERENCES rounds (id));
CREATE INDEX ix_moves_round_id ON moves (round_id);
CREATE TABLE results (round_id VARCHAR(32) NOT NULL, game VARCHAR(16) NOT NULL, level VARCHAR(32) NOT NULL, players JSON NOT NULL,
    names VARCHAR(160) NOT NULL, score INTEGER NOT NULL, details JSON NOT NULL, created_at FLOAT NOT NULL, PRIMARY KEY (round_id),
    FOREIGN KEY(round_id) REFERENCES rounds (id));
CREATE INDEX ix_results_game ON results (game);
CREATE INDEX ix_results_score ON results (score);
CREATE INDEX ix_results_level ON results (level);
INSERT INTO players VALUES ('p_old', 'Old Timer', 1.0);
INSERT INTO rounds VALUES ('r_old', 'sort', 'slices-0', 'ROOMCODE', 7, '["p_old"]', '{}', '{"answer": []}', 1.0, 2.0);
INSERT INTO results VALUES ('r_old', 'sort', 'slices-0', '["p_old"]', 'Old Timer', 900, '{"order": 0.9}', 2.0);
"""


def old_database(url: str) -> None:
    engine = open_engine(url)
    with engine.begin() as connection:
        for statement in filter(str.strip, OLD_SCHEMA.split(";")):
            connection.exec_driver_sql(statement)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])  # PostgreSQL's starts a cluster
def old_url(request, tmp_path):
    """A database made by the version before the `flagged` column, with one result in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        old_database(url)
        yield url
    else:
        from .services import postgres_server

        with postgres_server() as url:
            old_database(url)
            yield url


def test_a_database_of_the_previous_version_opens_and_ranks_what_it_should(old_url):
    store = Storage(old_url)
    try:
        assert store.leaderboard("sort", "slices-0") == [{"round_id": "r_old", "level": "slices-0", "names": "Old Timer", "score": 900, "at": 2.0}]
        assert store.get_round("r_old").result["flagged"] is None  # stored before the check: ranked as it was
        for rid, score, flagged in (("r_bot", 1000, "every hidden clip placed right after hearing 0 of the 5"), ("r_new", 800, None)):
            store.add_round(rid, "sort", "slices-0", "ROOMCODE", 7, ["p_old"], "{}", {"answer": []})
            store.finish_round(rid, "sort", "slices-0", ["p_old"], "Old Timer", score, {}, flagged)
        assert [r["round_id"] for r in store.leaderboard("sort", "slices-0")] == ["r_old", "r_new"]  # the flagged 1000 is left out
        assert store.get_round("r_bot").result["flagged"].startswith("every hidden clip")
    finally:
        store.close()
    again = Storage(old_url)  # the column is there now: opening again changes nothing
    try:
        assert add_missing_columns(again.engine) == [] and len(again.leaderboard("sort")) == 2
    finally:
        again.close()
