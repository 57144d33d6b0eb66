"""Beat Hunt (after Google's Beat Blender): find a hidden cell of a drum grid by ear. Pure rules: no
Flask, no I/O, no clock (every time is passed in, in seconds since the round started).

The grid is n x n beats blended between four corner beats (cells (0, 0), (n-1, 0), (0, n-1),
(n-1, n-1)); the material side makes it, the rules only know cells. The server hides a target cell
and plays its beat; the puck starts at the centre and the player(s) move it, hearing the beat
under it, then submit: the puck's cell is the answer. In co-op one player owns x and the other y;
either may listen again or submit, once, for both.

Every event is checked first (`check_*`, or `check` for a stored record), which changes nothing
and raises Refused with a stable code, and returns a `Step`; `apply(hunt, step)` then returns the
hunt after it (a new frozen Hunt). So a move that cannot be stored changes nothing, and `replay`
runs stored moves through the very same two functions as live play.

Refusal codes: round_over, too_late, not_in_round, not_your_axis, empty_move, off_grid,
no_listens_left, time_left (a timeout before the limit); a record `check` cannot read: bad_time,
unknown_move.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..base import Refused

Cell = tuple[int, int]  # (x, y)
CONTRASTS = ("contrasting", "similar")  # how far apart the corner beats are; the material side picks them


@dataclass(frozen=True)
class Level:
    """One rung: cells per side, listens beyond the first hearing, the time limit, the corners' contrast."""

    name: str
    grid: int
    listens: int
    seconds: float
    contrast: str

    def __post_init__(self) -> None:
        if not isinstance(self.grid, int) or not 5 <= self.grid <= 11:
            raise ValueError(f"a Beat Hunt grid has 5..11 cells a side, not {self.grid!r}")
        if self.listens < 0 or self.seconds <= 0 or self.contrast not in CONTRASTS:
            raise ValueError(f"level {self.name!r}: listens >= 0, seconds > 0, contrast one of {CONTRASTS}")


# Harder rung by rung: more cells to tell apart, then corners that sound alike (so neighbouring
# cells differ less), with fewer listens and less time; nothing ever gets easier.
LADDER: tuple[Level, ...] = (
    Level("5x5-contrasting", grid=5, listens=6, seconds=90, contrast="contrasting"),
    Level("7x7-contrasting", grid=7, listens=5, seconds=90, contrast="contrasting"),
    Level("9x9-contrasting", grid=9, listens=4, seconds=75, contrast="contrasting"),
    Level("9x9-similar", grid=9, listens=3, seconds=75, contrast="similar"),
    Level("11x11-similar", grid=11, listens=2, seconds=60, contrast="similar"),
)


def level(name: str) -> Level:
    for rung in LADDER:
        if rung.name == name:
            return rung
    raise KeyError(f"no Beat Hunt level {name!r}; the levels are {', '.join(r.name for r in LADDER)}")


