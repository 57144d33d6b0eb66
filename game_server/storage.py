"""What lasts: players, rounds (with piece, seed, level and the secret answer), every accepted
move, and results. SQLAlchemy; a SQLite file by default, PostgreSQL when DATABASE_URL says so.

Every write commits before the function returns, so a caller that acknowledges something to a
client after calling here can never acknowledge what a crash would lose (the one exception, a
round row stored with `wait=False`, commits with or before every write queued after it: the
round's moves and result). SQLite runs in WAL mode with synchronous=FULL for the same reason.
So that this costs one fsync per batch of writes and not one per write, writes go through a
group commit: a writer process commits whatever writes are waiting in one transaction, and each
caller returns when the transaction holding its write has committed (a write that fails is
retried alone, so it fails alone). Reads are in-process.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from dataclasses import dataclass, field
from importlib import import_module

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint, bindparam, create_engine, delete, event, insert, inspect, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.sql.expression import Executable

from .gevent_mode import gevent_patched
from .priority import take_short_turns

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class PlayerRow(Base):
    __tablename__ = "players"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)


class RoundRow(Base):
    __tablename__ = "rounds"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    game: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[str] = mapped_column(String(32), index=True)
    room: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(BigInteger)  # up to 62 bits
    players: Mapped[list] = mapped_column(JSON)
    piece: Mapped[str] = mapped_column(Text)  # Piece JSON (docs/piece-json.md)
    setup: Mapped[dict] = mapped_column(JSON)  # the game's secret half (answer, clips) to replay from
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class MoveRow(Base):
    __tablename__ = "moves"
    __table_args__ = (UniqueConstraint("round_id", "index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)  # order the server applied it in
    player_id: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    at: Mapped[float] = mapped_column(Float)  # seconds since the round started


class ResultRow(Base):
    __tablename__ = "results"
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    game: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[str] = mapped_column(String(32), index=True)
    players: Mapped[list] = mapped_column(JSON)
    names: Mapped[str] = mapped_column(String(160))
    score: Mapped[int] = mapped_column(Integer, index=True)
    details: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    # Why no person could have played it so (the game's plausibility check); NULL: ranked.
    # Added after the first schema: `add_missing_columns` gives an older database the column.
    flagged: Mapped[str | None] = mapped_column(String(300), nullable=True, default=None)


@dataclass(frozen=True)
class StoredRound:
    id: str
    game: str
    level: str
    room: str
    seed: int
    players: list
    piece: str
    setup: dict
    started_at: float
    ended_at: float | None
    moves: list[dict]
    result: dict | None


Write = tuple[str, dict]  # a statement's name (see `named_statements`) and its parameters


class StorageError(RuntimeError):
    """The database refused a write (the message is its reason), or the writer process stopped."""


class WriterProcess:
    """The database writer: a child process with its own interpreter, so that the database
    driver never competes for the GIL with the socket handlers. It serves lanes of writes
    (GroupCommit), one pipe each: the batches waiting on every pipe commit in one transaction.
    Started by the first write; one found dead is replaced, every lane getting a new pipe."""

    def __init__(self, url: str, lanes: int):
        self._url, self._lanes = url, lanes
        self._lock = threading.Lock()
        self.process = None
        self._pipes: list | None = None  # the server's ends, a lane each; None: to be started
        self._generation = 0  # counts the processes started

    def pipe(self, lane: int):
        """(generation, pipe) of `lane` to a live writer process, started here if need be."""
        with self._lock:
            if self._pipes is None or not self.process.is_alive():
                self._start()
            return self._generation, self._pipes[lane]

    def stopped(self, generation: int) -> None:
        """A lane found that generation's process gone: the next `pipe` starts another (once,
        however many lanes say so). Each lane closes its own old pipe."""
        with self._lock:
            if generation == self._generation:
                self._pipes = None

    def _start(self) -> None:
        if self.process is not None:
            log.warning("the database writer process was gone (exit code %s); starting another", self.process.exitcode)
        context = multiprocessing.get_context("spawn")
        pairs = [context.Pipe() for _ in range(self._lanes)]
        for end in (end for pair in pairs for end in pair):  # socket pairs, made non-blocking where gevent patched socket
            os.set_blocking(end.fileno(), True)
        self.process = context.Process(target=_commit_forever, args=(self._url, [child for _, child in pairs]), name="storage-writer", daemon=True)
        self.process.start()
        for _, child in pairs:
            child.close()
        self._pipes = [ours for ours, _ in pairs]
        self._generation += 1

    def close(self) -> None:
        """Ends the process (it exits once every pipe is closed); call after the lanes' close."""
        with self._lock:
            for pipe in self._pipes or ():
                pipe.close()
            if self.process is not None:
                self.process.join()


