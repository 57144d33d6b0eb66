"""Socket.IO handlers: validate, call the rules, store, emit. No scoring or game logic here.

Every client event is answered through its ack with {"ok": true, ...} or
{"ok": false, "error": {"code", "message"}}; a refusal is also emitted as an `error` event, for a
client that sent the event without an ack. docs/protocol.md is the reference.

Order of work for a move, so that nothing acknowledged can be lost:
  validate -> (room lock) check seat, round, seq, version -> apply the rule -> store the move
  (committed) -> update the room -> [submit: score, store the result (committed)] -> ack and emit.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from flask import request
from flask_socketio import SocketIO

from .composer import ComposeTimeout, MorphRequest, PiecePool, PieceRequest
from .games import run, sort
from .music import piece_to_dict, piece_to_json
from .protocol import MAX_EVENT_BYTES, CreateRoom, Hello, JoinRoom, LeaveRoom, ProtocolError, SortMove, StartRound, parse
from .realtime_run import RunRoundState, log_round_end, new_run_round, register_run, run_view
from .rooms import AttemptLimiter, Room, RoomStore, Seat, TokenBucket, TokenError, Tokens, new_player_id
from .storage import Storage

log = logging.getLogger(__name__)
# What an operator reads (docs/deploy.md): one INFO line per connection, room and round event,
# none per move. Arguments are formatted only when the level is on.
connections_log = logging.getLogger("melody_arcade.connections")
rooms_log = logging.getLogger("melody_arcade.rooms")
rounds_log = logging.getLogger("melody_arcade.rounds")

LADDERS = {"sort": sort.LADDERS, "run": {"run": run.LADDER}}  # game -> ladder name -> levels
DEFAULT_LADDER = {"sort": "slices", "run": "run"}
FLOOD_DISCONNECT = 5000  # refused-for-rate events after which a connection is dropped
TAKEN_OVER = "this game is open in another tab or window"


@dataclass
class Connection:
    sid: str
    bucket: TokenBucket = field(default_factory=TokenBucket)
    player_id: str | None = None
    name: str = ""
    flood_refusals: int = 0


@dataclass
class SortRoundState:
    round_id: str
    puzzle: sort.Puzzle
    board: sort.Board
    started: float  # time.time() at the start: wall clock, the same in every process
    level_name: str
    moves: int = 0
    result: dict | None = None


@dataclass
class Services:
    store: RoomStore
    storage: Storage
    tokens: Tokens
    pool: PiecePool
    grace: float = 20.0  # seconds a co-op round waits for a dropped player
    join_limiter: AttemptLimiter = field(default_factory=AttemptLimiter)
    connections: dict[str, Connection] = field(default_factory=dict)
    sid_of_player: dict[str, str] = field(default_factory=dict)

    def add_round(self, *row) -> None:
        """Stores a new round (Storage.add_round's arguments). With rooms in this process the start
        is acknowledged without waiting for the commit: the round's moves and result commit after
        it, and a process that dies first takes the room with it. A room in Redis outlives the
        process, and another may play the round on: there the round is committed first."""
        self.storage.add_round(*row, wait=self.store.outlives_process)


class _Players(list):
    """A round's players as a log field, `p_1a2b:'Ada',p_3c4d:'Bob'` (names quoted: a name may hold
    anything), formatted only if the line is written."""

    def __str__(self) -> str:
        return ",".join(f"{player}:{name!r}" for player, name in self)


RESERVED_EVENTS = ("connect", "disconnect", "*")  # Socket.IO's own names: never a client's event


def refuse_reserved_events(server) -> None:
    """python-socketio hands a client-sent event named 'connect' or 'disconnect' to the app's own
    connection handlers (and '*' to the catch-all): such a packet would make a connection forget
    its hello or mark its seat away. Refuse them before dispatch, as unknown events."""
    from socketio import packet

    dispatch = server._handle_event

    def guarded(eio_sid, namespace, id, data):
        if data and data[0] in RESERVED_EVENTS:
            reply = ProtocolError("unknown_event", f"no event called {data[0]!r}").reply()
            server._send_packet(eio_sid, server.packet_class(packet.EVENT, namespace=namespace or "/", data=["error", {**reply["error"], "event": data[0]}]))
            if id is not None:
                server._send_packet(eio_sid, server.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[reply]))
            return
        return dispatch(eio_sid, namespace, id, data)

    server._handle_event = guarded


def register(socketio: SocketIO, services: Services) -> None:
    s = services
    # The game's events are handled on python-socketio's server directly, with the connection's
    # sid passed in: Flask-SocketIO's dispatch would build a Flask request context for every
    # event (a fifth of a move's CPU), and no handler needs one. Connect and disconnect still
    # go through Flask-SocketIO. Every emit goes through python-socketio's server too.
    server = socketio.server
    refuse_reserved_events(server)

    def handler(event: str, model=None):
        """Wrap a handler: flood guard, size limit, payload validation, errors as replies."""

        def wrap(fn: Callable):
            def run(sid, *args):
                conn = s.connections.get(sid) or s.connections.setdefault(sid, Connection(sid))
                data = args[0] if args else None
                try:
                    if len(args) > 1:
                        raise ProtocolError("bad_payload", "send one payload object per event")
                    if not conn.bucket.allow():
                        conn.flood_refusals += 1
                        if conn.flood_refusals > FLOOD_DISCONNECT:
                            server.disconnect(sid)
                        raise ProtocolError("rate_limited", "too many events: slow down")
                    if len(json.dumps(data, default=str)) > MAX_EVENT_BYTES:
                        raise ProtocolError("payload_too_large", f"events are limited to {MAX_EVENT_BYTES} bytes")
                    if event != "hello" and conn.player_id is None:
                        raise ProtocolError("no_hello", "say hello first")
                    payload = parse(model, data) if model is not None else data
                    return {"ok": True, **fn(conn, payload)}
                except ProtocolError as exc:
                    reply = exc.reply()
                    server.emit("error", {**reply["error"], "event": event}, to=sid)
                    return reply
                except Exception:
                    log.exception("handler %s failed", event)
                    reply = ProtocolError("server_error", "the server failed on this event; the room is unchanged").reply()
                    server.emit("error", {**reply["error"], "event": event}, to=sid)
                    return reply

            server.on(event, run)
            return fn

        return wrap

    @socketio.on("connect")
    def on_connect(auth=None):
        s.connections[request.sid] = Connection(request.sid)
        connections_log.info("connect sid=%s addr=%s", request.sid, request.remote_addr)

    @socketio.on("disconnect")
    def on_disconnect(reason=None, *_):
        conn = s.connections.pop(request.sid, None)
        player, name = (conn.player_id, conn.name) if conn and conn.player_id else ("-", "")
        connections_log.info("disconnect sid=%s player=%s name=%r reason=%r", request.sid, player, name, reason)
        if conn is None or conn.player_id is None or s.sid_of_player.get(conn.player_id) != request.sid:
            return
        del s.sid_of_player[conn.player_id]
        code = s.store.room_of_player.get(conn.player_id)
        if code is None:
            return
        with s.store.locked(code) as room:
            if room is None:
                return
            seat = room.seat_of(conn.player_id)
            seat.away_since = time.time()
            server.emit("partner_away", {"player_id": seat.player_id, "grace_seconds": room.grace}, to=code)
            grace = room.grace
        socketio.start_background_task(_after_grace, code, conn.player_id, grace)

    def _after_grace(code: str, player_id: str, grace: float) -> None:
        socketio.sleep(grace + 0.1)
        with s.store.locked(code) as room:
            if room is None:
                return
            seat = room.seat_of(player_id)
            if seat is None or seat.away_since is None:
                return
            if room.all_gone(time.time()):
                room.closed = True
                gone = True
                _log_closed(room, "everyone_away")
            else:
                server.emit("partner_gone", {"player_id": player_id, "rule": "the round goes on with the player still here"}, to=code)
                gone = False
        if gone:
            s.store.remove(code)

    @handler("hello", Hello)
    def hello(conn: Connection, p: Hello) -> dict:
        if p.token:
            try:
                player_id = s.tokens.player_of(p.token)
            except TokenError as exc:
                raise ProtocolError("bad_token", str(exc)) from None
        else:
            player_id = new_player_id()
        s.storage.add_player(player_id, p.name)
        conn.player_id, conn.name = player_id, p.name
        old_sid = s.sid_of_player.get(player_id)
        s.sid_of_player[player_id] = conn.sid
        took_over = old_sid if old_sid and old_sid != conn.sid and old_sid in s.connections else None
        if took_over:
            _take_over(took_over)
        reply = {"player_id": player_id, "token": s.tokens.issue(player_id), "room": None, "round": None, "last_seq": 0}
        code = s.store.room_of_player.get(player_id)
        if code:
            with s.store.locked(code) as room:
                if room is not None and not room.closed:
                    seat = room.seat_of(player_id)
                    seat.away_since = None
                    reply["last_seq"] = seat.last_seq  # a reloaded page goes on counting from here
                    server.enter_room(conn.sid, code)
                    reply["room"] = room.public()
                    reply["round"] = _round_view(room)
                    server.emit("partner_back", {"player_id": player_id}, to=code, skip_sid=conn.sid)
        connections_log.info("hello sid=%s player=%s name=%r returning=%s room=%s took_over=%s",
                             conn.sid, player_id, p.name, bool(p.token), reply["room"]["code"] if reply["room"] else "-", took_over or "-")
        return reply

    def _take_over(old_sid: str) -> None:
        """The newest connection plays for the player (a reloaded page, a second tab). The older
        one is told why and dropped: left open it would look alive while every move it sent
        failed, and the two tabs would take the player back and forth. Its disconnect finds the
        player on the new connection, so the seat is not marked away."""
        server.emit("taken_over", {"message": TAKEN_OVER}, to=old_sid)
        server.disconnect(old_sid)

    @handler("create_room", CreateRoom)
    def create_room(conn: Connection, p: CreateRoom) -> dict:
        ladder = p.ladder or DEFAULT_LADDER[p.game]
        if ladder not in LADDERS[p.game]:
            raise ProtocolError("unknown_ladder", f"{p.game} ladders: {', '.join(LADDERS[p.game])}")
        _check_level(p.game, ladder, p.level)
        _leave_current(conn)
        room = s.store.create(lambda code: Room(code, p.game, p.mode == "coop", ladder, p.level, conn.player_id, [Seat(conn.player_id, conn.name)], grace=s.grace))
        s.store.room_of_player[conn.player_id] = room.code
        server.enter_room(conn.sid, room.code)
        rooms_log.info("room created room=%s game=%s mode=%s ladder=%s level=%d host=%s",
                       room.code, room.game, "coop" if room.coop else "solo", room.ladder, room.level, conn.player_id)
        return {"room": room.public()}

    @handler("join_room", JoinRoom)
    def join(conn: Connection, p: JoinRoom) -> dict:
        if s.join_limiter.blocked(conn.sid):
            raise ProtocolError("too_many_attempts", "too many wrong codes: wait a minute")
        code = p.code.strip().upper()
        with s.store.locked(code) as room:
            if room is None or room.closed:
                s.join_limiter.failed(conn.sid)
                raise ProtocolError("no_such_room", "no room has that code")
            if room.seat_of(conn.player_id) is None:
                if len(room.seats) >= room.capacity:
                    raise ProtocolError("room_full", "this room has no free seat")
                _leave_current(conn)
                room.seats.append(Seat(conn.player_id, conn.name))
                s.store.room_of_player[conn.player_id] = code
                rooms_log.info("room joined room=%s player=%s name=%r seats=%d/%d", code, conn.player_id, conn.name, len(room.seats), room.capacity)
            server.enter_room(conn.sid, code)
            server.emit("room", room.public(), to=code)
            return {"room": room.public(), "round": _round_view(room)}

    @handler("leave_room", LeaveRoom)
    def leave(conn: Connection, _payload: LeaveRoom) -> dict:
        _leave_current(conn)
        return {}

    def _leave_current(conn: Connection) -> None:
        code = s.store.room_of_player.pop(conn.player_id, None)
        if code is None:
            return
        server.leave_room(conn.sid, code)
        empty = False
        with s.store.locked(code) as room:
            if room is not None:
                room.seats = [seat for seat in room.seats if seat.player_id != conn.player_id]
                empty = not room.seats
                rooms_log.info("room left room=%s player=%s seats=%d/%d", code, conn.player_id, len(room.seats), room.capacity)
                if empty:
                    _log_closed(room, "empty")
                else:
                    if room.host == conn.player_id:
                        room.host = room.seats[0].player_id
                    server.emit("room", room.public(), to=code)
        if empty:
            s.store.remove(code)

    @handler("start_round", StartRound)
    def start_round(conn: Connection, p: StartRound) -> dict:
        code = _room_code_of(conn)
        with s.store.locked(code) as room:
            if room.host != conn.player_id:
                raise ProtocolError("not_host", "only the room's host starts a round")
            if len(room.seats) < room.capacity:
                raise ProtocolError("room_not_full", "wait for your partner to join")
            if room.round is not None and room.round.result is None:
                raise ProtocolError("round_in_progress", "finish the current round first")
            level = room.level if p.level is None else p.level
            _check_level(room.game, room.ladder, level)
            try:
                if room.game == "run":
                    state = new_run_round(s, room, level, p.lanes)
                else:
                    state = _new_sort_round(room, level)
            except ComposeTimeout as exc:
                raise ProtocolError("composer_busy", str(exc)) from None
            room.level, room.round = level, state
            view = _round_view(room)
            seats = [(seat.player_id, seat.name) for seat in room.seats]
        rounds_log.info("round start round=%s room=%s game=%s level=%s players=%s", state.round_id, code, room.game, state.level_name, _Players(seats))
        if room.coop:  # the starter has the view in the reply; a solo room has nobody else to tell
            server.emit("round_started", view, to=code, skip_sid=conn.sid)
        return {"round": view}

    def _check_level(game: str, ladder: str, level: int) -> None:
        levels = LADDERS[game][ladder]
        if level >= len(levels):
            raise ProtocolError("unknown_level", f"the {ladder} ladder has levels 0..{len(levels) - 1}")

    def _new_sort_round(room: Room, rung: int) -> SortRoundState:
        level = sort.LADDERS[room.ladder][rung]
        if level.mode == "slices":
            composed = s.pool.take(PieceRequest(bars=level.bars))
            puzzle, board = sort.slices_puzzle(composed.pieces[0], level, random.Random(composed.seed))
            piece_json = piece_to_json(composed.pieces[0])
        else:
            composed = s.pool.take(MorphRequest(n=level.clips))
            puzzle, board = sort.morph_puzzle(list(composed.pieces), level, random.Random(composed.seed))
            piece_json = json.dumps([json.loads(piece_to_json(p)) for p in composed.pieces])
        round_id = "r_" + uuid.uuid4().hex[:16]
        level_name = f"{room.ladder}-{rung}"
        players = [seat.player_id for seat in room.seats]
        s.add_round(round_id, "sort", level_name, room.code, composed.seed, players, piece_json, sort.puzzle_setup(puzzle, board))
        return SortRoundState(round_id, puzzle, board, time.time(), level_name)

    @handler("sort_move", SortMove)
    def sort_move(conn: Connection, p: SortMove) -> dict:
        code = _room_code_of(conn)
        with s.store.locked(code) as room:
            state = room.round
            if not isinstance(state, SortRoundState) or state.round_id != p.round_id:
                raise ProtocolError("wrong_round", "that round is not being played in your room")
            if state.result is not None or state.board.submitted:
                raise ProtocolError("round_over", "the round has ended", result=state.result)
            seat = room.seat_of(conn.player_id)
            if p.seq <= seat.last_seq:
                if p.seq == seat.last_seq and seat.last_reply is not None:
                    return {**seat.last_reply, "duplicate": True}
                raise ProtocolError("old_seq", f"sequence number {p.seq} was already used (last {seat.last_seq})")
            now = time.time()
            if room.waiting_for_partner(now):
                raise ProtocolError("round_paused", "your partner's connection dropped: the round waits for them")
            move = sort.Move(p.move.kind, p.move.clip, p.move.slot, p.move.other)
            board_changing = move.kind not in ("listen_clip", "listen_board")
            if board_changing and p.version != state.board.version:
                raise ProtocolError("stale_board", f"the board is at version {state.board.version}", board=sort.public_board(state.puzzle, state.board, with_clips=False))
            try:
                board = sort.apply_move(state.puzzle, state.board, move)
            except sort.MoveRefused as exc:
                raise ProtocolError(exc.code, exc.reason) from None
            elapsed = time.time() - state.started
            s.storage.add_move(state.round_id, state.moves, conn.player_id, p.move.model_dump(), round(elapsed, 3))
            state.moves += 1
            state.board = board
            reply: dict = {"board": sort.public_board(state.puzzle, board, with_clips=False)}
            if move.kind == "listen_clip":
                reply["clip"] = {"id": move.clip, "piece": piece_to_dict(state.puzzle.clips[move.clip].piece)}
            if board.submitted:
                score = sort.score_board(state.puzzle, board, round(elapsed, 3))
                result = {"round_id": state.round_id, "score": score.score, "details": score.__dict__, "answer": list(state.puzzle.answer)}
                names = " & ".join(seat.name for seat in room.seats)
                s.storage.finish_round(state.round_id, "sort", state.level_name, [x.player_id for x in room.seats], names, score.score, score.__dict__)
                state.result = result
                reply["result"] = result
                log_round_end(code, "sort", state, score.score, "submitted", elapsed)
            seat.last_seq, seat.last_reply = p.seq, reply
            # For the partner's screen: the mover has the board in the ack (a solo room: nobody).
            server.emit("board", {"round_id": state.round_id, "board": reply["board"], "by": conn.player_id, "move": p.move.kind, "detail": p.move.model_dump(exclude_none=True)}, to=code, skip_sid=conn.sid)
            if board.submitted:
                server.emit("round_ended", state.result, to=code)
            return reply

    def _log_closed(room: Room, why: str) -> None:
        """A room closes (called under its lock); a round still in play ends with it, unscored."""
        state = room.round
        if state is not None and state.result is None:
            started = state.started if isinstance(state, SortRoundState) else state.t0
            log_round_end(room.code, room.game, state, None, "abandoned", time.time() - started)
        rooms_log.info("room closed room=%s reason=%s", room.code, why)

    def _room_code_of(conn: Connection) -> str:
        code = s.store.room_of_player.get(conn.player_id)
        if code is None:
            raise ProtocolError("not_in_room", "you are not in a room")
        return code

    def _round_view(room: Room) -> dict | None:
        state = room.round
        if state is None:
            return None
        if isinstance(state, RunRoundState):
            return run_view(state)
        return {"round_id": state.round_id, "game": room.game, "level": state.level_name, "board": sort.public_board(state.puzzle, state.board), "result": state.result}

    register_run(socketio, s, handler, _room_code_of)

    @socketio.on("*")
    def unknown(event, *args):
        reply = ProtocolError("unknown_event", f"no event called {str(event)[:40]!r}").reply()
        server.emit("error", {**reply["error"], "event": str(event)[:40]}, to=request.sid)
        return reply
