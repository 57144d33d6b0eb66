"""Socket.IO handlers for Run: start a level, take inputs, and run the lanes on the server's clock.

Thin like realtime.py: the physics, judging and score are game_server/games/run.py's. The round's
clock is the server's: tick 0 is COUNTDOWN seconds after `round_started` (the count-in's first
beat), 60 ticks a second. Views carry `clock_tick` (the server's tick when it was sent, negative
during the countdown) so that a client, new or reconnecting, sets its own clock from it.

Order of work for an input batch, so that nothing acknowledged can be lost and nothing refused
changes anything: validate -> (room lock) seat, round, seq, lanes -> the rules check the batch ->
store it (committed) -> apply it -> ack; judgements go to the room as `run_judgements`.

A ticker thread advances every live Run round to `now - LATE_TOLERANCE` ten times a second: a
player who sends nothing keeps running with the keys last held, windows close into misses, and
the round ends (result stored, `round_ended`) once every lane's run is over. A Run round does not
wait for a dropped partner: the music goes on.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass

from flask_socketio import SocketIO

from .composer import RunRequest
from .games import run
from .games.run_physics import TICKS_PER_SECOND
from .music import Piece, piece_to_dict, piece_to_json
from .protocol import Calibrate, ProtocolError, RunInput, RunPause
from .rooms import Room

log = logging.getLogger(__name__)
rounds_log = logging.getLogger("melody_arcade.rounds")  # realtime.py's operator log

COUNTDOWN = 2.0  # seconds from round_started to tick 0
TICKER_PERIOD = 0.1  # seconds between two advances of the live rounds


@dataclass
class RunRoundState:
    round_id: str
    level_name: str
    game: run.RunRound
    piece: Piece
    lanes_of: dict[str, tuple[int, ...]]  # player id -> the lanes that player runs
    t0: float  # time.time() at tick 0: wall clock, so that every process reads the same round clock
    moves: int = 0
    result: dict | None = None
    paused_at: float | None = None  # time.time() when a solo player paused; the clock stands still

    def tick_now(self) -> int:
        now = time.time() if self.paused_at is None else self.paused_at
        return math.floor((now - self.t0) * TICKS_PER_SECOND)

    def pause(self, paused: bool) -> None:
        """Stop the round's clock, or start it again where it stopped (t0 moves by the pause)."""
        if paused and self.paused_at is None:
            self.paused_at = time.time()
        elif not paused and self.paused_at is not None:
            self.t0 += time.time() - self.paused_at
            self.paused_at = None


def log_round_end(code: str, game: str, state, score: int | None, ended: str, seconds: float) -> None:
    """The operator's line for a round that ends, of any game (score "-" when it ended unscored)."""
    rounds_log.info("round end round=%s room=%s game=%s level=%s score=%s ended=%s moves=%d seconds=%.1f",
                    state.round_id, code, game, state.level_name, "-" if score is None else score, ended, state.moves, seconds)


def new_run_round(s, room: Room, rung: int, lanes_wanted: str) -> RunRoundState:
    """Compose (from the pool), lay out the lanes, store the round; raises ProtocolError."""
    spec = run.LADDER[rung]
    two = room.coop or lanes_wanted == "both"
    if two and not spec.chords:
        raise ProtocolError("level_needs_chords", "two avatars need a level with a chord lane (level 1 and up)")
    composed = s.pool.take(RunRequest(rung))
    piece = composed.pieces[0]
    level = run.build_level(piece, spec.chords)
    if room.coop:
        lanes_of = {room.seats[0].player_id: (0,), room.seats[1].player_id: (1,)}
    else:
        lanes_of = {room.seats[0].player_id: (0, 1) if two else (0,)}
    offsets = {lane: s.store.offsets.get(player, 0) for player, lanes in lanes_of.items() for lane in lanes}
    lanes = tuple(sorted(offsets))
    round_id = "r_" + uuid.uuid4().hex[:16]
    level_name = f"run-{rung}" + ("-duo" if two else "")
    setup = {"rung": rung, "lanes": list(lanes), "offsets": {str(k): v for k, v in offsets.items()}, "lanes_of": {k: list(v) for k, v in lanes_of.items()}}
    s.add_round(round_id, "run", level_name, room.code, composed.seed, [seat.player_id for seat in room.seats], piece_to_json(piece), setup)
    s.store.live_runs.add(room.code)
    return RunRoundState(round_id, level_name, run.RunRound.start(level, lanes, offsets), piece, lanes_of, time.time() + COUNTDOWN)


def run_view(state: RunRoundState) -> dict:
    return {
        "round_id": state.round_id, "game": "run", "level": state.level_name, "result": state.result,
        "run": {
            **state.game.level.public(),
            "piece": piece_to_dict(state.piece),
            "lanes_of": {player: list(lanes) for player, lanes in state.lanes_of.items()},
            "clock_tick": state.tick_now(),
            "paused": state.paused_at is not None,
            "inputs": {str(i): [list(x) for x in lane.log] for i, lane in state.game.lanes.items()},
        },
    }


