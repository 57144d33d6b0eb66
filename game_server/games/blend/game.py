"""Beat Hunt on the one game interface: a round from a drum grid in the pool, the puck on the
server's clock, and its one move event, `hunt_move`. The rules are `rules.py`'s.

Time is the server's alone: every event is judged at `time.time() - state.started` (the round's
`clock()`), never at a time a client sends. Ten times a second the clock ends a round whose time
is up (`rules.time_up`), with the puck where it is; a submit that crossed the limit in flight is
still taken (its time scores nothing), any other move then is `too_late`. The clock's end is no
player's move and is not stored: `stored_result` replays a round whose stored moves end without
a submit as timed out at the limit, which is where the live clock ends it too.

What the page gets: the grid's beats, all of them, as data (`view`'s `packed_beats`: per cell
one 9-bit hit mask per 16th step, bit d = DRUM_CLASSES[d], packed bit by bit as base64url,
material.pack_beats; 11 x 11 in 4/4 is 5,808 characters), so the beat under the puck plays at
once, with no round trip; the stored setup keeps them the same way. The target is never sent
as data: it is heard only, as a WAV at an address with an unguessable token kept in the round's
stored setup (`heard_only`), which the view carries; the first hearing is free, each `listen`
after it counts (the page plays the fetched WAV again).

What a cheat can still do, and what is caught. The address serves the same sound every time,
so the listens counted are those the page reports: a client that never says `listen` hears the
target as often as it likes. And since every beat is sent and the synthesis is open
(music/audio.py is deterministic), a script can render all n x n cells and compare them with
the WAV, finding the target without a human ear. `rules.implausible` flags (stores, shows, does
not rank) the two shapes such a script leaves if it does nothing to hide: a submit sooner than a
beat can be heard once, or an exact hit on a 9 x 9 grid or larger with the puck on no other
cell than the centre and the target, a target not beside the centre. A script that wanders over
a few cells and waits a few seconds first is not caught; making it costlier would need the sound
itself varied per round.

The instrument (Beat Blender's free grid, no round: corners to pick, edit and share, MIDI
export) is this game's tools, in instrument.py.

Co-op: the first seat steers x, the second y (`rules.owners_for`); either may listen again or
submit, once, for both. Each accepted move is told to the partner as `hunt`, with the puck. A
hunt does not wait for a partner whose connection dropped (`waits_for_partner=False`): its clock
does not stop (the round path cannot pause a game's clock), so refusing the seat still there
would only let the time run out on them; they keep steering their own axis, listening and may
submit, and the partner's axis stays where it was until they are back.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from models.grooves import METERS  # constants only: no torch
from music import Piece, piece_to_json

from ...protocol import ProtocolError, Strict
from ..base import Checked, Game, Move, Outcome, Refused, Result, RoundState, Started, Table, heard_only_path, heard_only_token, levels_for_people, new_round_id
from . import rules
from .instrument import TOOLS
from .material import BARS, BeatGrid, GridRequest, beat_format, patterns, steps_of, unpack_beats

LADDER = "hunt"
class HuntMove(Strict):
    """Move the puck on your axes (`x`, `y`: the cell; an axis not sent stays), listen to the target
    again, or submit the puck's cell. No time, no distance, no score: the server has those."""

    round_id: str = Field(max_length=40)
    seq: int = Field(ge=1, le=2**31)
    kind: Literal["move", "listen", "submit"]
    x: int | None = Field(default=None, ge=0, le=10)  # 11 cells a side at most (rules.Level); a smaller grid's bound is the rules' off_grid
    y: int | None = Field(default=None, ge=0, le=10)


@dataclass(kw_only=True)
class HuntRound(RoundState):
    grid: BeatGrid  # every cell's beat, and the target
    hunt: rules.Hunt
    audio: str  # the target's heard-only token

    def clock(self) -> float:
        """Seconds since the start by the server's clock: the only time the rules are given."""
        return round(time.time() - self.started, 3)


