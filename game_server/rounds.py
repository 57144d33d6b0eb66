"""The one round path: starting a round, every game's moves, the clock, the result. What is
common to the games is done here once; what is a game's own is asked of it (games/base.py).

Order of work for a move, so that nothing acknowledged can be lost and nothing refused changes
anything: (room lock) the room plays that round, it is not over -> the seat's sequence number
(one rule for every game: numbers only go up; the last one sent again gets its reply again,
marked `duplicate`) -> a co-op partner away? -> the game's rule checks the move -> store it
(committed) -> apply it -> tell the room -> [the round ended: store the result (committed),
`round_ended`] -> reply. A start is acknowledged once its round is stored. When the database
does not take a write the player hears `storage_unavailable` (retry: true): a move or a start
changes nothing; a result is kept with the round (`ending`) and stored by the next move or tick
of that round, so no room is left where its players cannot go on.
"""

from __future__ import annotations

import logging
import time

from models.options import OptionsError

from .composer import ComposerUnavailable, ComposeTimeout
from .games import GAMES
from .games.base import Outcome, Result, RoundState, Table
from .protocol import ProtocolError, parse
from .rooms import Room, RoomsUnavailable
from .services import Background, Clients, Connection, Players, Services, composer_unavailable, rounds_log, storage_unavailable
from .storage import StorageError

log = logging.getLogger(__name__)

TICK_PERIOD = 0.1  # seconds between two ticks of the rounds that have a clock


def log_round_end(code: str, game: str, state: RoundState, score: int | None, ended: str) -> None:
    """The operator's line for a round that ends (score "-" when it ended unscored)."""
    rounds_log.info("round end round=%s room=%s game=%s level=%s score=%s ended=%s moves=%d seconds=%.1f",
                    state.round_id, code, game, state.level_name, "-" if score is None else score, ended, state.moves, time.time() - state.started)


