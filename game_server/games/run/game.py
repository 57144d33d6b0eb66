"""Run on the one game interface: a level from a proven piece in the pool, the lanes on the
server's clock, and its events (`run_input`, `run_pause`). The rules are `rules.py`'s and
`physics.py`'s.

The round's clock is the server's: tick 0 is COUNTDOWN seconds after the start (the count-in's
first beat), 60 ticks a second. Views carry `clock_tick` (the server's tick when it was sent,
negative during the countdown) so that a client, new or reconnecting, sets its own clock from
it. Ten times a second the clock advances every live round to `now - LATE_TOLERANCE`: a player
who sends nothing keeps running with the keys last held, windows close into misses, and the
round ends once every lane's run is over. A Run round does not wait for a dropped partner: the
music goes on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from models.options import section_starts
from music import Piece, piece_to_dict, piece_to_json

from ...protocol import ProtocolError, StartRound, Strict
from ..base import Checked, Game, Move, Outcome, Result, RoundState, Started, Table, levels_for_people, new_round_id
from . import rules
from .material import RunRequest
from .physics import TICKS_PER_SECOND, Lane
from .plausible import implausible

COUNTDOWN = 2.0  # seconds from the start to tick 0


class RunStart(StartRound):
    lanes: Literal["melody", "both"] = "melody"  # solo on a chord level: one avatar or two


class RunInputBody(Strict):
    tick: int = Field(ge=0, le=10**6)
    lane: int = Field(ge=0, le=1)
    key: Literal["left", "right", "jump"]
    down: bool


class RunInput(Strict):
    """Key presses and releases with their ticks. Nothing else: no position, no score."""

    round_id: str = Field(max_length=40)
    seq: int = Field(ge=1, le=2**31)
    inputs: list[RunInputBody] = Field(min_length=1, max_length=32)


class RunPause(Strict):
    """Pause or resume a solo Run round: the round's clock stops while it is paused."""

    round_id: str = Field(max_length=40)
    paused: bool


@dataclass(kw_only=True)
class RunRoundState(RoundState):
    game: rules.RunRound
    piece: Piece
    lanes_of: dict[str, tuple[int, ...]]  # player id -> the lanes that player runs
    t0: float  # time.time() at tick 0: wall clock, so that every process reads the same round clock
    sections: list[dict] = field(default_factory=list)  # a story level's: [{"name", "bar"}], the page names each as it arrives
    paused_at: float | None = None  # time.time() when a solo player paused; the clock stands still

    def tick_now(self) -> int:
        now = time.time() if self.paused_at is None else self.paused_at
        return math.floor((now - self.t0) * TICKS_PER_SECOND)

    def refusal_context(self) -> dict:
        return {"server_tick": self.tick_now()}

    def pause(self, paused: bool) -> None:
        """Stop the round's clock, or start it again where it stopped (t0 moves by the pause)."""
        if paused and self.paused_at is None:
            self.paused_at = time.time()
        elif not paused and self.paused_at is not None:
            self.t0 += time.time() - self.paused_at
            self.paused_at = None


def _result(state: RunRoundState) -> Result:
    hits = {rules.LANE_NAMES[i]: [j.delta_ms for j in run.judged.values() if j.grade != "miss"] for i, run in state.game.lanes.items()}
    public = {"round_id": state.round_id, "level": state.level_name, **state.game.result()}
    return Result(public["score"], public, public, "+".join(lane["status"] for lane in public["lanes"]), implausible(hits))


def _judgements(state: RunRoundState, judged: list[rules.Judgement]) -> list[tuple[str, dict, bool]]:
    return [("run_judgements", {"round_id": state.round_id, "judgements": [j.public() for j in judged]}, True)] if judged else []


def run_input(state: RunRoundState, p: RunInput, player: str, coop: bool) -> Checked:
    if state.paused_at is not None:
        raise ProtocolError("round_paused", "the round is paused: resume it first")
    mine = state.lanes_of.get(player, ())
    now = state.tick_now()
    by_lane: dict[int, list[tuple[int, str, bool]]] = {}
    for i in p.inputs:
        if i.lane not in mine:
            raise ProtocolError("wrong_lane", f"you run lane {', '.join(map(str, mine)) or 'none'} in this round", server_tick=now)
        by_lane.setdefault(i.lane, []).append((i.tick, i.key, i.down))
    try:
        state.game.check(by_lane, now)
    except rules.InputRefused as exc:
        raise ProtocolError(exc.code, exc.reason, server_tick=now) from None
    inputs = [i.model_dump() for i in p.inputs]

    def apply() -> Outcome:
        judged = state.game.apply(by_lane)
        reply = {"accepted": len(inputs), "server_tick": now, "lane_ticks": {str(i): lane.next_tick for i, lane in state.game.lanes.items()}}
        # for the partner's screen; a solo room has nobody to tell (nor a Redis publish to pay)
        events = [("run_inputs", {"round_id": state.round_id, "by": player, "inputs": inputs}, False)] if coop else []
        return Outcome(reply, events + _judgements(state, judged), _result(state) if state.game.finished else None)

    return Checked({"inputs": inputs}, apply)


def run_pause(state: RunRoundState, p: RunPause, player: str, coop: bool) -> Checked:
    """A solo player stops the clock (Esc) and starts it again; a co-op round's music goes on for
    the partner, so it cannot be paused. The reply is the round's view at the new clock."""
    if coop:
        raise ProtocolError("coop_no_pause", "a co-op run cannot be paused: your partner is still running")

    def apply() -> Outcome:
        state.pause(p.paused)
        return Outcome({"round": GAME.view(state)})

    return Checked(None, apply)


