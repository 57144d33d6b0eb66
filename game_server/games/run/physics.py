"""The Run physics: a fixed-step simulation in integers, specified in docs/run-physics.md.

The server (here) and the browser (web_client, issue #6) run the same rules and must agree to
the bit, so everything is an integer: no floats, no division except the playhead's floor
division, whose operands stay far below 2**53 (JavaScript's exact-integer range).

Units: x in 1/4096 of a 16th step, y in 1/1024 of a semitone, time in ticks (60 per second).
Platforms are columns (x0, x1, top): landed on from above, and their sides are walls to feet
more than STAIR below the top (in the air, more than LEDGE). A lane's platforms never overlap in
x (a melody is monophonic, chords follow one another). The avatar's feet are a segment of
half-width FOOT around its x, LANDING_FOOT when it comes down.

run-physics/2 forgives a person's timing (docs/run-physics.md, "Forgiveness, and why"): walls,
8 ticks of coyote time and of jump buffer, wide landing feet that pull the avatar onto the
ledge they catch, and a ledge catch just above the feet.

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
LANDING_FOOT = 2048  # half-width of the feet coming down: they catch a ledge they are a little past
LEDGE = SEMITONE  # coming down, the feet catch a top this far above them
JUMP_BUFFER = 8  # ticks a jump press is remembered: one pressed up to JUMP_BUFFER - 2 ticks before a landing happens on the tick after it
COYOTE = 8  # a jump pressed up to this many ticks after walking off an edge still happens
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
        object.__setattr__(self, "_under", {})

    def __reduce__(self):
        """Pickled as its fields (a level goes between processes and into Redis): the lookups
        kept by under_feet are rebuilt where it is used."""
        return (Lane, (self.platforms, self.goal, self.start_x, self.tempo))

    def playhead(self, tick: int) -> int:
        """x of the playhead during tick `tick`: 4 steps per quarter note at the tempo."""
        return (tick * self.tempo * STEP) // (TICKS_PER_SECOND * 60 // 4)

    def under_feet(self, x: int, foot: int = FOOT) -> tuple[int, ...]:
        """Indices of the platforms the feet [x - foot, x + foot) overlap, left to right. Kept per
        lane: the bots ask for the same few thousand places hundreds of thousands of times."""
        found = self._under.get((x, foot))
        if found is None:
            i = max(0, bisect_right(self._starts, x - foot) - 1)
            hits = []
            while i < len(self.platforms) and self.platforms[i].x0 < x + foot:
                if self.platforms[i].x1 > x - foot:
                    hits.append(i)
                i += 1
            found = self._under[(x, foot)] = tuple(hits)
        return found

    def start_state(self) -> State:
        return State(x=self.start_x, y=self.platforms[0].top, grounded=True, platform=0)


@dataclass(slots=True)
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
        return State(self.x, self.y, self.vx, self.vy, self.grounded, self.platform, self.coyote, self.jump_buffer, self.left, self.right, self.jump, self.status)

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__slots__}


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
    s.x = _across(lane, s.x, min(s.x + s.vx, lane.playhead(tick) + AHEAD), s.y + (STAIR if s.grounded else LEDGE))

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
            platform = lane.platforms[p]
            s.x = min(max(s.x, platform.x0), platform.x1 - 1)
            s.y, s.vy, s.grounded, s.platform = platform.top, 0, True, p
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
    """The platform the feet come down on, falling from y0 to y1, or -1: of those under the
    landing feet whose top is between y1 and LEDGE above y0, the highest; between equals, the one
    under the centre, else the leftmost."""
    best = -1
    for i in lane.under_feet(x, LANDING_FOOT):
        p = lane.platforms[i]
        if y1 <= p.top <= y0 + LEDGE:
            if best < 0 or p.top > lane.platforms[best].top or (p.top == lane.platforms[best].top and p.x0 <= x < p.x1):
                best = i
    return best


def _across(lane: Lane, x0: int, x1: int, reach: int) -> int:
    """Where the centre gets moving from x0 to x1: the feet stop at the side of the first platform
    in the way whose top is above `reach` (a wall: the notes are columns)."""
    if x1 > x0:
        i = bisect_right(lane._starts, x0 + FOOT - 1)
        while i < len(lane.platforms) and lane.platforms[i].x0 < x1 + FOOT:
            if lane.platforms[i].top > reach:
                return lane.platforms[i].x0 - FOOT
            i += 1
    elif x1 < x0:
        i = bisect_right(lane._starts, x0 - FOOT) - 1
        while i >= 0 and lane.platforms[i].x1 > x1 - FOOT:
            p = lane.platforms[i]
            if p.x1 <= x0 - FOOT and p.top > reach:
                return p.x1 + FOOT
            i -= 1
    return x1


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
