"""The lobby: players (hello, reconnection, a second tab), rooms and seats, a seat that drops
and comes back, the player's audio offset. Games are told apart only through the registry."""

from __future__ import annotations

import logging
import time

from .games import GAMES
from .protocol import Calibrate, CreateRoom, Hello, JoinRoom, LeaveRoom, ProtocolError, Resync
from .rooms import Room, RoomsUnavailable, Seat, TokenError, TokenExpired, new_player_id
from .rounds import Rounds
from .services import Background, Clients, Connection, Services, connections_log, rooms_log
from .storage import StorageError

log = logging.getLogger(__name__)

SESSION_MOVED = "this game is open in another tab or window"
NOT_SEATED = {"room": None, "round": None, "last_seq": 0}
RESYNC_RETRY = 0.5  # seconds between two tries of a resync push while Redis still refuses
RESYNC_PATIENCE = 60.0  # seconds after which a resync push is given up (logged)


class Lobby:
    def __init__(self, services: Services, clients: Clients, background: Background, rounds: Rounds):
        self.s, self.clients, self.background, self.rounds = services, clients, background, rounds

    def hello(self, conn: Connection, p: Hello) -> dict:
        s = self.s
        player_id = self._player_of(p.token) if p.token else None
        if conn.player_id is not None and player_id != conn.player_id:
            # One connection, one player: a connection that could switch players would let one
            # socket play (and top a leaderboard) as many, under one flood limit each.
            raise ProtocolError("already_hello", "this connection already plays as another player: open a new connection to play as someone else")
        player_id = player_id or new_player_id()
        try:  # the name for the records; a database that is down must not keep a player out
            s.storage.add_player(player_id, p.name)
        except StorageError:
            log.warning("player %s (%r) not stored: the database did not take it", player_id, p.name)
        conn.player_id, conn.name = player_id, p.name
        old_sid = s.sid_of_player.get(player_id)
        s.sid_of_player[player_id] = conn.sid
        moved_from = old_sid if old_sid and old_sid != conn.sid and old_sid in s.connections else None
        if moved_from:
            self._move_session(moved_from)
        # A fresh token every hello: the page stores it, so a player who keeps playing keeps a
        # token well inside its lifetime.
        reply = {"player_id": player_id, "token": s.tokens.issue(player_id), **NOT_SEATED}
        if p.token:  # a new player is in no room: nothing to look up
            try:
                reply.update(self.seat_state(conn))
            except RoomsUnavailable:  # who they are needs no Redis; where they sit does
                reply["rooms_unavailable"] = True
                log.info("hello from player %s while the room store cannot be reached: answered without their room", player_id)
        connections_log.info("hello sid=%s player=%s name=%r returning=%s room=%s moved_from=%s",
                             conn.sid, player_id, p.name, bool(p.token), reply["room"]["code"] if reply["room"] else "-", moved_from or "-")
        return reply

    def seat_state(self, conn: Connection) -> dict:
        """Where the connection's player sits, as `hello` and `resync` answer it: {room, round,
        last_seq} (None, None, 0 when not seated). Seats the connection again on the way: it
        joins the room's broadcasts, and a seat marked away is back (the partner hears
        `partner_back`). Raises RoomsUnavailable when the room store cannot be reached."""
        s = self.s
        code = s.store.room_of_player.get(conn.player_id)
        if not code:
            return dict(NOT_SEATED)
        with s.store.locked(code) as room:
            seat = None if room is None or room.closed else room.seat_of(conn.player_id)
            if seat is None:
                return dict(NOT_SEATED)
            was_away, seat.away_since = seat.away_since is not None, None
            self.clients.enter_room(conn.sid, code)
            if was_away:
                self.clients.emit("partner_back", {"player_id": conn.player_id}, to=code, skip_sid=conn.sid)
            # last_seq: a reloaded page goes on counting from here
            return {"room": room.public(), "round": self.rounds.view(room), "last_seq": seat.last_seq}

    def resync(self, conn: Connection, _payload: Resync) -> dict:
        """The room's state again, for a client that may have missed events."""
        return self.seat_state(conn)

    def resync_everyone(self) -> None:
        """Push `resync` to every connection of this process seated in a room: called when the
        message queue is back after a gap, during which the partners' events (round_started,
        board, run_inputs, round_ended...) were lost. Redis may still be loading its data: tried
        again every RESYNC_RETRY seconds for up to RESYNC_PATIENCE."""
        deadline = time.monotonic() + RESYNC_PATIENCE
        pending = [conn for conn in list(self.s.connections.values()) if conn.player_id]
        while pending:
            try:
                for conn in list(pending):
                    if self.s.connections.get(conn.sid) is conn:  # still connected
                        state = self.seat_state(conn)
                        if state["room"] is not None:
                            self.clients.emit("resync", state, to=conn.sid)
                    pending.remove(conn)
            except RoomsUnavailable:
                if time.monotonic() > deadline:
                    log.warning("resync not pushed to %d connections: the room store is still out of reach", len(pending))
                    return
                self.background.sleep(RESYNC_RETRY)
        rooms_log.info("resync pushed after the message queue's gap")

    def _player_of(self, token: str) -> str:
        try:
            return self.s.tokens.player_of(token)
        except TokenExpired as exc:
            raise ProtocolError("token_expired", str(exc)) from None
        except TokenError as exc:
            raise ProtocolError("bad_token", str(exc)) from None

    def _move_session(self, old_sid: str) -> None:
        """The newest connection plays for the player (a reloaded page, a second tab). The older
        one is told why (`session_moved`) and dropped: left open it would look alive while every
        move it sent failed, and the two tabs would take the player back and forth. Its
        disconnect finds the player on the new connection, so the seat is not marked away."""
        self.clients.emit("session_moved", {"message": SESSION_MOVED}, to=old_sid)
        self.clients.disconnect(old_sid)

    def create_room(self, conn: Connection, p: CreateRoom) -> dict:
        if p.game not in GAMES:
            raise ProtocolError("unknown_game", f"games: {', '.join(GAMES)}")
        game = GAMES[p.game]
        ladder = p.ladder or game.default_ladder
        game.check_level(ladder, p.level)
        self._leave_current(conn)
        room = self.s.store.create(lambda code: Room(code, p.game, p.mode == "coop", ladder, p.level, conn.player_id, [Seat(conn.player_id, conn.name)], grace=self.s.grace))
        self.s.store.room_of_player[conn.player_id] = room.code
        self.clients.enter_room(conn.sid, room.code)
        rooms_log.info("room created room=%s game=%s mode=%s ladder=%s level=%d host=%s",
                       room.code, room.game, "coop" if room.coop else "solo", room.ladder, room.level, conn.player_id)
        return {"room": room.public()}

    def join(self, conn: Connection, p: JoinRoom) -> dict:
        s = self.s
        if s.join_limiter.blocked(conn.address or ""):
            raise ProtocolError("too_many_attempts", "too many wrong codes from your address: wait a minute")
        code = p.code.strip().upper()
        with s.store.locked(code) as room:
            if room is None or room.closed:
                s.join_limiter.failed(conn.address or "")
                raise ProtocolError("no_such_room", "no room has that code")
            if room.seat_of(conn.player_id) is None:
                if len(room.seats) >= room.capacity:
                    raise ProtocolError("room_full", "this room has no free seat")
                self._leave_current(conn)
                room.seats.append(Seat(conn.player_id, conn.name))
                s.store.room_of_player[conn.player_id] = code
                rooms_log.info("room joined room=%s player=%s name=%r seats=%d/%d", code, conn.player_id, conn.name, len(room.seats), room.capacity)
            self.clients.enter_room(conn.sid, code)
            self.clients.emit("room", room.public(), to=code)
            return {"room": room.public(), "round": self.rounds.view(room)}

    def leave(self, conn: Connection, _payload: LeaveRoom) -> dict:
        self._leave_current(conn)
        return {}

    def _leave_current(self, conn: Connection) -> None:
        s = self.s
        code = s.store.room_of_player.pop(conn.player_id, None)
        if code is None:
            return
        self.clients.leave_room(conn.sid, code)
        empty = False
        with s.store.locked(code) as room:
            if room is not None:
                room.seats = [seat for seat in room.seats if seat.player_id != conn.player_id]
                empty = not room.seats
                rooms_log.info("room left room=%s player=%s seats=%d/%d", code, conn.player_id, len(room.seats), room.capacity)
                if empty:
                    self._closed(room, "empty")
                else:
                    if room.host == conn.player_id:
                        room.host = room.seats[0].player_id
                    self.clients.emit("room", room.public(), to=code)
        if empty:
            s.store.remove(code)

    def calibrate(self, conn: Connection, p: Calibrate) -> dict:
        """The player's audio offset (ms, + when they hear late), applied to their next rounds."""
        self.s.store.offsets[conn.player_id] = p.offset_ms
        return {"offset_ms": p.offset_ms}

    def disconnected(self, sid: str, reason) -> None:
        s = self.s
        conn = s.connections.pop(sid, None)
        player, name = (conn.player_id, conn.name) if conn and conn.player_id else ("-", "")
        connections_log.info("disconnect sid=%s player=%s name=%r reason=%r", sid, player, name, reason)
        if conn is None or conn.player_id is None or s.sid_of_player.get(conn.player_id) != sid:
            return
        del s.sid_of_player[conn.player_id]
        # Off this call: a disconnect can be found inside another player's emit (Engine.IO checks
        # the ping timeout on every send), while that player's move holds the room's lock.
        self.background.start(self._mark_away, conn.player_id)

    def _mark_away(self, player_id: str) -> None:
        code = self.s.store.room_of_player.get(player_id)
        if code is None:
            return
        try:
            with self.s.store.locked(code) as room:
                seat = None if room is None else room.seat_of(player_id)
                if seat is None or player_id in self.s.sid_of_player:  # gone, or back already
                    return
                seat.away_since = time.time()
                self.clients.emit("partner_away", {"player_id": seat.player_id, "grace_seconds": room.grace}, to=code)
                grace = room.grace
        except RoomsUnavailable:  # the seat stays as it was; the room's round goes on for the partner
            log.info("player %s disconnected while the room store cannot be reached: their seat is not marked away", player_id)
            return
        self.background.start(self._after_grace, code, player_id, grace)

    def _after_grace(self, code: str, player_id: str, grace: float) -> None:
        self.background.sleep(grace + 0.1)
        with self.s.store.locked(code) as room:
            if room is None:
                return
            seat = room.seat_of(player_id)
            if seat is None or seat.away_since is None:
                return
            if room.all_gone(time.time()):
                room.closed = True
                gone = True
                self._closed(room, "everyone_away")
            else:
                self.clients.emit("partner_gone", {"player_id": player_id, "rule": "the round goes on with the player still here"}, to=code)
                gone = False
        if gone:
            self.s.store.remove(code)

    def _closed(self, room: Room, why: str) -> None:
        self.rounds.abandoned(room)
        rooms_log.info("room closed room=%s reason=%s", room.code, why)