def request_for(level: rules.Level) -> GridRequest:
    """The pool's shape for a level (4/4, the material's default style): one per rung."""
    return GridRequest(level.grid, level.contrast)


def grid_of(setup: dict) -> BeatGrid:
    """A stored round's grid, from its setup: `packed_beats` as the view sends them, or, in a row
    stored before 2026-12-06, `beats` as nested hit masks [x][y][step]."""
    n, steps = setup["grid"], steps_of(setup["meter"])
    if "packed_beats" in setup:
        beats = unpack_beats(setup["packed_beats"], n * n, steps).reshape(n, n, steps, -1)
    else:
        beats = patterns(setup["beats"])
    return BeatGrid(setup["meter"], setup["style"], setup["tempo"], n, beats, tuple(setup["target"]))


def heard(state: HuntRound) -> dict:
    """The target as the page gets it: where to hear it, and how long it lasts. Never its hits."""
    target = state.grid.piece(state.grid.target)
    return {"audio": heard_only_path(state.round_id, state.audio), "seconds": round(target.duration_seconds, 3)}


def public_hunt(state: HuntRound) -> dict:
    """What changes as the round is played, for every seat: the puck, the listens left, the clock."""
    hunt = state.hunt
    return {"puck": list(hunt.puck), "listens_left": hunt.level.listens - hunt.listens, "moves": hunt.moves, "clock": state.clock()}


def _result(state: HuntRound) -> Result:
    hunt = state.hunt
    scored = rules.result(hunt)
    public = {"round_id": state.round_id, "level": state.level_name, "score": scored.points, "details": scored.breakdown, "target": list(hunt.target), "ended": hunt.ended}
    return Result(scored.points, public, {**scored.breakdown, "ended": hunt.ended, "moves": hunt.moves}, hunt.ended, rules.implausible(hunt))


def hunt_move(state: HuntRound, p: HuntMove, player: str, coop: bool) -> Checked:
    """The rules' own check of the event at the server's time (rules.check: the same function a
    replay uses); its record, with the mover and the time, is what is stored."""
    try:
        step = rules.check(state.hunt, {**p.model_dump(include={"kind", "x", "y"}, exclude_none=True), "player": player, "t": state.clock()})
    except Refused as exc:
        raise ProtocolError(exc.code, exc.reason) from None

    def apply() -> Outcome:
        state.hunt = rules.apply(state.hunt, step)
        public = public_hunt(state)
        reply = {"hunt": public, **({"target": heard(state)} if step.kind == "listen" else {})}
        # for the partner's screen; a solo room has nobody to tell
        events = [("hunt", {"round_id": state.round_id, "by": player, "kind": step.kind, "hunt": public}, False)] if coop else []
        return Outcome(reply, events, _result(state) if state.hunt.ended else None)

    return Checked(step.record(), apply)


