"""Run: the piece becomes a runner level, and every input is judged here. Pure: no I/O.

- A level has one lane per avatar. The melody lane has a platform per melody note (x from the
  note's start step, width from its duration, height from its pitch); the chord lane one per
  chord (height from the root's degree in the key). Each lane starts with a one-bar platform
  under the count-in, at the height of its first note; its last platform is the goal. The
  playhead has one speed; a story section at another tempo is laid out wider or narrower.
- A platform's onset is when the playhead reaches its left edge; arriving on it (landing, or
  walking on) is judged against that onset, after the player's calibrated audio offset, in
  the GRADES windows. A platform not arrived on before its window closes is a miss.
- Score = per lane: note points x combo multiplier, DISTANCE_POINTS per step of the music up to
  the end of the furthest note arrived on, GOAL_POINTS for the goal; plus SYNC_POINTS for every
  tick both avatars run inside the band around the playhead on a combo (two-lane rounds). Only
  playing scores: an avatar that stands still arrives nowhere and misses every note, so it earns
  nothing. docs/run-physics.md has the rules and the numbers.
- Inputs are refused by the rules in `check_inputs` (future, out of order, a key pressed that is
  already down, faster than a human presses); a refused batch changes nothing.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from music import Piece
from music.piece import MAX_TEMPO

from ..base import Refused
from . import bot as run_bot
from . import physics as phys
from .physics import SEMITONE, STEP, Lane, Platform

GRADES = (("perfect", 45, 300), ("great", 90, 200), ("good", 135, 100))  # name, +-ms, points
MISS_WINDOW_MS = GRADES[-1][1]
COMBO_STEP, COMBO_CAP = 5, 50  # +10 % per 5 hits in a row, up to x2 at 50
DISTANCE_POINTS = 5  # per step of the music covered by the notes arrived on
GOAL_POINTS = 1000
SYNC_POINTS = 5  # per tick both avatars are inside the band, each on a combo
SYNC_BAND = 8 * STEP  # the band: this far either side of the playhead
START_OFFSET = 2 * STEP  # the avatar starts this far into the count-in platform

FUTURE_TOLERANCE = 30  # ticks an input may be ahead of the server's clock (latency, clock drift)
LATE_TOLERANCE = 45  # ticks behind the server's clock after which the lanes advance without it
MIN_PRESS_GAP = 3  # ticks between two presses of one key: 20 presses a second at most
MAX_OFFSET_MS = 250  # a calibrated audio offset is at most this, either way
LANE_NAMES = ("melody", "chords")


def client_rules() -> dict:
    """Every number the page's Run plays by (web_client/src/run_physics.js), named as there: the
    physics and the judging, from this one source. In `/api/games` (Run's `rules`) and in the test
    vectors (`constants`); the page configures its physics from them before any Run is played."""
    physics = ("TICKS_PER_SECOND", "STEP", "SEMITONE", "RUN_SPEED", "JUMP_SPEED", "GRAVITY", "MAX_FALL", "STAIR", "FOOT",
               "LANDING_FOOT", "LEDGE", "JUMP_BUFFER", "COYOTE", "KILL_Y", "BEHIND", "AHEAD")
    return {
        **{name: getattr(phys, name) for name in physics},
        "GRADES": [list(grade) for grade in GRADES], "MISS_WINDOW_MS": MISS_WINDOW_MS, "COMBO_STEP": COMBO_STEP, "COMBO_CAP": COMBO_CAP,
        "DISTANCE_POINTS": DISTANCE_POINTS, "GOAL_POINTS": GOAL_POINTS, "SYNC_POINTS": SYNC_POINTS, "SYNC_BAND": SYNC_BAND,
        "LANE_NAMES": list(LANE_NAMES), "FUTURE_TOLERANCE": FUTURE_TOLERANCE, "LATE_TOLERANCE": LATE_TOLERANCE,
    }


@dataclass(frozen=True)
class RunLevel:
    """One rung of the ladder: how long, whether there is a chord lane, how fast, how dense, and
    how far the melody may leap up from one note to the next (in semitones; None: as far as
    the pieces go). A leap is a jump to time, and the bigger it is the nearer the top of the
    jump it lands, where the window is narrowest."""

    bars: int
    chords: bool
    tempo_scale: float = 1.0
    min_notes_per_bar: float = 0.0
    max_leap: int | None = None
    style: str = "irish"


# Harder by design, rung by rung: longer, a second lane, bigger leaps, then faster and denser.
# Every level served is also proven finishable by a person (`playable`).
LADDER: tuple[RunLevel, ...] = (
    RunLevel(bars=8, chords=False, max_leap=9),
    RunLevel(bars=8, chords=True, max_leap=12),
    RunLevel(bars=16, chords=True, max_leap=12),
    RunLevel(bars=8, chords=True, tempo_scale=1.15, min_notes_per_bar=6.5),
    RunLevel(bars=16, chords=True, tempo_scale=1.25, min_notes_per_bar=7.0),
)

PROOF_SIGMA_MS = 35  # the timing error (sd) of the person a level is proven for
PROOF_TRIES = 2  # a level is served when that person finishes every lane in each of these tries


class InputRefused(Refused):
    """An input batch that breaks a rule; a refused batch changes nothing."""


# --- the level -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    tempo: int  # the playhead's speed: the first bar's tempo
    lead_steps: int  # the count-in: the music's step 0 is at x = lead_steps * STEP
    lanes: tuple[Lane, ...]  # melody first, then chords when the level has them
    bar_x: tuple[int, ...] = ()  # x of each bar line of the music, its end's included

    def public(self) -> dict:
        """What a client needs to draw the level and run the same physics."""
        return {
            "physics": "run-physics/2",
            "tempo": self.tempo,
            "ticks_per_second": phys.TICKS_PER_SECOND,
            "lead_steps": self.lead_steps,
            "bar_x": list(self.bar_x),
            "lanes": [
                {"name": LANE_NAMES[i], "start_x": lane.start_x, "goal": lane.goal, "platforms": [[p.x0, p.x1, p.top] for p in lane.platforms]}
                for i, lane in enumerate(self.lanes)
            ],
        }


def x_of_step(piece: Piece) -> Callable[[int], int]:
    """x of a step of the music (after the one-bar count-in). The playhead runs at one speed, the
    first bar's tempo; a stretch at another tempo (a story's section) is laid out wider or
    narrower by that ratio, so that the playhead reaches every note when it sounds."""
    lead, spans = piece.steps_per_bar, piece.tempo_spans()
    ends = [start for start, _ in spans[1:]] + [None]

    def x(step: int) -> int:
        out = lead * STEP
        for (start, tempo), end in zip(spans, ends):
            out += ((step if end is None else min(step, end)) - start) * STEP * piece.tempo // tempo
            if end is None or step <= end:
                return out
        return out

    return x


def build_level(piece: Piece, chords: bool) -> Level:
    """The level of a piece (at the piece's tempo, and its tempo changes). Deterministic: replays
    rebuild it."""
    if not piece.melody:
        raise ValueError("a piece without melody notes makes no level")
    lead, x = piece.steps_per_bar, x_of_step(piece)
    low = min(n.pitch for n in piece.melody)
    melody = [(x(n.start), x(n.end), (n.pitch - low) * SEMITONE) for n in piece.melody]
    lanes = [_lane(melody, lead, piece.tempo)]
    if chords:
        if not piece.chords:
            raise ValueError("a chord level needs a piece with chords")
        tonic = piece.key.tonic
        roots = [(x(c.start), x(c.end), ((c.root - tonic) % 12) * SEMITONE) for c in piece.chords]
        lanes.append(_lane(roots, lead, piece.tempo))
    bar_x = tuple(x(bar * piece.steps_per_bar) for bar in range(piece.bars + 1))
    return Level(piece.tempo, lead, tuple(lanes), bar_x)


def _lane(spans: list[tuple[int, int, int]], lead: int, tempo: int) -> Lane:
    """Platforms with the count-in platform first; notes that start under an earlier one's tail
    (never in a composed piece) are cut so that platforms never overlap."""
    first_top = spans[0][2]
    platforms = [Platform(0, lead * STEP, first_top)]
    for x0, x1, top in spans:
        x0 = max(x0, platforms[-1].x1)
        if x0 < x1:
            platforms.append(Platform(x0, x1, top))
    return Lane(tuple(platforms), goal=len(platforms) - 1, start_x=START_OFFSET, tempo=tempo)


def notes_per_bar(piece: Piece) -> float:
    return len(piece.melody) / piece.bars


def largest_leap(piece: Piece) -> int:
    """The largest step up, in semitones, from one melody note to the next (0 if none goes up)."""
    return max((b.pitch - a.pitch for a, b in zip(piece.melody, piece.melody[1:])), default=0)


def proof_seeds(level: Level) -> list[int]:
    """The human model's seeds for proving `level`: drawn from the level itself, so that a level
    always gets the same verdict. They are below 2**40; measurements use seeds above it."""
    digest = zlib.crc32(json.dumps(level.public()["lanes"]).encode())
    return [digest * PROOF_TRIES + i for i in range(PROOF_TRIES)]


def playable(level: Level) -> bool:
    """Proven finishable by a person: the frame-exact bot finds a path through every lane
    (cheap: most levels that fail, fail here), then the human model (`run_bot.play_human`: key
    events off by PROOF_SIGMA_MS, planned 100 ms apart, aimed at the middle of their windows)
    reaches the goal of every lane in each of the PROOF_TRIES tries of `proof_seeds`."""
    if not all(run_bot.play(lane).state.status == phys.GOAL for lane in level.lanes):
        return False
    planners = [run_bot.HumanPlanner(lane) for lane in level.lanes]
    return all(
        run_bot.play_human(lane, PROOF_SIGMA_MS, seed, planner).state.status == phys.GOAL
        for seed in proof_seeds(level)
        for lane, planner in zip(level.lanes, planners)
    )


def for_rung(piece: Piece, spec: RunLevel, tempo: int | None = None) -> Piece | None:
    """The candidate at the rung's tempo (or at `tempo`, a player's choice) if it is dense enough,
    leaps no further than the rung allows and is proven playable at that tempo, else None (the
    level is recomposed)."""
    piece = piece.with_tempo(tempo if tempo is not None else min(MAX_TEMPO, round(piece.tempo * spec.tempo_scale)))
    if notes_per_bar(piece) < spec.min_notes_per_bar or (spec.max_leap is not None and largest_leap(piece) > spec.max_leap):
        return None
    return piece if playable(build_level(piece, spec.chords)) else None


class Unplayable(ValueError):
    """No candidate made a level a person can finish (a player's tempo or density may ask for one)."""


def first_playable(pieces: Iterable[Piece], spec: RunLevel, tempo: int | None = None) -> Piece:
    """The first candidate `for_rung` accepts."""
    tried = 0
    for piece in pieces:
        tried += 1
        if (accepted := for_rung(piece, spec, tempo)) is not None:
            return accepted
    raise Unplayable(f"none of {tried} pieces made a playable level")


# --- judging -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    lane: int
    platform: int
    tick: int
    grade: str  # perfect | great | good | miss
    delta_ms: int | None  # arrival minus onset (after the offset); None for never arrived
    points: int
    combo: int  # hits in a row, this one included (0 after a miss)

    def public(self) -> dict:
        return dict(self.__dict__)


def delta_ms(lane: Lane, platform: int, tick: int, offset_ms: int) -> float:
    """Arrival at `tick` minus the platform's onset, in ms, minus the audio offset. Judging
    compares exact integers (`_within`); this float is for people."""
    return (tick * lane.tempo * STEP - lane.platforms[platform].x0 * 900) * 50 / (3 * lane.tempo * STEP) - offset_ms


def _within(lane: Lane, platform: int, tick: int, offset_ms: int, window_ms: int) -> int:
    """-1 before the window, 0 inside, +1 after: |D*50 - off*3*T*S| against W*3*T*S, in integers."""
    scale = 3 * lane.tempo * STEP
    d = (tick * lane.tempo * STEP - lane.platforms[platform].x0 * 900) * 50 - offset_ms * scale
    if d < -window_ms * scale:
        return -1
    return 1 if d > window_ms * scale else 0


class LaneRun:
    """One avatar in a round: its physics state, its accepted inputs, its judgements."""

    def __init__(self, index: int, lane: Lane, offset_ms: int):
        self.index, self.lane, self.offset_ms = index, lane, offset_ms
        self.state = lane.start_state()
        self.next_tick = 0  # the next tick to step; inputs for earlier ticks are too late
        self.last_input_tick = -1
        self.last_press: dict[str, int] = {}
        self.judged: dict[int, Judgement] = {}
        self.expiry = 1  # platforms before this one are either judged or missed
        self.combo = self.max_combo = self.points = 0
        self.furthest = 0  # the furthest platform arrived on (0: none past the count-in)
        self.in_sync: list[bool] = []  # per tick: running in the band around the playhead, on a combo
        self.log: list[tuple[int, str, bool]] = []  # every accepted input, for views and replays

    @property
    def running(self) -> bool:
        return self.state.status == phys.RUNNING

    def check(self, inputs: list[tuple[int, str, bool]], now_tick: int) -> None:
        """Refuse the whole batch (InputRefused) unless every input keeps the rules."""
        last, pressed, held = self.last_input_tick, dict(self.last_press), {k: getattr(self.state, k) for k in phys.KEYS}
        for tick, key, down in inputs:
            if tick > now_tick + FUTURE_TOLERANCE:
                raise InputRefused("future_input", f"tick {tick} is ahead of the round's clock ({now_tick}) by more than {FUTURE_TOLERANCE}")
            if tick < last:
                raise InputRefused("out_of_order", f"tick {tick} comes before tick {last}, already sent")
            if tick < self.next_tick:
                raise InputRefused("late_input", f"tick {tick} is past: the {LANE_NAMES[self.index]} lane has run to tick {self.next_tick}")
            if held[key] == down:
                raise InputRefused("key_unchanged", f"{key} is already {'down' if down else 'up'}")
            if down and tick - pressed.get(key, -MIN_PRESS_GAP) < MIN_PRESS_GAP:
                raise InputRefused("too_fast", f"{key} pressed twice within {MIN_PRESS_GAP} ticks: faster than a person presses")
            if down:
                pressed[key] = tick
            held[key], last = down, tick

    def advance_to(self, tick: int) -> list[Judgement]:
        """Step every tick before `tick` (with the keys as they are)."""
        out: list[Judgement] = []
        while self.next_tick < tick and self.running:
            t = self.next_tick
            for kind, platform in phys.step(self.lane, self.state, t):
                if kind in ("walk", "land") and platform > 0:
                    self.furthest = max(self.furthest, platform)
                    if platform not in self.judged:
                        out.append(self._judge(platform, t))
            out += self._expire(t)
            self.in_sync.append(self.running and self.combo > 0 and abs(self.state.x - self.lane.playhead(t)) <= SYNC_BAND)
            self.next_tick += 1
        if not self.running:
            out += self._expire(None)
        return out

    def apply(self, inputs: list[tuple[int, str, bool]]) -> list[Judgement]:
        """Accepted inputs (already checked): step up to each one's tick, then press."""
        out: list[Judgement] = []
        for tick, key, down in inputs:
            out += self.advance_to(tick)
            phys.press(self.state, key, down)
            if down:
                self.last_press[key] = tick
            self.last_input_tick = tick
            self.log.append((tick, key, down))
        return out

    def _judge(self, platform: int, tick: int) -> Judgement:
        grade, points = "miss", 0
        for name, window, base in GRADES:
            if _within(self.lane, platform, tick, self.offset_ms, window) == 0:
                grade, points = name, base * (10 + min(self.combo, COMBO_CAP) // COMBO_STEP) // 10
                break
        self.combo = self.combo + 1 if points else 0
        self.max_combo = max(self.max_combo, self.combo)
        self.points += points
        j = Judgement(self.index, platform, tick, grade, round(delta_ms(self.lane, platform, tick, self.offset_ms)), points, self.combo)
        self.judged[platform] = j
        return j

    def _expire(self, tick: int | None) -> list[Judgement]:
        """Misses for platforms whose window has closed at `tick` (all remaining when None)."""
        out = []
        platforms = self.lane.platforms
        while self.expiry < len(platforms) and (tick is None or _within(self.lane, self.expiry, tick, self.offset_ms, MISS_WINDOW_MS) > 0):
            if self.expiry not in self.judged:
                self.combo = 0
                j = Judgement(self.index, self.expiry, self.next_tick if tick is None else tick, "miss", None, 0, 0)
                self.judged[self.expiry] = j
                out.append(j)
            self.expiry += 1
        return out

    def summary(self) -> dict:
        counts = {name: 0 for name, _, _ in GRADES} | {"miss": 0}
        for j in self.judged.values():
            counts[j.grade] += 1
        reached = self.state.status == phys.GOAL
        platforms = self.lane.platforms
        steps = (platforms[self.furthest].x1 - platforms[0].x1) // STEP if self.furthest > 0 else 0
        return {
            "lane": LANE_NAMES[self.index], "status": self.state.status, "judgements": counts,
            "max_combo": self.max_combo, "note_points": self.points, "steps": steps,
            "distance_points": steps * DISTANCE_POINTS, "goal_points": GOAL_POINTS if reached else 0,
            "ended_tick": self.next_tick, "inputs": len(self.log),
        }


@dataclass
class RunRound:
    """A round in progress: the lanes being played, fed inputs and the server's clock."""

    level: Level
    lanes: dict[int, LaneRun] = field(default_factory=dict)

    @classmethod
    def start(cls, level: Level, lanes: tuple[int, ...], offsets: dict[int, int] | None = None) -> RunRound:
        offsets = offsets or {}
        return cls(level, {i: LaneRun(i, level.lanes[i], offsets.get(i, 0)) for i in lanes})

    @property
    def finished(self) -> bool:
        return all(not lane.running for lane in self.lanes.values())

    def check(self, by_lane: dict[int, list[tuple[int, str, bool]]], now_tick: int) -> None:
        """Raise InputRefused for the first input that breaks a rule; change nothing."""
        for lane, inputs in by_lane.items():
            run = self.lanes.get(lane)
            if run is None:
                raise InputRefused("wrong_lane", f"lane {lane} is not played in this round")
            if not run.running:
                raise InputRefused("lane_over", f"the {LANE_NAMES[lane]} lane's run is over ({run.state.status})")
            run.check(inputs, now_tick)

    def apply(self, by_lane: dict[int, list[tuple[int, str, bool]]]) -> list[Judgement]:
        """Apply a checked batch. Lanes step only up to the ticks of their inputs: later ticks
        wait for more inputs or for `advance`."""
        return [j for lane, inputs in by_lane.items() for j in self.lanes[lane].apply(inputs)]

    def add_inputs(self, by_lane: dict[int, list[tuple[int, str, bool]]], now_tick: int) -> list[Judgement]:
        self.check(by_lane, now_tick)
        return self.apply(by_lane)

    def advance(self, tick: int) -> list[Judgement]:
        """Bring every lane to `tick`: the server's clock less LATE_TOLERANCE in a live round."""
        return [j for run in self.lanes.values() for j in run.advance_to(tick)]

    def run_out(self) -> list[Judgement]:
        """Step every lane until its run ends (always: past the goal there is nothing to stand on)."""
        out = []
        for run in self.lanes.values():
            while run.running:
                out += run.advance_to(run.next_tick + 600)
        return out

    def result(self) -> dict:
        lanes = [run.summary() for run in self.lanes.values()]
        syncs = [run.in_sync for run in self.lanes.values()]
        sync_ticks = sum(all(sync[t] for sync in syncs) for t in range(min(map(len, syncs)))) if len(syncs) == 2 else 0
        score = sum(x["note_points"] + x["distance_points"] + x["goal_points"] for x in lanes) + sync_ticks * SYNC_POINTS
        return {"score": score, "lanes": lanes, "sync_ticks": sync_ticks, "sync_points": sync_ticks * SYNC_POINTS}


def parse_inputs(raw: list[dict]) -> dict[int, list[tuple[int, str, bool]]]:
    """Stored or sent inputs ({tick, lane, key, down}) grouped by lane, in their order."""
    by_lane: dict[int, list[tuple[int, str, bool]]] = {}
    for i in raw:
        by_lane.setdefault(i["lane"], []).append((i["tick"], i["key"], i["down"]))
    return by_lane


def replay(level: Level, lanes: tuple[int, ...], offsets: dict[int, int], batches: list[list[dict]]) -> dict:
    """The result of a round from its accepted input batches, in the order they were accepted."""
    game = RunRound.start(level, lanes, offsets)
    for batch in batches:
        game.apply(parse_inputs(batch))
    game.run_out()
    return game.result()