class Rounds:
    def __init__(self, services: Services, clients: Clients, background: Background):
        self.s, self.clients, self.background = services, clients, background

    def room_code_of(self, conn: Connection) -> str:
        code = self.s.store.room_of_player.get(conn.player_id)
        if code is None:
            raise ProtocolError("not_in_room", "you are not in a room")
        return code

    def view(self, room: Room) -> dict | None:
        """The room's round as its seats see it (None between rounds)."""
        return None if room.round is None else GAMES[room.game].view(room.round)

    # -- start --

    def start(self, conn: Connection, data) -> dict:
        code = self.room_code_of(conn)
        with self.s.store.locked(code) as room:
            game = GAMES[room.game]
            options = parse(game.start_model, data)
            if room.host != conn.player_id:
                raise ProtocolError("not_host", "only the room's host starts a round")
            if len(room.seats) < room.capacity:
                raise ProtocolError("room_not_full", "wait for your partner to join")
            if room.round is not None and room.round.result is None:
                if room.round.ending is None:
                    raise ProtocolError("round_in_progress", "finish the current round first")
                if (refused := self._end(room, room.round, room.round.ending)) is not None:
                    raise refused  # its result still cannot be stored: nothing else changed

            if (options.music is not None or options.story is not None or options.piece is not None) and not game.steered:
                raise ProtocolError("music_not_steered", f"{game.title} plays its own music: it takes no music choice")
            level = room.level if options.level is None else options.level
            game.check_level(room.ladder, level)
            seats = [(seat.player_id, seat.name) for seat in room.seats]
            table = Table(code, [p for p, _ in seats], " & ".join(n for _, n in seats), room.coop, room.ladder,
                          self.s.pool.take, lambda player: self.s.store.offsets.get(player, 0))
            try:
                started = game.start(table, level, options)
            except ComposeTimeout as exc:  # the composer works but is behind
                raise ProtocolError("composer_busy", str(exc)) from None
            except ComposerUnavailable:  # it is down: no wait, try again in a few seconds
                raise composer_unavailable() from None
            except OptionsError as exc:  # a choice the models cannot honour (a groove they never learnt in that meter)
                raise ProtocolError("unsupported_music", str(exc)) from None
            state = started.state
            setup = started.setup if options.music is None else {**started.setup, "music": options.music.model_dump(exclude={"seed"})}
            try:  # committed before the start is acknowledged: a round that is played is stored
                self.s.storage.add_round(state.round_id, game.name, state.level_name, code, started.seed, state.players, started.piece_json, setup)
            except StorageError:
                log.warning("round %s of room %s not started: its row was not stored", state.round_id, code, exc_info=True)
                raise storage_unavailable() from None
            if game.clock:
                self.s.store.live_rounds.add(code)
            room.level, room.round = level, state
            view = game.view(state)
        rounds_log.info("round start round=%s room=%s game=%s level=%s players=%s", state.round_id, code, game.name, state.level_name, Players(seats))
        if room.coop:  # the starter has the view in the reply; a solo room has nobody else to tell
            self.clients.emit("round_started", view, to=code, skip_sid=conn.sid)
        return {"round": view}

    # -- moves --

    def move(self, event: str, conn: Connection, payload) -> dict:
        code = self.room_code_of(conn)
        refusal = None  # raised after the room's lock, so that what did change is kept (a Redis room is written back)
        with self.s.store.locked(code) as room:
            game = GAMES[room.game]
            state = room.round
            spec = game.moves.get(event)
            if spec is None or state is None or state.round_id != payload.round_id:
                raise ProtocolError("wrong_round", "that round is not being played in your room")
            if state.result is None and state.ending is not None:  # its result is still to be stored
                refusal = self._end(room, state, state.ending) or ProtocolError("round_over", "the round has ended", result=state.result)
            elif state.result is not None:
                raise ProtocolError("round_over", "the round has ended", result=state.result)
            else:
                seat = room.seat_of(conn.player_id)
                if spec.sequenced and payload.seq <= seat.last_seq:
                    if payload.seq == seat.last_seq and seat.last_reply is not None:
                        return {**seat.last_reply, "duplicate": True}
                    raise ProtocolError("old_seq", f"sequence number {payload.seq} was already used (last {seat.last_seq})")
                if spec.waits_for_partner and room.waiting_for_partner(time.time()):
                    raise ProtocolError("round_paused", "your partner's connection dropped: the round waits for them")
                checked = spec.rule(state, payload, conn.player_id, room.coop)
                if checked.record is not None:
                    try:
                        self.s.storage.add_move(state.round_id, state.moves, conn.player_id, checked.record, round(time.time() - state.started, 3))
                    except StorageError:
                        raise storage_unavailable() from None  # nothing applied
                    state.moves += 1
                outcome = checked.apply()
                if outcome.result is not None:
                    outcome.reply["result"] = outcome.result.public
                if spec.sequenced:
                    seat.last_seq, seat.last_reply = payload.seq, outcome.reply
                self._tell(code, outcome, conn.sid)
                if outcome.result is not None:
                    refusal = self._end(room, state, outcome.result)
        if refusal is not None:
            raise refusal
        return outcome.reply

    def refusal_context(self, conn: Connection) -> dict:
        """What a refused move carries from the round live in the player's room (Run: the
        round clock's `server_tick`), for a refusal decided before the round was looked at
        (`bad_payload`); nothing if there is none, or the room cannot be read."""
        code = self.s.store.room_of_player.get(conn.player_id) if conn.player_id else None
        if code is None:
            return {}
        try:
            with self.s.store.locked(code) as room:
                state = None if room is None else room.round
                return state.refusal_context() if state is not None and state.result is None else {}
        except RoomsUnavailable:
            return {}

    def _end(self, room: Room, state: RoundState, result: Result) -> ProtocolError | None:
        """Store the result (committed), then the round is over and the room is told. If the
        database does not take it, the round is `ending`: nothing more is played in it, and the
        next move or tick stores the result again; the refusal to give the player says so."""
        try:
            self.s.storage.finish_round(state.round_id, room.game, state.level_name, state.players, state.names, result.score, result.stored, result.flagged, state.moves)
        except StorageError:
            log.warning("the result of round %s was not stored; it is kept, and stored on the next try", state.round_id, exc_info=True)
            state.ending = result
            return ProtocolError("storage_unavailable", "your result is kept, but the database cannot store it yet: send again in a moment to see it stored", retry=True, result=result.public)
        state.result, state.ending = result.public, None
        self.s.store.live_rounds.discard(room.code)
        self.clients.emit("round_ended", result.public, to=room.code)
        if rounds_log.isEnabledFor(logging.INFO):
            log_round_end(room.code, room.game, state, result.score, result.ended)
        return None

    def _tell(self, code: str, outcome: Outcome, mover: str | None) -> None:
        for name, data, to_mover in outcome.events:
            self.clients.emit(name, data, to=code, skip_sid=None if to_mover else mover)

    def abandoned(self, room: Room) -> None:
        """The room closes (called under its lock): a round still in play ends with it, unscored."""
        state = room.round
        if state is not None and state.result is None:
            if state.ending is None:
                self.s.storage.abandon_round(state.round_id, state.moves)
            log_round_end(room.code, room.game, state, None, "abandoned")

    # -- the clock --

    def tick_forever(self) -> None:
        """Ten times a second, every live round of a game with a clock moves on: a player who sends
        nothing keeps running with the keys last held, and the round ends when its time is up."""
        unsaid_since = -60.0
        while True:
            self.background.sleep(TICK_PERIOD)
            try:
                live = list(self.s.store.live_rounds)
            except Exception as exc:  # Redis unreachable: the clock must not stop for good, nor fill the log
                if time.monotonic() - unsaid_since >= 60:  # an outage (RoomsUnavailable) needs no traceback
                    log.error("reading the live rounds failed (said at most once a minute while it lasts): %s", exc, exc_info=not isinstance(exc, RoomsUnavailable))
                    unsaid_since = time.monotonic()
                continue
            for code in live:
                try:
                    self._tick(code)
                except Exception:
                    log.exception("the clock of room %s failed", code)

    def _tick(self, code: str) -> None:
        with self.s.store.locked(code) as room:
            state = None if room is None else room.round
            if state is None or state.result is not None or not GAMES[room.game].clock:
                self.s.store.live_rounds.discard(code)
                return
            if state.ending is not None:  # a result the database did not take: again
                self._end(room, state, state.ending)
                return
            outcome = GAMES[room.game].tick(state)
            self._tell(code, outcome, None)
            if outcome.result is not None:
                self._end(room, state, outcome.result)