def stored_result(setup: dict, piece: Piece, batches: list[list[dict]]) -> dict:
    """The result a stored round replays to (what the live round stored)."""
    level = run.build_level(piece, run.LADDER[setup["rung"]].chords)
    return run.replay(level, tuple(setup["lanes"]), {int(k): v for k, v in setup["offsets"].items()}, batches)


def _live_round(room: Room, round_id: str) -> RunRoundState:
    """The room's Run round that `round_id` names, still being played; else ProtocolError."""
    state = room.round
    if not isinstance(state, RunRoundState) or state.round_id != round_id:
        raise ProtocolError("wrong_round", "that round is not being played in your room")
    if state.result is not None:
        raise ProtocolError("round_over", "the round has ended", result=state.result)
    return state


def register_run(socketio: SocketIO, s, handler, room_code_of) -> None:
    server = socketio.server

    def finish(room: Room, state: RunRoundState) -> None:
        result = {"round_id": state.round_id, "level": state.level_name, **state.game.result()}
        names = " & ".join(seat.name for seat in room.seats)
        s.storage.finish_round(state.round_id, "run", state.level_name, list(state.lanes_of), names, result["score"], result)
        state.result = result
        s.store.live_runs.discard(room.code)
        server.emit("round_ended", result, to=room.code)
        if rounds_log.isEnabledFor(logging.INFO):  # ended: each lane's end, "goal+fell"
            log_round_end(room.code, "run", state, result["score"], "+".join(lane["status"] for lane in result["lanes"]), time.time() - state.t0)

    def publish(code: str, state: RunRoundState, judged: list[run.Judgement]) -> None:
        if judged:
            server.emit("run_judgements", {"round_id": state.round_id, "judgements": [j.public() for j in judged]}, to=code)

    @handler("run_input", RunInput)
    def run_input(conn, p: RunInput) -> dict:
        code = room_code_of(conn)
        with s.store.locked(code) as room:
            state = _live_round(room, p.round_id)
            if state.paused_at is not None:
                raise ProtocolError("round_paused", "the round is paused: resume it first")
            seat = room.seat_of(conn.player_id)
            if p.seq <= seat.last_seq:
                if p.seq == seat.last_seq:
                    raise ProtocolError("duplicate_input", f"batch {p.seq} was already applied", applied=True)
                raise ProtocolError("old_seq", f"sequence number {p.seq} was already used (last {seat.last_seq})")
            mine = state.lanes_of.get(conn.player_id, ())
            by_lane: dict[int, list[tuple[int, str, bool]]] = {}
            for i in p.inputs:
                if i.lane not in mine:
                    raise ProtocolError("wrong_lane", f"you run lane {', '.join(map(str, mine)) or 'none'} in this round")
                by_lane.setdefault(i.lane, []).append((i.tick, i.key, i.down))
            now = state.tick_now()
            try:
                state.game.check(by_lane, now)
            except run.InputRefused as exc:
                raise ProtocolError(exc.code, exc.reason, server_tick=now) from None
            inputs = [i.model_dump() for i in p.inputs]
            s.storage.add_move(state.round_id, state.moves, conn.player_id, {"inputs": inputs}, round(time.time() - state.t0, 3))
            state.moves += 1
            judged = state.game.apply(by_lane)
            seat.last_seq = p.seq
            if room.coop:  # for the partner's screen; a solo room has nobody to tell (nor a Redis publish to pay)
                server.emit("run_inputs", {"round_id": state.round_id, "by": conn.player_id, "inputs": inputs}, to=code, skip_sid=conn.sid)
            publish(code, state, judged)
            if state.game.finished:
                finish(room, state)
            return {"accepted": len(inputs), "server_tick": now, "lane_ticks": {str(i): lane.next_tick for i, lane in state.game.lanes.items()}}

    @handler("run_pause", RunPause)
    def run_pause(conn, p: RunPause) -> dict:
        """A solo player stops the clock (Esc) and starts it again; a co-op round's music goes on
        for the partner, so it cannot be paused. The reply is the round's view at the new clock."""
        code = room_code_of(conn)
        with s.store.locked(code) as room:
            state = _live_round(room, p.round_id)
            if room.coop:
                raise ProtocolError("coop_no_pause", "a co-op run cannot be paused: your partner is still running")
            state.pause(p.paused)
            return {"round": run_view(state)}

    @handler("calibrate", Calibrate)
    def calibrate(conn, p: Calibrate) -> dict:
        """The player's audio offset (ms, + when they hear late), applied to their next rounds."""
        s.store.offsets[conn.player_id] = p.offset_ms
        return {"offset_ms": p.offset_ms}

    def ticker() -> None:
        while True:
            socketio.sleep(TICKER_PERIOD)
            try:
                live = list(s.store.live_runs)
            except Exception:  # Redis unreachable for a moment: the clock must not stop for good
                log.exception("reading the live Run rounds failed")
                continue
            for code in live:
                try:
                    with s.store.locked(code) as room:
                        state = None if room is None else room.round
                        if not isinstance(state, RunRoundState) or state.result is not None:
                            s.store.live_runs.discard(code)
                            continue
                        publish(code, state, state.game.advance(state.tick_now() - run.LATE_TOLERANCE))
                        if state.game.finished:
                            finish(room, state)
                except Exception:
                    log.exception("advancing the Run round of room %s failed", code)

    socketio.start_background_task(ticker)