@dataclass(eq=False)
class _Waiter:
    """One caller's writes, and what became of them."""

    writes: list[Write]
    waiting: bool = True  # False: queued by `queue`, nobody waits for the answer
    woken: threading.Event = field(default_factory=threading.Event)
    error: str | None = None  # once its batch is answered: None (committed) or why it failed
    batch: list[_Waiter] | None = None  # set when it is woken to wait for this batch's answer


class GroupCommit:
    """Writes from many handlers (threads, or greenlets under gevent) committed together; `write`
    returns (or raises StorageError) once the transaction that holds the write has committed (or
    failed). One lane of the writer process (`WriterProcess`): a lane's batches commit in the
    order they were sent, one in flight at a time.

    A write is a few Core statements, not the ORM's unit of work; consecutive writes of the same
    statement, as moves are, run as one multi-row INSERT (see `open_engine`).

    There is no thread in between: a caller that finds no batch in flight sends the writes
    waiting (its own among them) and waits for the answer itself; when it comes, it wakes that
    batch's callers, sends what queued meanwhile as the next batch and hands the wait for its
    answer to one of that batch's callers (a thread in between would cost two more hand-overs a
    write, each a turn of gevent's loop). Measurements: docs/performance.md."""

    MAX_BATCH = 256

    def __init__(self, writer: WriterProcess, lane: int):
        self._writer, self._lane = writer, lane
        self._lock = threading.Lock()
        self._pending: list[_Waiter] = []
        self._in_flight: list[_Waiter] | None = None  # the batch sent and not yet answered
        self._pipe = None
        self._generation = 0  # of the writer process `_pipe` goes to

    @property
    def process(self):
        """The writer process (None before the first write)."""
        return self._writer.process

    def write(self, *writes: Write) -> None:
        me = _Waiter(list(writes))
        first = self._append(me)
        if first is not None:
            self._lead(first, sent=False)
        else:
            me.woken.wait()  # its batch answered, or it is asked to wait for the answer
            if me.batch is not None:
                self._lead(me.batch, sent=True)
        if me.error is not None:
            raise StorageError(me.error)

    def queue(self, *writes: Write) -> None:
        """Queues the writes and returns at once. A lane's batches commit in the order their
        writes were queued, so these commit with or before every write queued after them on
        this lane: a `write` that returned means these are committed too (or failed: that is
        logged, as nobody waits)."""
        first = self._append(_Waiter(list(writes), waiting=False))
        if first is not None:
            self._lead_in_background(first, sent=False)

    def _append(self, waiter: _Waiter) -> list[_Waiter] | None:
        """Queues a caller's writes; returns the batch it must send (and see answered) if none
        is in flight."""
        with self._lock:
            self._pending.append(waiter)
            return self._take_pending() if self._in_flight is None else None

    def _lead_in_background(self, batch: list[_Waiter], sent: bool) -> None:
        """For a batch nobody waits for: a thread (a greenlet under gevent) waits for the answer."""
        threading.Thread(target=self._lead, args=(batch, sent), name="storage-answer", daemon=True).start()

    def _lead(self, batch: list[_Waiter], sent: bool) -> None:
        """Sends the batch (unless sent), waits for its answer, tells its callers; then sends the
        next. Interrupted while waiting, the answer is lost with the pipe: the batch fails."""
        try:
            if sent or self._send(batch):
                self._await_answer(batch)
        except BaseException as exc:
            self._writer_stopped(batch, exc)
            raise
        finally:
            self._send_next()

    def close(self) -> None:
        """Commit what is queued on this lane, and close its pipe."""
        with self._lock:
            if self._pipe is None and self._in_flight is None:  # nothing written, or nothing since its writer died
                return
        try:
            self.write()  # batches commit in order: once this one has, every earlier one has
        except StorageError:
            pass
        self._drop_pipe(failed=False)

    def _take_pending(self) -> list[_Waiter] | None:
        """(Under the lock) the next batch, now in flight; None, and nothing in flight, if no
        write is waiting."""
        batch, self._pending = self._pending[: self.MAX_BATCH], self._pending[self.MAX_BATCH :]
        self._in_flight = batch or None
        return self._in_flight

    def _send(self, batch: list[_Waiter]) -> bool:
        """Hands the batch to the writer process; if that fails, the batch has failed and its
        callers are told. A writer that died between batches is replaced first (a send to a dead
        one fails before anything is delivered, so it is sent again to the new one, once)."""
        for last_try in (False, True):
            try:
                generation, pipe = self._writer.pipe(self._lane)
                if pipe is not self._pipe:  # a new writer: nothing is in flight on the old pipe
                    self._drop_pipe(failed=False)
                    self._pipe, self._generation = pipe, generation
                self._pipe.send([waiter.writes for waiter in batch])
                return True
            except (EOFError, OSError) as exc:
                if last_try:
                    self._writer_stopped(batch, exc)
                else:
                    self._drop_pipe()
            except Exception as exc:  # a write that does not pickle: nothing was sent
                self._finish(batch, [f"the batch could not be sent to the database writer: {exc!r}"] * len(batch))
                return False
        return False

    def _drop_pipe(self, failed: bool = True) -> None:
        """Closes this lane's pipe; `failed`: its writer process is taken for gone."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
            if failed:
                self._writer.stopped(self._generation)

    def _await_answer(self, batch: list[_Waiter]) -> None:
        """Waits for the writer process's answer to the batch in flight and tells its callers."""
        try:
            _wait_readable(self._pipe)
            errors = self._pipe.recv()
        except (EOFError, OSError) as exc:
            self._writer_stopped(batch, exc)
            return
        self._finish(batch, errors)

    def _writer_stopped(self, batch: list[_Waiter], exc: BaseException) -> None:
        """The writer process died: the batch fails, and the next one starts another."""
        self._drop_pipe()
        self._finish(batch, [f"the database writer stopped ({exc!r}); the write may not have been committed"] * len(batch))

    @staticmethod
    def _finish(batch: list[_Waiter], errors: list[str | None]) -> None:
        for waiter, error in zip(batch, errors):
            waiter.error, waiter.batch = error, None
            waiter.woken.set()
            if error is not None and not waiter.waiting:
                log.error("a queued write (%s) failed: %s", ", ".join(name for name, _ in waiter.writes), error)

    def _send_next(self) -> None:
        """Sends the writes that queued while a batch was in flight, and wakes one of their
        callers to wait for the answer (or starts a thread to, if none waits); or leaves nothing
        in flight."""
        while True:
            with self._lock:
                batch = self._take_pending()
            if batch is None:
                return
            if self._send(batch):
                leader = next((waiter for waiter in batch if waiter.waiting), None)
                if leader is None:
                    self._lead_in_background(batch, sent=True)
                else:
                    leader.batch = batch
                    leader.woken.set()
                return