class BeatHunt(Game):
    name = "blend"
    title = "Beat Hunt"
    default_ladder = LADDER
    moves = {"hunt_move": Move(HuntMove, hunt_move, waits_for_partner=False)}
    unchanging = (BeatGrid, rules.Level)
    clock = True
    steered = True  # a player's piece only (`piece`): its beat is a corner of the grid
    tools = TOOLS  # Beat Blender's instrument, outside any round: instrument.py

    def ladders(self) -> dict[str, list]:
        return {LADDER: list(rules.LADDER)}

    def materials(self) -> list:
        return [request_for(level) for level in rules.LADDER]

    def start(self, table: Table, rung: int, options) -> Started:
        level = rules.LADDER[rung]
        if options.music is not None or options.story is not None:
            raise ProtocolError("music_not_steered", "Beat Hunt hunts the beat of a piece you send as `piece`; it composes no music to a choice or a story")
        own = options.own_piece()
        request = request_for(level) if own is None else GridRequest(level.grid, level.contrast, meter=self.hunted_meter(own), piece=own)
        composed = table.take(request)
        grid = composed.pieces[0]
        hunt = rules.new_hunt(level, grid.target, table.coop, rules.owners_for(table.players, table.coop))
        name = f"{LADDER}-{rung}" + ("-own" if own is not None else "")
        state = HuntRound(new_round_id(), name, table.players, table.names, time.time(), grid=grid, hunt=hunt, audio=heard_only_token())
        setup = {"level": level.name, "target": list(grid.target), "coop": table.coop, "owners": dict(hunt.owners), "audio": state.audio,
                 "meter": grid.meter, "style": grid.style, "tempo": grid.tempo, "grid": grid.n, "packed_beats": grid.packed}
        return Started(state, composed.seed, piece_to_json(grid.piece(grid.target)), setup)

    @staticmethod
    def hunted_meter(piece: Piece) -> str:
        """The meter of a player's piece, if Beat Hunt can hunt its beat (`unsupported_music` if not)."""
        meter = str(piece.meter)
        if meter not in METERS:
            raise ProtocolError("unsupported_music", f"Beat Hunt's drum grids are in {', '.join(METERS)}; this piece is in {meter}")
        if not any(hit.step < BARS * piece.steps_per_bar for hit in piece.drums):
            raise ProtocolError("unsupported_music", "the piece has no drums in its first two bars: there is no beat to hunt")
        return meter

    def view(self, state: HuntRound) -> dict:
        grid, level = state.grid, state.hunt.level
        return {"round_id": state.round_id, "game": self.name, "level": state.level_name, "result": state.result, "hunt": {
            "grid": grid.n, "meter": grid.meter, "style": grid.style, "tempo": grid.tempo, **beat_format(grid.meter),
            "packed_beats": grid.packed, "listens": level.listens, "seconds": level.seconds, "owners": dict(state.hunt.owners),
            "target": heard(state), **public_hunt(state)}}

    def heard_only(self, setup: dict, token: str) -> Piece | None:
        """The target beat of a stored round, for its token only."""
        if not (setup.get("audio") and hmac.compare_digest(setup["audio"], token)):
            return None
        grid = grid_of(setup)
        return grid.piece(grid.target)

    def tick(self, state: HuntRound) -> Outcome:
        """A round whose time is up ends, at the limit, with the puck where it is."""
        if not rules.time_up(state.hunt, state.clock()):
            return Outcome()
        state.hunt = rules.apply(state.hunt, rules.check_timeout(state.hunt, state.hunt.level.seconds))
        return Outcome(result=_result(state))

    def catalog(self) -> dict:
        levels = levels_for_people(rules.LADDER, level_title, level_changes, lambda level: {"grid": level.grid, "listens": level.listens, "seconds": level.seconds})
        return {"game": self.name, "name": self.title, "ladders": [{"ladder": LADDER, "name": "Hunt", "levels": levels}]}


def stored_result(setup: dict, moves: list[dict]) -> rules.Scored:
    """The result a stored round replays to (`moves`: the stored payloads, in order), through
    rules.replay. Moves that end without a submit timed out: the clock's end, not stored, is
    added at the limit, where the live clock puts it."""
    level = rules.level(setup["level"])
    records = list(moves)
    if not records or records[-1].get("kind") != "submit":
        records.append({"kind": "timeout", "player": None, "t": level.seconds})
    return rules.replay(level, tuple(setup["target"]), setup["coop"], setup["owners"], records)


def level_title(level: rules.Level) -> str:
    corners = "corners far apart" if level.contrast == "contrasting" else "corners that sound alike"
    return f"{level.grid}×{level.grid} grid, {corners}"


def level_changes(before: rules.Level, level: rules.Level) -> list[str]:
    changes = []
    if level.grid != before.grid:
        changes.append(f"{level.grid}×{level.grid} cells instead of {before.grid}×{before.grid}")
    if level.contrast != before.contrast:
        changes.append("corners that sound alike" if level.contrast == "similar" else "corners far apart")
    if level.listens != before.listens:
        changes.append(f"{level.listens} listens again instead of {before.listens}")
    if level.seconds != before.seconds:
        changes.append(f"{level.seconds:g} s instead of {before.seconds:g}")
    return changes


GAME = BeatHunt()
