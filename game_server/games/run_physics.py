"""The Run physics: a fixed-step simulation in integers, specified in docs/run-physics.md.

The server (here) and the browser (web_client, issue #6) run the same rules and must agree to
the bit, so everything is an integer: no floats, no division except the playhead's floor
division, whose operands stay far below 2**53 (JavaScript's exact-integer range).

Units: x in 1/4096 of a 16th step, y in 1/1024 of a semitone, time in ticks (60 per second).
Platforms are one-way ledges (x0, x1, top): landed on from above, passed through from below.
A lane's platforms never overlap in x (a melody is monophonic, chords follow one another).
The avatar's feet are a segment of half-width FOOT around its x.

One step of tick t: apply the inputs stamped t (done by the caller through `press`/`release`),
then jump, move across, move up or down, count down the buffers, and decide the status.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

TICKS_PER_SECOND = 60
STEP = 4096  # x units per 16th-note step
SEMITONE = 1024  # y units per semitone
RUN_SPEED = 1024  # x units per tick while left or right is held (15 steps a second)
JUMP_SPEED = 3584  # vy on the tick of a jump; apex about 13.4 semitones after 8 ticks
GRAVITY = 416  # taken from vy on every airborne tick
MAX_FALL = 4096  # vy never goes below -MAX_FALL
STAIR = 2 * SEMITONE  # walking carries the feet up or down to a platform at most this far away
FOOT = 1024  # half-width of the feet
JUMP_BUFFER = 4  # a jump pressed up to this many ticks before landing still happens
COYOTE = 4  # a jump pressed up to this many ticks after walking off an edge still happens
KILL_Y = -6 * SEMITONE  # below this the avatar has fallen (0 is the lane's lowest platform top)
BEHIND = 8 * STEP  # an avatar this far left of the playhead is scrolled off the screen
AHEAD = 24 * STEP  # and cannot go further right of it than this
KEYS = ("left", "right", "jump")

RUNNING, GOAL, FELL, SCROLLED = "running", "goal", "fell", "scrolled"


@dataclass(frozen=True)
class Platform:
    x0: int  # left edge, inclusive
    x1: int  # right edge, exclusive
    top: int


@dataclass(frozen=True)
class Lane:
    """One avatar's world: its platforms (sorted by x), the goal, where it starts, the tempo."""

    platforms: tuple[Platform, ...]
    goal: int  # index of the goal platform
    start_x: int
    tempo: int  # quarter notes per minute: the playhead's speed

    def __post_init__(self) -> None:
        for a, b in zip(self.platforms, self.platforms[1:]):
            if not (a.x0 < a.x1 <= b.x0 < b.x1):
                raise ValueError(f"platforms must be sorted and must not overlap: {a} then {b}")
        object.__setattr__(self, "_starts", [p.x0 for p in self.platforms])

    def playhead(self, tick: int) -> int:
        """x of the playhead during tick `tick`: 4 steps per quarter note at the tempo."""
        return (tick * self.tempo * STEP) // (TICKS_PER_SECOND * 60 // 4)

    def under_feet(self, x: int) -> list[int]:
        """Indices of the platforms the feet [x - FOOT, x + FOOT) overlap, left to right."""
        i = max(0, bisect_right(self._starts, x - FOOT) - 1)
        found = []
        while i < len(self.platforms) and self.platforms[i].x0 < x + FOOT:
            if self.platforms[i].x1 > x - FOOT:
                found.append(i)
            i += 1
        return found

    def start_state(self) -> State:
        return State(x=self.start_x, y=self.platforms[0].top, grounded=True, platform=0)


@dataclass
class State:
    x: int
    y: int
    vx: int = 0
    vy: int = 0
    grounded: bool = False
    platform: int = -1  # the platform stood on, -1 in the air
    coyote: int = 0
    jump_buffer: int = 0
    left: bool = False
    right: bool = False
    jump: bool = False
    status: str = RUNNING

    def copy(self) -> State:
        return State(**self.__dict__)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def press(state: State, key: str, down: bool) -> None:
    """A key press or release stamped with the tick about to be stepped (none once the run is over)."""
    if state.status != RUNNING:
        return
    if key == "jump" and down and not state.jump:
        state.jump_buffer = JUMP_BUFFER
    setattr(state, key, down)