def _wait_readable(pipe) -> None:
    """Until the writer's answer can be read. Under gevent this greenlet waits on the loop's
    watcher of the pipe itself (it yields to the players until the answer comes): half the CPU
    of `multiprocessing.connection.wait`, whose patched poll builds a selector and its watchers
    for every batch."""
    if gevent_patched():
        from gevent.socket import wait_read

        wait_read(pipe.fileno())
    else:
        multiprocessing.connection.wait([pipe])


def _commit_forever(url: str, pipes: list) -> None:
    """The writer process: the batches waiting on its pipes (one a lane, the first lane's
    first) commit in one transaction; one that fails is retried write by write, so that a bad
    write fails alone. Each lane is answered, for each of its writes, None or the database's
    reason. Ends when the server's ends of the pipes close (a server killed mid-round leaves the
    batches it had sent committed)."""
    take_short_turns()  # every acknowledgement waits on this process's commits
    engine = open_engine(url)
    named, replacing = named_statements(engine.dialect.name), named_statements(engine.dialect.name, replacing=True)
    # One connection for the process's life: no pool checkout, ping and reset per batch. One the
    # database dropped is invalidated by the failing batch and replaced on the next use.
    connection = engine.connect()

    def statements(writes: list[Write], names=named) -> list[tuple[Executable, dict]]:
        return [(names[name], params) for name, params in writes]

    open_pipes = list(pipes)
    while open_pipes:
        ready = multiprocessing.connection.wait(open_pipes)
        batches = []
        for pipe in [pipe for pipe in open_pipes if pipe in ready]:
            try:
                batches.append((pipe, pipe.recv()))
            except EOFError:
                open_pipes.remove(pipe)
        writes = [writes for _, batch in batches for writes in batch]
        try:
            transaction(connection, [statement for each in writes for statement in statements(each)])
            errors = [None] * len(writes)
        except Exception:
            errors = [_reason_if_it_fails(connection, statements(each, replacing)) for each in writes]
        for pipe, batch in batches:
            answer, errors = errors[: len(batch)], errors[len(batch) :]
            try:
                pipe.send(answer)
            except OSError:  # that lane is gone (its batch is committed all the same)
                open_pipes.remove(pipe)


