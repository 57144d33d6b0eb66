"""What lasts: players, rounds (with piece, seed, level and the secret answer), every accepted
move, and results. SQLAlchemy; a SQLite file by default, PostgreSQL when DATABASE_URL says so.

Every write commits before the function returns, so a caller that acknowledges something to a
client after calling here can never acknowledge what a crash would lose. SQLite runs in WAL mode
with synchronous=FULL for the same reason. So that this costs one fsync per batch of writes and
not one per write, writes go through a group commit: one writer thread commits whatever writes
are waiting in one transaction, and each caller returns when the transaction holding its write
has committed (a write that fails is retried alone, so it fails alone).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from importlib import import_module

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint, bindparam, create_engine, event, insert, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.sql.expression import Executable


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


Statement = tuple[Executable, dict]  # a statement and its parameters


class GroupCommit:
    """Writes from many threads committed together by one writer thread; `write` returns (or
    raises) once the transaction that holds the write has committed (or failed). A write is a
    few Core statements (the ORM's unit of work cost a third of a move's CPU); consecutive
    writes of the same statement, as moves are, run as one executemany."""

    MAX_BATCH = 256

    def __init__(self, engine):
        self._engine = engine
        self._queue: queue.Queue[tuple[list[Statement], Future]] = queue.Queue()
        threading.Thread(target=self._run, name="storage-writer", daemon=True).start()

    def write(self, *statements: Statement) -> None:
        done: Future = Future()
        self._queue.put((list(statements), done))
        done.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self._engine.begin() as connection:
                    _execute(connection, [statement for statements, _ in batch for statement in statements])
            except Exception:
                for statements, done in batch:  # the whole batch rolled back: again one by one
                    self._commit_alone(statements, done)
            else:
                for _, done in batch:
                    done.set_result(None)

    def _commit_alone(self, statements: list[Statement], done: Future) -> None:
        try:
            with self._engine.begin() as connection:
                _execute(connection, statements)
        except Exception as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)


def _execute(connection, statements: list[Statement]) -> None:
    """In order; a run of the same statement as one executemany."""
    for _, run in itertools.groupby(statements, key=lambda statement: id(statement[0])):
        run = list(run)
        connection.execute(run[0][0], [params for _, params in run] if len(run) > 1 else run[0][1])


INSERT_ROUND = insert(RoundRow.__table__)
INSERT_MOVE = insert(MoveRow.__table__)
INSERT_RESULT = insert(ResultRow.__table__)
END_ROUND = update(RoundRow.__table__).where(RoundRow.__table__.c.id == bindparam("round")).values(ended_at=bindparam("at"))


def upsert_player(dialect: str) -> Executable:
    """Insert a player, or rename one that says hello again (SQLite and PostgreSQL)."""
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"DATABASE_URL: SQLite or PostgreSQL, not {dialect}")
    statement = import_module(f"sqlalchemy.dialects.{dialect}").insert(PlayerRow.__table__)
    return statement.on_conflict_do_update(index_elements=["id"], set_={"name": statement.excluded.name})


class Storage:
    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url, future=True, pool_pre_ping=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._upsert_player = upsert_player(self.engine.dialect.name)
        self._writes = GroupCommit(self.engine)

    def add_player(self, player_id: str, name: str) -> None:
        self._writes.write((self._upsert_player, {"id": player_id, "name": name, "created_at": time.time()}))

    def add_round(self, round_id: str, game: str, level: str, room: str, seed: int, players: list, piece: str, setup: dict) -> None:
        self._writes.write((INSERT_ROUND, {"id": round_id, "game": game, "level": level, "room": room, "seed": seed, "players": players, "piece": piece, "setup": setup, "started_at": time.time(), "ended_at": None}))

    def add_move(self, round_id: str, index: int, player_id: str, payload: dict, at: float) -> None:
        self._writes.write((INSERT_MOVE, {"round_id": round_id, "index": index, "player_id": player_id, "payload": payload, "at": at}))

    def finish_round(self, round_id: str, game: str, level: str, players: list, names: str, score: int, details: dict) -> None:
        """The result and the round's end, in one transaction; committed when this returns."""
        now = time.time()
        self._writes.write(
            (INSERT_RESULT, {"round_id": round_id, "game": game, "level": level, "players": players, "names": names, "score": score, "details": details, "created_at": now}),
            (END_ROUND, {"round": round_id, "at": now}),
        )

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
                result=None if result is None else {"score": result.score, "details": result.details, "names": result.names},
            )

    def leaderboard(self, game: str, level: str | None = None, limit: int = 20) -> list[dict]:
        with Session(self.engine) as s:
            query = select(ResultRow).where(ResultRow.game == game)
            if level is not None:
                query = query.where(ResultRow.level == level)
            rows = s.scalars(query.order_by(ResultRow.score.desc(), ResultRow.created_at).limit(limit)).all()
            return [{"round_id": r.round_id, "level": r.level, "names": r.names, "score": r.score, "at": r.created_at} for r in rows]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