def step(lane: Lane, s: State, tick: int) -> list[tuple[str, int]]:
    """Advance one tick in place; returns the events of the tick as (kind, platform or -1)."""
    if s.status != RUNNING:
        return []
    events: list[tuple[str, int]] = []
    if s.jump_buffer > 0 and (s.grounded or s.coyote > 0):
        s.vy, s.grounded, s.platform, s.coyote, s.jump_buffer = JUMP_SPEED, False, -1, 0, 0
        events.append(("jump", -1))

    s.vx = (int(s.right) - int(s.left)) * RUN_SPEED
    s.x = min(s.x + s.vx, lane.playhead(tick) + AHEAD)

    if s.grounded:
        p = _support(lane, s)
        if p < 0:
            s.grounded, s.platform, s.coyote = False, -1, COYOTE
            events.append(("leave", -1))
        else:
            s.y = lane.platforms[p].top
            if p != s.platform:
                s.platform = p
                events.append(("walk", p))
    else:
        s.vy = max(s.vy - GRAVITY, -MAX_FALL)
        y0, y1 = s.y, s.y + s.vy
        p = _landing(lane, s.x, y0, y1) if s.vy <= 0 else -1
        if p >= 0:
            s.y, s.vy, s.grounded, s.platform = lane.platforms[p].top, 0, True, p
            events.append(("land", p))
        else:
            s.y = y1
            if s.coyote > 0:
                s.coyote -= 1
    if s.jump_buffer > 0:
        s.jump_buffer -= 1

    if s.platform == lane.goal:
        s.status = GOAL
    elif s.y < KILL_Y:
        s.status = FELL
    elif s.x < lane.playhead(tick) - BEHIND:
        s.status = SCROLLED
    if s.status != RUNNING:
        events.append((s.status, s.platform))
    return events


def _support(lane: Lane, s: State) -> int:
    """The platform that carries grounded feet, or -1. The one under the centre wins when it is
    within a stair of the feet (that is how walking onto the next note happens); else the
    platform stood on, while the feet still touch it; else another within a stair, highest first."""
    candidates = [i for i in lane.under_feet(s.x) if abs(lane.platforms[i].top - s.y) <= STAIR]
    for i in candidates:
        if lane.platforms[i].x0 <= s.x < lane.platforms[i].x1:
            return i
    if s.platform in candidates and lane.platforms[s.platform].top == s.y:
        return s.platform
    return max(candidates, key=lambda i: (lane.platforms[i].top, -i), default=-1)


def _landing(lane: Lane, x: int, y0: int, y1: int) -> int:
    """The platform whose top the feet crossed going down from y0 to y1, or -1: the highest;
    between equals, the one under the centre, else the leftmost."""
    best = -1
    for i in lane.under_feet(x):
        p = lane.platforms[i]
        if y1 <= p.top <= y0:
            if best < 0 or p.top > lane.platforms[best].top or (p.top == lane.platforms[best].top and p.x0 <= x < p.x1):
                best = i
    return best


def simulate(lane: Lane, inputs: list[tuple[int, str, bool]], ticks: int, state: State | None = None, first_tick: int = 0):
    """Run `ticks` steps from `first_tick`, applying (tick, key, down) inputs in order.
    Yields (tick, state after the step, events) for every step. For tests and the bot."""
    s = state.copy() if state is not None else lane.start_state()
    pending = sorted(inputs, key=lambda i: i[0])
    k = 0
    for tick in range(first_tick, first_tick + ticks):
        while k < len(pending) and pending[k][0] == tick:
            press(s, pending[k][1], pending[k][2])
            k += 1
        events = step(lane, s, tick)
        yield tick, s, events