def _reason_if_it_fails(connection, work: list) -> str | None:
    try:
        transaction(connection, work)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def transaction(connection, work: list[tuple[Executable, dict]]) -> None:
    """(statement, parameters) in order, in one committed transaction; a run of the same
    statement as one executemany."""
    with connection.begin():
        for _, run in itertools.groupby(work, key=lambda statement: id(statement[0])):
            run = list(run)
            connection.execute(run[0][0], [params for _, params in run] if len(run) > 1 else run[0][1])


INSERT_ROUND = insert(RoundRow.__table__)
INSERT_MOVE = insert(MoveRow.__table__)
INSERT_RESULT = insert(ResultRow.__table__)
# Moves at or past the room's count were never applied: a write refused "may not have been
# committed" (its writer died before answering) that did commit. A round's end drops them.
DROP_UNAPPLIED = delete(MoveRow.__table__).where(MoveRow.__table__.c.round_id == bindparam("round"), MoveRow.__table__.c["index"] >= bindparam("applied"))
END_ROUND = update(RoundRow.__table__).where(RoundRow.__table__.c.id == bindparam("round")).values(ended_at=bindparam("at"))


def named_statements(dialect: str, replacing: bool = False) -> dict[str, Executable]:
    """The writes by name, in SQLite or PostgreSQL. A player is upserted (hello again renames).

    `replacing`, for a batch done again write by write: a move or a result then replaces one
    stored at the same place. The room (in Redis) is the truth of what was applied, and a row
    whose handler failed after its commit, before the room was written back, was never
    acknowledged: the move sent again (or the next one, at the same index) must take its place,
    not be refused by the constraint for good. Batches insert plainly: SQLAlchemy sends an
    upsert a row at a time, a plain INSERT as one statement for the whole batch."""
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"DATABASE_URL: SQLite or PostgreSQL, not {dialect}")
    dialect_insert = import_module(f"sqlalchemy.dialects.{dialect}").insert

    def upsert(table, keys: list[str], columns: list[str] | None = None) -> Executable:
        """Insert, or set `columns` (default: every one but the keys) of the row with those keys."""
        statement = dialect_insert(table)
        columns = columns or [c.name for c in table.columns if c.name not in keys and not c.primary_key]
        return statement.on_conflict_do_update(index_elements=keys, set_={column: statement.excluded[column] for column in columns})

    named = {"player": upsert(PlayerRow.__table__, ["id"], ["name"]), "round": INSERT_ROUND, "move": INSERT_MOVE, "result": INSERT_RESULT, "end_round": END_ROUND, "drop_unapplied": DROP_UNAPPLIED}
    if replacing:
        named |= {"move": upsert(MoveRow.__table__, ["round_id", "index"]), "result": upsert(ResultRow.__table__, ["round_id"])}
    return named