class Run(Game):
    name = "run"
    title = "Run"
    default_ladder = "run"
    moves = {
        "run_input": Move(RunInput, run_input, waits_for_partner=False),
        "run_pause": Move(RunPause, run_pause, sequenced=False, waits_for_partner=False),
    }
    unchanging = (rules.Level, Lane, Piece)
    start_model = RunStart
    clock = True
    steered = True

    def ladders(self) -> dict[str, list]:
        return {"run": list(rules.LADDER)}

    def materials(self) -> list:
        return [RunRequest(0), RunRequest(1)]

    def start(self, table: Table, rung: int, options: RunStart) -> Started:
        spec = rules.LADDER[rung]
        two = table.coop or options.lanes == "both"
        if two and not spec.chords:
            raise ProtocolError("level_needs_chords", "two avatars need a level with a chord lane (level 2 and up)")
        music, story = options.music, options.story
        sections, heard = story.story() if story is not None else ((), [])
        own = options.own_piece()
        if own is not None:
            request = RunRequest(rung, piece=own)
        elif story is not None:
            request = RunRequest(rung, seed=story.seed, story=sections)
        else:
            request = RunRequest(rung) if music is None else RunRequest(rung, music.options(), music.seed)
        try:
            composed = table.take(request)
        except rules.Unplayable:
            raise ProtocolError("unplayable_music", "no level a person can finish came from this music: try a slower tempo or another density") from None
        piece = composed.pieces[0]
        level = rules.build_level(piece, spec.chords)
        if table.coop:
            lanes_of = {table.players[0]: (0,), table.players[1]: (1,)}
        else:
            lanes_of = {table.players[0]: (0, 1) if two else (0,)}
        offsets = {lane: table.offset_of(player) for player, lanes in lanes_of.items() for lane in lanes}
        lanes = tuple(sorted(offsets))
        now = time.time()
        named = [{"name": s.name, "bar": bar} for s, bar in zip(sections, section_starts(sections))]
        state = RunRoundState(new_round_id(), f"run-{rung}" + ("-duo" if two else "") + ("-story" if story else "-own" if own else ""), table.players, table.names, now,
                              game=rules.RunRound.start(level, lanes, offsets), piece=piece, lanes_of=lanes_of, t0=now + COUNTDOWN, sections=named)
        setup = {"rung": rung, "lanes": list(lanes), "offsets": {str(k): v for k, v in offsets.items()}, "lanes_of": {k: list(v) for k, v in lanes_of.items()},
                 **({"story": [{**h, "bar": n["bar"]} for h, n in zip(heard, named)]} if story else {})}
        return Started(state, composed.seed, piece_to_json(piece), setup)

    def view(self, state: RunRoundState) -> dict:
        return {
            "round_id": state.round_id, "game": self.name, "level": state.level_name, "result": state.result,
            "run": {
                **state.game.level.public(),
                "piece": piece_to_dict(state.piece),
                **({"sections": state.sections} if state.sections else {}),
                "lanes_of": {player: list(lanes) for player, lanes in state.lanes_of.items()},
                "clock_tick": state.tick_now(),
                "paused": state.paused_at is not None,
                "inputs": {str(i): [list(x) for x in lane.log] for i, lane in state.game.lanes.items()},
            },
        }

    def tick(self, state: RunRoundState) -> Outcome:
        judged = state.game.advance(state.tick_now() - rules.LATE_TOLERANCE)
        return Outcome(events=_judgements(state, judged), result=_result(state) if state.game.finished else None)

    def catalog(self) -> dict:
        levels = levels_for_people(rules.LADDER, level_title, level_changes, lambda level: {"coop": level.chords})
        return {"game": self.name, "name": self.title, "ladders": [{"ladder": "run", "name": "Run", "levels": levels}],
                "rules": rules.client_rules()}  # the page's physics and judging, from the server's numbers


def stored_result(setup: dict, piece: Piece, batches: list[list[dict]]) -> dict:
    """The result a stored round replays to (what the live round stored)."""
    level = rules.build_level(piece, rules.LADDER[setup["rung"]].chords)
    return rules.replay(level, tuple(setup["lanes"]), {int(k): v for k, v in setup["offsets"].items()}, batches)


def level_title(level: rules.RunLevel) -> str:
    lanes = "melody + chords" if level.chords else "melody"
    faster = f", {round(100 * (level.tempo_scale - 1))} % faster" if level.tempo_scale > 1 else ""
    denser = f", at least {level.min_notes_per_bar:g} notes a bar" if level.min_notes_per_bar else ""
    return f"{level.bars} bars, {lanes}{faster}{denser}"


def level_changes(before: rules.RunLevel, level: rules.RunLevel) -> list[str]:
    changes = []
    if level.chords and not before.chords:
        changes.append("a second lane: the chord roots")
    if level.bars != before.bars:
        changes.append(f"{level.bars} bars instead of {before.bars}")
    if level.tempo_scale != before.tempo_scale:
        changes.append(f"{round(100 * (level.tempo_scale - 1))} % faster")
    if level.min_notes_per_bar != before.min_notes_per_bar:
        changes.append("denser melodies")
    if level.max_leap != before.max_leap:
        changes.append("leaps of any size" if level.max_leap is None else f"leaps of up to {level.max_leap} semitones")
    return changes


GAME = Run()