def centre(grid: int) -> Cell:
    return (grid // 2, grid // 2)


def owners_for(players: list[str], coop: bool) -> dict[str, str]:
    """Who steers what: solo, the one player owns "xy"; co-op, the first seat x and the second y."""
    return {players[0]: "x", players[1]: "y"} if coop else {players[0]: "xy"}


@dataclass(frozen=True)
class Hunt:
    """A round's rule state. `path` is every cell the puck has been on, the centre first (for replays)."""

    level: Level
    target: Cell
    coop: bool
    owners: dict[str, str]  # player id -> the axes they steer: "x", "y" or (solo) "xy"
    puck: Cell
    listens: int = 0  # listens again used (the first hearing is free)
    moves: int = 0
    path: tuple[Cell, ...] = ()
    answer: Cell | None = None  # the puck's cell when the round ended
    ended: str | None = None  # "submitted" or "timeout"
    seconds: float | None = None  # when it ended


def new_hunt(lvl: Level, target: Cell, coop: bool, owners: dict[str, str]) -> Hunt:
    """A round's start, or ValueError for a target off the grid or owners that do not fit the mode."""
    if len(target) != 2 or not all(_on_grid(v, lvl.grid) for v in target):
        raise ValueError(f"target {target!r} is not a cell of a {lvl.grid}x{lvl.grid} grid")
    wanted = ["x", "y"] if coop else ["xy"]
    if sorted(owners.values()) != wanted:
        raise ValueError(f"{'co-op' if coop else 'solo'} owners must steer {wanted}, got {owners!r}")
    start = centre(lvl.grid)
    return Hunt(lvl, tuple(target), coop, dict(owners), start, path=(start,))


def _on_grid(value, grid: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < grid


# ---- checking and applying -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """An event its rule accepts, not yet applied. `sent` is a move's axes as the player sent them."""

    kind: str  # "move", "listen", "submit", "timeout"
    player: str | None
    t: float
    cell: Cell | None = None  # a move: where the puck goes
    sent: tuple[tuple[str, int], ...] = ()

    def record(self) -> dict:
        """What is stored of it; `check(hunt, record)` accepts it again."""
        return {"kind": self.kind, "player": self.player, "t": self.t, **dict(self.sent)}


def _playing(hunt: Hunt, player: str | None, t: float, late_ok: bool = False) -> None:
    """What every event needs: a round still on, in time (unless late_ok), from one of its players
    (None: the clock)."""
    if hunt.ended is not None:
        raise Refused("round_over", f"the round has ended ({hunt.ended})")
    if t > hunt.level.seconds and not late_ok:
        raise Refused("too_late", f"the time limit of {hunt.level.seconds:g} s has passed")
    if player is not None and player not in hunt.owners:
        raise Refused("not_in_round", "that player has no seat in this round")


def check_move(hunt: Hunt, player: str, t: float, x=None, y=None) -> Step:
    """The puck to a new cell on the mover's own axes (an axis not sent stays). Any distance is fine:
    the puck can be dragged anywhere in one step."""
    _playing(hunt, player, t)
    sent = tuple((axis, v) for axis, v in (("x", x), ("y", y)) if v is not None)
    if not sent:
        raise Refused("empty_move", "a move names the new cell on at least one axis")
    for axis, value in sent:
        if axis not in hunt.owners[player]:
            raise Refused("not_your_axis", f"your partner steers {axis}; you steer {hunt.owners[player]}")
        if not _on_grid(value, hunt.level.grid):
            raise Refused("off_grid", f"{axis} is a whole number in 0..{hunt.level.grid - 1}, not {value!r}")
    given = dict(sent)
    cell = (given.get("x", hunt.puck[0]), given.get("y", hunt.puck[1]))
    return Step("move", player, t, cell, sent)


def check_listen(hunt: Hunt, player: str, t: float) -> Step:
    _playing(hunt, player, t)
    if hunt.listens >= hunt.level.listens:
        raise Refused("no_listens_left", f"the target may be heard again {hunt.level.listens} times, all used")
    return Step("listen", player, t)


def check_submit(hunt: Hunt, player: str, t: float) -> Step:
    """The puck's cell as the answer. Accepted after the time limit too (a round must always be able
    to end: the submit may have crossed the limit in flight); its time part then scores 0."""
    _playing(hunt, player, t, late_ok=True)
    return Step("submit", player, t)


def check_timeout(hunt: Hunt, t: float) -> Step:
    """The clock ends a round whose time is up, with the puck where it is."""
    _playing(hunt, None, t, late_ok=True)
    if t < hunt.level.seconds:
        raise Refused("time_left", f"the round has time left until {hunt.level.seconds:g} s")
    return Step("timeout", None, t)


def time_up(hunt: Hunt, t: float) -> bool:
    """For the clock: whether to call check_timeout now."""
    return hunt.ended is None and t >= hunt.level.seconds


def check(hunt: Hunt, record: dict) -> Step:
    """A stored (or received) event record, {"kind", "player", "t", "x"/"y"}, checked by its rule."""
    kind, player, t = record.get("kind"), record.get("player"), record.get("t")
    if not isinstance(t, int | float) or isinstance(t, bool) or not 0 <= t < math.inf:
        raise Refused("bad_time", f"an event needs its time t in seconds since the start, not {t!r}")
    rules = {"move": lambda: check_move(hunt, player, t, x=record.get("x"), y=record.get("y")), "listen": lambda: check_listen(hunt, player, t),
             "submit": lambda: check_submit(hunt, player, t), "timeout": lambda: check_timeout(hunt, t)}
    if not isinstance(kind, str) or kind not in rules:
        raise Refused("unknown_move", f"no event called {kind!r}")
    return rules[kind]()


def apply(hunt: Hunt, step: Step) -> Hunt:
    """The hunt after a checked step (a new value; the old one is unchanged)."""
    if step.kind == "move":
        return replace(hunt, puck=step.cell, moves=hunt.moves + 1, path=hunt.path + (step.cell,))
    if step.kind == "listen":
        return replace(hunt, listens=hunt.listens + 1)
    ended = "submitted" if step.kind == "submit" else "timeout"
    return replace(hunt, answer=hunt.puck, ended=ended, seconds=step.t)


# ---- score -------------------------------------------------------------------------------------

CLOSE_POINTS, TIME_POINTS, EXACT_POINTS = 700, 200, 100
LISTEN_COST, LISTEN_FLOOR = 0.08, 0.5
CLEAR_DISTANCE = 1  # an answer on the target or a cell beside it (not diagonally) clears the level


@dataclass(frozen=True)
class Scored:
    points: int
    breakdown: dict  # for the result screen


def score(lvl: Level, target: Cell, answer: Cell, listens: int, seconds: float) -> Scored:
    """
        distance  = Euclidean distance between answer and target, in cells
        closeness = max(0, 1 - distance / (grid / 2))       half a grid away scores nothing
        pace      = clamp(1 - seconds / time limit, 0, 1)   full at 0 s, none at (or after) the limit
        heard     = max(0.5, 1 - 0.08 * listens used)       each listen again costs a share
        points    = round(heard * (700 * closeness + 200 * closeness * pace + 100 * exact))

    Time only multiplies closeness, so a quick submit far off earns nothing for its speed, and
    it weighs less (200) than closeness (700). 1000 = an exact hit at once with no listen again.
    The level is cleared by an answer within CLEAR_DISTANCE of the target, whatever the points.
    """
    distance = math.dist(target, answer)
    closeness = max(0.0, 1 - distance / (lvl.grid / 2))
    pace = min(1.0, max(0.0, 1 - seconds / lvl.seconds))
    heard = max(LISTEN_FLOOR, 1 - LISTEN_COST * listens)
    exact = distance == 0
    points = round(heard * (CLOSE_POINTS * closeness + TIME_POINTS * closeness * pace + EXACT_POINTS * exact))
    breakdown = {"distance": round(distance, 3), "closeness": round(closeness, 4), "exact": exact, "cleared": distance <= CLEAR_DISTANCE, "listens": listens,
                 "seconds": round(seconds, 3), "pace": round(pace, 4), "heard": round(heard, 4),
                 "target": list(target), "answer": list(answer)}
    return Scored(points, breakdown)


def result(hunt: Hunt) -> Scored:
    if hunt.ended is None:
        raise ValueError("the round has not ended")
    return score(hunt.level, hunt.target, hunt.answer, hunt.listens, hunt.seconds)


def replay(lvl: Level, target: Cell, coop: bool, owners: dict[str, str], moves: Iterable[dict]) -> Scored:
    """The result of stored moves, through the same check and apply as live play. A move its rule
    refuses raises Refused; moves that never end the round raise ValueError."""
    hunt = new_hunt(lvl, target, coop, owners)
    for record in moves:
        hunt = apply(hunt, check(hunt, record))
    return result(hunt)


# ---- could a person have played it? -------------------------------------------------------------

MIN_SECONDS = 1.5  # the shortest target beat: 2 bars of 3/4 at 240 bpm (faster than any drum groove played)
SEARCH_GRID = 9  # from this grid up, a first drop onto the target is a 1-in-80 guess or worse


def implausible(hunt: Hunt) -> str | None:
    """Why no person could have produced this ended round, or None. Only what the server counted
    is used. Two cases, both kept simple so that an honest round is hardly ever caught:

    - ended by a submit sooner than MIN_SECONDS: the target beat cannot even have been heard once;
    - an exact hit on a grid of SEARCH_GRID or more, the target further than a cell from the centre
      (beside it, diagonals included, is where a person tries first), with the puck never on any
      cell but the centre and the target: the beat is found by comparing it with others, and
      hearing none (one drag straight there) is what a client that knows the target does.
    """
    if hunt.ended == "submitted" and hunt.seconds < MIN_SECONDS:
        return f"submitted {hunt.seconds:.2f} s after the start: the target beat lasts at least {MIN_SECONDS} s"
    start = centre(hunt.level.grid)
    searched = set(hunt.path) - {start, hunt.target}
    far = max(abs(hunt.target[0] - start[0]), abs(hunt.target[1] - start[1])) > 1
    if hunt.level.grid >= SEARCH_GRID and hunt.answer == hunt.target and far and not searched:
        return f"the target found on a {hunt.level.grid}x{hunt.level.grid} grid without hearing any other beat"
    return None