def open_engine(url: str):
    engine = create_engine(url, future=True, pool_pre_ping=True)
    # A batch of rows for one table goes out as one multi-row INSERT (SQLAlchemy's
    # "insertmanyvalues", which it uses unasked only with RETURNING), not a statement per row.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Storage:
    def __init__(self, url: str):
        self.url = url
        self.engine = open_engine(url)
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine)
        named_statements(self.engine.dialect.name)  # an unsupported database fails here, not at the first write
        # Two lanes of the one writer: a round's row (a start waits for it) is sent at once,
        # not behind the batch of moves in flight, and its caller reads the answer itself.
        self._writer = WriterProcess(url, lanes=2)
        self._starts, self._writes = GroupCommit(self._writer, 0), GroupCommit(self._writer, 1)

    def close(self) -> None:
        """Wait for the writes in flight, stop the writer process, close the connections."""
        self._starts.close()
        self._writes.close()
        self._writer.close()
        self.engine.dispose()

    def add_player(self, player_id: str, name: str) -> None:
        self._writes.write(("player", {"id": player_id, "name": name, "created_at": time.time()}))

    def add_round(self, round_id: str, game: str, level: str, room: str, seed: int, players: list, piece: str, setup: dict, wait: bool = True) -> None:
        """`wait=False`: return at once (see `GroupCommit.queue`), on the lane of the moves and
        results, so that the round's, written after it, commit with it or after it."""
        (self._starts.write if wait else self._writes.queue)(("round", {"id": round_id, "game": game, "level": level, "room": room, "seed": seed, "players": players, "piece": piece, "setup": setup, "started_at": time.time(), "ended_at": None}))

    def add_move(self, round_id: str, index: int, player_id: str, payload: dict, at: float) -> None:
        self._writes.write(("move", {"round_id": round_id, "index": index, "player_id": player_id, "payload": payload, "at": at}))

    def finish_round(self, round_id: str, game: str, level: str, players: list, names: str, score: int, details: dict, flagged: str | None = None, applied: int | None = None) -> None:
        """The result and the round's end, in one transaction; committed when this returns.
        `flagged`: why no person could have played it so; such a result is kept, not ranked.
        `applied`: the moves the room applied; any stored past them were never acknowledged."""
        now = time.time()
        self._writes.write(
            ("result", {"round_id": round_id, "game": game, "level": level, "players": players, "names": names, "score": score, "details": details, "created_at": now, "flagged": flagged and flagged[:300]}),
            ("end_round", {"round": round_id, "at": now}),
            *self._drop_unapplied(round_id, applied),
        )

    def unreachable(self) -> str | None:
        """None if the database answers a query now, else why not (for /readyz)."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as exc:  # the driver's own errors, whatever the backend
            return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        return None

    def abandon_round(self, round_id: str, applied: int | None = None) -> None:
        """A round that ended with no result (its room closed): it ends unscored. Queued: the
        room is closing, nobody waits on it."""
        self._writes.queue(("end_round", {"round": round_id, "at": time.time()}), *self._drop_unapplied(round_id, applied))

    @staticmethod
    def _drop_unapplied(round_id: str, applied: int | None) -> list[Write]:
        return [] if applied is None else [("drop_unapplied", {"round": round_id, "applied": applied})]

    def abandon_unfinished(self) -> int:
        """At startup with rooms in this process: the rounds a crash cut off (not ended, and no
        room can hold them any more) end unscored. Returns how many."""
        with self.engine.begin() as connection:
            return connection.execute(update(RoundRow.__table__).where(RoundRow.__table__.c.ended_at.is_(None)).values(ended_at=time.time())).rowcount

    def get_round(self, round_id: str) -> StoredRound | None:
        with Session(self.engine) as s:
            row = s.get(RoundRow, round_id)
            if row is None:
                return None
            moves = s.scalars(select(MoveRow).where(MoveRow.round_id == round_id).order_by(MoveRow.index)).all()
            result = s.get(ResultRow, round_id)
            return StoredRound(
                id=row.id, game=row.game, level=row.level, room=row.room, seed=row.seed, players=row.players,
                piece=row.piece, setup=row.setup, started_at=row.started_at, ended_at=row.ended_at,
                moves=[{"index": m.index, "player_id": m.player_id, "payload": m.payload, "at": m.at} for m in moves],
                result=None if result is None else {"score": result.score, "details": result.details, "names": result.names, "flagged": result.flagged},
            )

    def leaderboard(self, game: str, level: str | None = None, limit: int = 20) -> list[dict]:
        """The best ranked results: a flagged one is left out."""
        with Session(self.engine) as s:
            query = select(ResultRow).where(ResultRow.game == game, ResultRow.flagged.is_(None))
            if level is not None:
                query = query.where(ResultRow.level == level)
            rows = s.scalars(query.order_by(ResultRow.score.desc(), ResultRow.created_at).limit(limit)).all()
            return [{"round_id": r.round_id, "level": r.level, "names": r.names, "score": r.score, "at": r.created_at} for r in rows]


def add_missing_columns(engine) -> list[str]:
    """Columns added to a table after its first schema are added to an older database that lacks
    them (create_all makes missing tables, never missing columns): every such column is nullable,
    so the rows already there read as they meant (a result stored before `flagged` is ranked).
    Two processes starting on one database at once may both try: the loser finds the column
    there. Returns the columns this call added, as "table.column"."""
    added = []
    for table in Base.metadata.sorted_tables:
        have = _columns(engine, table.name)
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} is missing from the database and cannot be added without a value")
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {column.type.compile(dialect=engine.dialect)}')
            except Exception:
                if column.name not in _columns(engine, table.name):
                    raise
                continue
            added.append(f"{table.name}.{column.name}")
    if added:
        log.info("columns added to an older database: %s", ", ".join(added))
    return added


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
