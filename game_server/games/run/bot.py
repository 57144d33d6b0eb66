"""Scripted players for Run, and the playability check built on them.

`play` is frame-exact. It plays a lane with the real physics, one platform at a time: from where
it stands it tries a walk (step or drop) and a jump to each of the next three platforms on a
copy of the state, learns how many ticks each takes from the key press to the arrival, and
presses so as to arrive on the onset. It takes the nearest platform it can reach; it walks to
the right end of a long note first, so that it neither lands back on it nor is scrolled off
while it waits. Its inputs are exact to the tick: shifted by one, they may fail.

`play_human` is a person at the keys: every key event lands off its aim by a random error, none
comes sooner than a reaction time after the one before, and each is aimed at the middle of the
window of ticks in which it works (`HumanPlanner` finds the windows by playing every tick out on
copies of the state), re-planned from where the avatar actually is.

run.playable(level) serves a level when `play` finds a path through every lane and `play_human`
with run.PROOF_SIGMA_MS of error finishes every lane in each of run.PROOF_TRIES tries: a level
that only a frame-exact player finishes is not served. A level they fail is not proven
impossible, only not served.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import physics as phys
from .physics import RUN_SPEED, STEP, Lane, State

LOOKAHEAD = 3  # platforms ahead the bot aims at: the next one, or one or two further
TRY_TICKS = 90  # a try that has not arrived anywhere by then has failed


@dataclass
class BotRun:
    lane: Lane
    state: State
    tick: int = 0
    inputs: list[tuple[int, str, bool]] = field(default_factory=list)
    last_press: dict[str, int] = field(default_factory=dict)

    def set_key(self, key: str, down: bool) -> None:
        if getattr(self.state, key) != down:
            self.inputs.append((self.tick, key, down))
            phys.press(self.state, key, down)
            if down:
                self.last_press[key] = self.tick

    def step(self) -> list[tuple[str, int]]:
        events = phys.step(self.lane, self.state, self.tick)
        self.tick += 1
        return events

    def earliest_press(self, key: str) -> int:
        return max(self.tick, self.last_press.get(key, -99) + 3)  # run.MIN_PRESS_GAP


def onset_tick(lane: Lane, platform: int) -> int:
    return round(lane.platforms[platform].x0 * 900 / (lane.tempo * STEP))


def _aim(lane: Lane, target: int) -> int:
    p = lane.platforms[target]
    return p.x0 + min((p.x1 - p.x0) // 2, 2 * STEP)


def _transition(bot: BotRun, policy: str, aim_x: int, cur: int) -> int:
    """Play a policy from the bot's state until it arrives on another platform; return that
    platform, or -1 when it fell, was scrolled off, or got nowhere in TRY_TICKS."""
    if policy == "jump":
        bot.set_key("jump", True)
    for _ in range(TRY_TICKS):
        bot.set_key("right", bot.state.x < aim_x)
        if policy == "jump" and bot.state.jump and bot.tick > bot.last_press["jump"]:
            bot.set_key("jump", False)
        for kind, platform in bot.step():
            if kind in ("walk", "land") and platform != cur:
                bot.set_key("right", False)
                return platform
        if bot.state.status not in (phys.RUNNING, phys.GOAL):
            return -1
    return -1


def _try(bot: BotRun, policy: str, target: int, cur: int) -> int | None:
    """Ticks from the press to the arrival on `target` when the policy starts now, or None."""
    trial = BotRun(bot.lane, bot.state.copy(), bot.tick, [], dict(bot.last_press))
    start = trial.tick
    return trial.tick - 1 - start if _transition(trial, policy, _aim(bot.lane, target), cur) == target else None


def _plan(bot: BotRun, cur: int) -> tuple[int, str, int] | None:
    """(target, policy, press tick) for the nearest reachable platform, best timed, or None."""
    lane = bot.lane
    for target in range(cur + 1, min(cur + 1 + LOOKAHEAD, len(lane.platforms))):
        best = None
        for policy in ("walk", "jump"):
            delay = _try(bot, policy, target, cur)
            if delay is None:
                continue
            keys = ("jump", "right") if policy == "jump" else ("right",)
            press = max(onset_tick(lane, target) - delay, *(bot.earliest_press(k) for k in keys))
            error = abs(press + delay - onset_tick(lane, target))
            if best is None or error < best[0]:
                best = (error, target, policy, press)
        if best is not None:
            return best[1:]
    return None


def _walk_to_launch(bot: BotRun, cur: int, max_ticks: int) -> None:
    """Walk right along the current platform, for at most `max_ticks`, without leaving it."""
    end = bot.lane.platforms[cur].x1
    stop = bot.tick + max_ticks
    while bot.tick < min(stop, bot.earliest_press("right")) and bot.state.status == phys.RUNNING:
        bot.step()
    if bot.state.x + RUN_SPEED >= end or bot.tick >= stop or bot.state.status != phys.RUNNING:
        return
    bot.set_key("right", True)
    while bot.state.x + RUN_SPEED < end and bot.tick < stop and bot.state.status == phys.RUNNING:
        bot.step()
    bot.set_key("right", False)


def play(lane: Lane, max_ticks: int = 20_000) -> BotRun:
    """Play a lane to its end; the run's inputs and final state say how it went."""
    bot = BotRun(lane, lane.start_state())
    while bot.state.status == phys.RUNNING and bot.tick < max_ticks:
        cur = bot.state.platform
        if cur < 0:  # in the air (a try that did not arrive): let it come down
            bot.set_key("right", False)
            bot.step()
            continue
        plan = _plan(bot, cur)
        if plan is None or plan[2] > bot.tick + 1:  # use the wait to get to the right end
            _walk_to_launch(bot, cur, max_ticks=10**6 if plan is None else plan[2] - bot.tick - 1)
            plan = _plan(bot, cur)
        if plan is None:
            break
        target, policy, press = plan
        while bot.tick < press and bot.state.status == phys.RUNNING:
            bot.step()
        if bot.state.status != phys.RUNNING:
            break
        _transition(bot, policy, _aim(lane, target), cur)
    while bot.state.status == phys.RUNNING and bot.tick < max_ticks:  # stuck: let the camera end it
        bot.set_key("right", False)
        bot.set_key("jump", False)
        bot.step()
    return bot



# --- a person at the keys -----------------------------------------------------------------------

REACTION_TICKS = 6  # 100 ms: a person plans a key event no sooner than this after their last one
TAP_TICKS = 5  # a jump is a tap: jump is released about 83 ms after it is pressed
HORIZON = 90  # ticks of holding the keys as they are that a person looks ahead (1.5 s)
MARGIN_CAP = 8  # ticks: a window wider than this either side of the aim is as good as any wider
EARLY_TICKS = 8  # an arrival this much before its onset is worth stopping for, to go again on time
WATCH_TICKS = 3  # with no key event planned, a person looks again this often
NEVER = 10**6  # the margin of a window that does not end (a long note, coming down where it falls)
WIDE = 60  # margins are counted up to this


def _key(s: State) -> tuple:
    return (s.x, s.y, s.vx, s.vy, s.grounded, s.platform, s.coyote, s.jump_buffer, s.left, s.right, s.jump, s.status)


@dataclass(frozen=True)
class Option:
    """A key event `at` ticks from now (none when `key` is empty: the avatar comes down where it
    falls) that takes the avatar to platform `target`, arriving `arrival` ticks from now.
    `margin`: how many ticks the event, and the one a person will plan after it, may be off either
    way with the avatar still arriving there."""

    target: int
    key: str
    down: bool
    at: int
    margin: int
    arrival: int


@dataclass
class _Held:
    """Holding the keys as they are from a state: `states[k]` is the state before the k-th tick,
    `arrivals[k]` the tick (counted the same way) of its arrival on the platform it then stands
    on (None in the air, or on the platform it started on). `open`: what comes after the last
    state is as good as it (the horizon ended the look, or nothing changes any more)."""

    states: list[State]
    arrivals: list[int | None]
    open: bool


Windows = dict[int, list[tuple[int, int, int]]]  # target -> (tick of the event, margin, arrival) for every tick that works


def _margins(follow: list[int], open_end: bool) -> list[int]:
    """follow[k]: the margin of what is planned after an event at k (0: the event at k fails).
    For every k: the largest m (up to WIDE) such that an event anywhere within m ticks of k works
    and leaves what follows a margin of m or more. Before k = 0 counts as k = 0 (an event cannot
    come before now); after the last k as the last k when `open_end`, else as failing."""
    n, last = len(follow), len(follow) - 1
    reach = [0] * n  # how far the run of working ticks around k goes, either way
    since = WIDE
    for k in range(n):
        if follow[k] > 0:
            reach[k], since = since, (since + 1 if since < WIDE else WIDE)
        else:
            since = 0
    until = WIDE if open_end else 0
    for k in range(last, -1, -1):
        if follow[k] > 0:
            if until < reach[k]:
                reach[k] = until
            until = until + 1 if until < WIDE else WIDE
        else:
            until = 0
    if all(f >= WIDE for f in follow if f > 0):
        return reach  # nothing after the event is the narrower
    out = []
    for k in range(n):
        m, least, limit = 0, follow[k], reach[k]
        while m < limit and least > m:
            before, after = follow[k - m - 1 if k > m else 0], follow[k + m + 1 if k + m < last else last]
            least = min(least, before, after)
            if least > m:
                m += 1
        out.append(m)
    return out


def _best(window: list[tuple[int, int, int]], earliest: int) -> tuple[int, int, int] | None:
    """The event tick of a window, no sooner than `earliest`, with the widest margin (the middle)."""
    chosen = [w for w in window if w[0] >= earliest]
    return max(chosen, key=lambda w: (min(w[1], MARGIN_CAP), w[1], -w[0])) if chosen else None


class HumanPlanner:
    """What a person sees coming on one lane: the outcome of a key event at each of the next ticks,
    found by playing it out on a copy of the state, and the timing windows these make.

    A plan is a key event and the one or two a person will plan after it (each REACTION_TICKS or
    more after the one before): run then stop; run, jump, stop; jump, run, stop. Outcomes depend
    on the state alone (the playhead's clamps are left out: a person playing keeps near it), so
    one planner serves every try on a lane, and it keeps every tick it has played out."""

    def __init__(self, lane: Lane):
        self.lane = lane
        self._next: dict[tuple, tuple[State, bool]] = {}  # state -> (the state a tick later, arrived on a platform)
        self._held: dict[tuple, _Held] = {}
        self._settled: dict[tuple, tuple[int, int] | None] = {}
        self._windows: dict[tuple, Windows] = {}
        self._follow: dict[tuple, dict[int, tuple[int, int]]] = {}
        self._tops: dict[int, list[int]] = {}  # x -> the tops under the landing feet there, highest first
        self.air_ticks = _air_ticks()
        # the furthest right the feet can reach in HORIZON ticks: running all the way, and pulled
        # forward by a landing at most every other tick
        self._reach = HORIZON * RUN_SPEED + (HORIZON // 2 + 2) * phys.LANDING_FOOT

    def onset(self, platform: int) -> float:
        return self.lane.platforms[platform].x0 * 900 / (self.lane.tempo * STEP)

    # -- playing out on copies --

    def step(self, s: State) -> tuple[State, bool]:
        """The state a tick after `s` (a new one; states here are never changed), and whether the
        avatar arrived on a platform. Played at a tick when the playhead is where the avatar is,
        so that neither of its clamps binds."""
        key = _key(s)
        if key not in self._next:
            after = s.copy()
            events = phys.step(self.lane, after, max(0, s.x) * 900 // (self.lane.tempo * STEP))
            self._next[key] = (after, any(kind in ("walk", "land") for kind, _ in events))
        return self._next[key]

    def held(self, s: State) -> _Held:
        """Holding the keys as they are from `s`, until HORIZON ticks, the run's end, standing with
        no key down, MARGIN_CAP ticks after LOOKAHEAD platforms arrived on, or MARGIN_CAP ticks
        on a platform arrived on (more tell nothing new about stopping there)."""
        key = _key(s)
        if key not in self._held:
            states, arrivals, arrival, seen, still = [s], [None], None, 0, False
            for i in range(HORIZON):
                if s.status != phys.RUNNING or (arrival is not None and i > arrival + MARGIN_CAP and (seen >= LOOKAHEAD or s.grounded)):
                    break
                if s.grounded and not (s.left or s.right) and s.jump_buffer == 0:
                    still = True
                    break
                s, arrived = self.step(s)
                if arrived:
                    arrival, seen = i, seen + 1
                states.append(s)
                arrivals.append(arrival if s.grounded else None)
            self._held[key] = _Held(states, arrivals, still or s.status == phys.RUNNING)
        return self._held[key]

    def settle(self, s: State) -> tuple[int, int] | None:
        """(platform, tick of the arrival) where the avatar next stands with the keys as they are,
        or None if it falls, is scrolled off, or is still in the air after TRY_TICKS."""
        key = _key(s)
        if key not in self._settled:
            if not (s.left or s.right) and (s.jump_buffer == 0 or s.coyote == 0):
                self._settled[key] = self._fall(s)
                return self._settled[key]
            found = None
            for i in range(TRY_TICKS):
                s, _ = self.step(s)
                if s.grounded:
                    found = (s.platform, i)
                    break
                if s.status != phys.RUNNING:
                    break
            self._settled[key] = found
        return self._settled[key]

    def _fall(self, s: State) -> tuple[int, int] | None:
        """`settle` for an avatar in the air with no key that moves it and no jump to come: it
        falls straight down (the airborne part of run_physics.step, with x fixed) and comes down
        on the highest top under its landing feet that it crosses, LEDGE included."""
        x, y, vy = s.x, s.y, s.vy
        if (tops := self._tops.get(x)) is None:
            tops = self._tops[x] = sorted({self.lane.platforms[p].top for p in self.lane.under_feet(x, phys.LANDING_FOOT)}, reverse=True)
        below, gravity, max_fall, ledge = 0, phys.GRAVITY, -phys.MAX_FALL, phys.LEDGE
        for i in range(TRY_TICKS):
            vy -= gravity
            if vy < max_fall:
                vy = max_fall
            if vy <= 0:
                while below < len(tops) and tops[below] > y + ledge:
                    below += 1
                if below == len(tops):
                    return None  # nothing below to come down on
                if tops[below] >= y + vy:
                    return (phys._landing(self.lane, x, y, y + vy), i)
            y += vy
            if y < phys.KILL_Y:
                return None
        return None

    # -- windows: for every target, the ticks at which a key event gets there --

    @staticmethod
    def _collect(per_k: list[dict[int, tuple[int, int]]], open_end: bool) -> Windows:
        """per_k[k]: target -> (arrival, margin of what is planned next) for the event at k. For
        every target, the ticks whose event gets there, and their margins (`_margins`)."""
        out: Windows = {}
        for t in {t for d in per_k for t in d}:
            margins = _margins([d[t][1] if t in d else 0 for d in per_k], open_end)
            out[t] = [(k, m, per_k[k][t][0]) for k, m in enumerate(margins) if m > 0 or (t in per_k[k] and per_k[k][t][1] > 0)]
        return out

    def windows(self, s: State, key: str, down: bool, depth: int) -> Windows:
        """The key pressed (or released) before the k-th tick of holding the keys as they are from
        `s`, followed by at most `depth` - 1 more planned events."""
        memo = (_key(s), key, down, depth)
        if memo in self._windows:
            return self._windows[memo]
        held = self.held(s)
        if key == "right" and not down:
            self._windows[memo] = windows = self._stop_windows(held)
            return windows
        per_k: list[dict[int, tuple[int, int]]] = []
        arrived, last_arrival = False, None
        for k, st in enumerate(held.states):
            arrived = arrived or (held.arrivals[k] is not None and held.arrivals[k] != last_arrival)
            if st.status != phys.RUNNING:  # at the goal the run is over: what comes after cannot undo it
                per_k.append({st.platform: (held.arrivals[k], NEVER)} if st.status == phys.GOAL else {})
            elif arrived:
                per_k.append({})  # a jump or a run that starts on a platform further on is planned from there
            elif key == "jump" and (not (st.grounded or st.coyote > 0) or self._lands_where_it_left(st)):
                per_k.append({})
            else:
                after = st.copy()
                phys.press(after, key, down)
                per_k.append({t: (k + a, m) for t, (m, a) in self.follow(after, depth - 1).items()})
            last_arrival = held.arrivals[k]
        self._windows[memo] = windows = self._collect(per_k, held.states[-1].status == phys.GOAL)
        return windows

    def _stop_windows(self, held: _Held) -> Windows:
        """Right held, released before the k-th tick: where the avatar comes to stand. A run of
        ticks that stop on one platform is a window; its ends are how far each tick may move."""
        outcomes: list[tuple[int, int] | None] = []
        for k, st in enumerate(held.states):
            if st.status != phys.RUNNING:
                outcomes.append((st.platform, held.arrivals[k]) if st.status == phys.GOAL else None)
            elif st.grounded:
                outcomes.append((st.platform, -NEVER if held.arrivals[k] is None else held.arrivals[k]))
            else:
                stopped = st.copy()
                stopped.right = False
                settled = self.settle(stopped)
                outcomes.append(None if settled is None else (settled[0], k + settled[1]))
        open_end = held.open or held.states[-1].status == phys.GOAL
        windows: Windows = {}
        n, k = len(outcomes), 0
        while k < n:
            if outcomes[k] is None:
                k += 1
                continue
            first, target = k, outcomes[k][0]
            while k + 1 < n and outcomes[k + 1] is not None and outcomes[k + 1][0] == target:
                k += 1
            window = windows.setdefault(target, [])
            early_open, late_open = first == 0, k == n - 1 and open_end  # before now counts as now
            for j in range(first, k + 1):
                margin = WIDE if early_open else j - first
                if not late_open and k - j < margin:
                    margin = k - j
                window.append((j, margin if margin < WIDE else WIDE, outcomes[j][1]))
            k += 1
        return windows

    def follow(self, s: State, depth: int) -> dict[int, tuple[int, int]]:
        """Just after a key event: target -> (margin, arrival) of the best next event,
        REACTION_TICKS or more later, with at most `depth` events to go (stopping included)."""
        memo = (_key(s), depth)
        if memo in self._follow:
            return self._follow[memo]
        best: dict[int, tuple[int, int]] = {}
        if (goal := self._reaches_goal(s)) is not None:
            best[self.lane.goal] = (NEVER, goal)  # holding on gets there: nothing more to plan
        for key, down, d in self._next_events(s, depth):
            if key == "jump" and s.grounded and best.get(s.platform + 1, (0, 0))[0] >= MARGIN_CAP:
                break  # it runs on to the next platform as it is: a jump from here is for later
            for t, window in self.windows(s, key, down, d).items():
                if (w := _best(window, REACTION_TICKS)) is not None and (t not in best or min(w[1], MARGIN_CAP) > min(best[t][0], MARGIN_CAP)):
                    best[t] = (w[1], w[2])
        self._follow[memo] = best
        return best

    @staticmethod
    def _next_events(s: State, depth: int) -> list[tuple[str, bool, int]]:
        """The events a person plans next with `depth` to go: right held, stop it (or jump, then
        stop); right up, press it (then stop, or jump and stop), or jump from standing (then run,
        then stop)."""
        if depth < 1:
            return []
        if s.right:
            return [("right", False, 1)] + ([("jump", True, 2)] if depth >= 2 else [])
        if depth < 2:
            return []
        return [("right", True, depth)] + ([("jump", True, depth)] if depth >= 3 and s.grounded else [])

    def _reaches_goal(self, s: State) -> int | None:
        """The tick of the arrival on the goal if holding the keys as they are gets there."""
        if s.x + self._reach <= self.lane.platforms[self.lane.goal].x0:
            return None  # too far to get there within the horizon: no need to play it out
        held = self.held(s)
        return held.arrivals[-1] if held.states[-1].status == phys.GOAL else None

    def _lands_where_it_left(self, s: State) -> bool:
        """A jump from `s` comes down on the platform it stands on: the feet cannot reach past its end."""
        return s.grounded and s.x + self.air_ticks * RUN_SPEED + phys.LANDING_FOOT <= self.lane.platforms[s.platform].x1

    # -- the choice --

    def options(self, s: State, now: int, earliest: int, base: int, wanted: int = 1) -> list[Option]:
        """For every target past platform `base`: the key event that gets there, no sooner than
        `earliest` ticks from now, in the middle of its window, arriving nearest the onset. Jumps
        only when running does not get to the next platform with `wanted` ticks either side."""
        s = s.copy()
        s.jump = False  # a tap's release is on its way; it changes nothing in the physics
        found: list[Option] = []
        if (goal := self._reaches_goal(s)) is not None:
            found.append(Option(self.lane.goal, "", False, NEVER, NEVER, goal))
        standing = s.grounded and not s.right and not s.left and s.jump_buffer == 0
        if not s.grounded and not s.right:  # in the air with right up: it may come down where it falls
            settled = self.settle(s)
            if settled is not None and settled[0] > base:
                found.append(Option(settled[0], "", False, NEVER, NEVER, settled[1]))
        for key, down, depth in self._next_events(s, 3):
            if key == "jump" and any(o.target == base + 1 and o.margin >= wanted for o in found):
                break
            if standing:  # nothing changes while it stands: the event starts the same play whenever it comes
                after = s.copy()
                phys.press(after, key, down)
                latest = self._scrolled_at(s, now) - now - MARGIN_CAP - (REACTION_TICKS if key == "jump" else 0)  # jumping, it starts right later
                for t, (m, a) in self.follow(after, depth - 1).items():
                    if t > base:
                        k = max(earliest, min(round(self.onset(t) - now - a), latest))
                        found.append(Option(t, key, down, k, m, k + a))
                continue
            for t, window in self.windows(s, key, down, depth).items():
                chosen = [w for w in window if w[0] >= earliest]
                if t > base and chosen:
                    onset = self.onset(t) - now
                    k, m, a = max(chosen, key=lambda w: (min(w[1], MARGIN_CAP), -abs(w[2] - onset), w[1]))
                    found.append(Option(t, key, down, k, m, a))
        return found

    def _scrolled_at(self, s: State, now: int) -> int:
        """The tick at which an avatar standing still at `s` is scrolled off."""
        return (s.x + phys.BEHIND + 1) * 900 // (self.lane.tempo * STEP) + 1

    def decide(self, s: State, now: int, earliest: int, base: int, wanted: int) -> Option | None:
        """The nearest target whose window leaves `wanted` ticks either side (else the safest), and
        the event for it; or, running there too early, a release that stops on `base` to wait."""
        options = self.options(s, now, earliest, base, wanted)
        if not options:
            return None
        safe = [o for o in options if o.margin >= wanted]
        if safe:
            choice = min(safe, key=lambda o: (o.target, abs(o.arrival + now - self.onset(o.target)), o.key == "jump", -o.margin))
        else:
            choice = max(options, key=lambda o: (o.margin, -o.target))
        if s.right and s.grounded and s.platform == base and choice.arrival + now < self.onset(choice.target) - EARLY_TICKS:
            return self._stop(s, earliest, base, choice, wanted) or choice
        return choice

    def _stop(self, s: State, earliest: int, base: int, going: Option, wanted: int) -> Option | None:
        """The first release of right that stops on `base` with `wanted` ticks either side, if a
        run started again from where it stops gets to `going.target` with as wide a margin (or
        `wanted`)."""
        held = self.held(s)
        for k, m, _ in self.windows(s, "right", False, 1).get(base, []):
            if k < earliest or m < wanted or not held.states[k].grounded:
                continue
            released = held.states[k].copy()
            released.right = False
            standing, _ = self.step(released)
            return Option(base, "right", False, k, m, going.arrival) if self._restarts(standing, going.target, min(wanted, going.margin)) else None
        return None

    def _restarts(self, standing: State, target: int, margin: int) -> bool:
        """From `standing`, a run (or a jump then a run) gets to `target` with `margin`."""
        for key in ("right", "jump"):  # the jump only if the run falls short
            window = self.windows(standing, key, True, 3).get(target, [])
            if (w := _best(window, REACTION_TICKS)) is not None and w[1] >= margin:
                return True
        return False


def _air_ticks() -> int:
    """How many ticks a jump from flat ground stays in the air."""
    flat = Lane((phys.Platform(0, 1000 * STEP, 0), phys.Platform(1000 * STEP, 1001 * STEP, 0)), 1, STEP, 120)
    s = flat.start_state()
    phys.press(s, "jump", True)
    for tick in range(TRY_TICKS):
        phys.step(flat, s, tick)
        if s.grounded:
            return tick + 1
    raise AssertionError("a jump never comes down")


def play_human(lane: Lane, sigma_ms: float, seed: int, planner: HumanPlanner | None = None, max_ticks: int = 20_000) -> BotRun:
    """A person plays the lane; the run's `inputs` are the key events as they came, errors and all.

    Every key event (press or release) lands off its aim by an error drawn from N(0, sigma_ms),
    rounded to ticks (a jump is a tap: released TAP_TICKS after the press, give or take the same
    error). Each is planned REACTION_TICKS (100 ms) or more after the one before, in the middle of
    its window, from the state the avatar is actually in: again after each of its key events and
    on arriving where it aimed (or every WATCH_TICKS while nothing is planned). The person knows
    their precision: they aim for the nearest note whose window leaves 1.5 sigma either side, and
    skip the notes that do not. Inputs keep the server's rules (run.MIN_PRESS_GAP, no key pressed
    that is down). The same lane, sigma and seed give the same run; `planner` may be shared by
    the tries on one lane (it only remembers what the physics does)."""
    planner = planner or HumanPlanner(lane)
    rng = random.Random(seed)
    sigma = sigma_ms * phys.TICKS_PER_SECOND / 1000
    wanted = max(1, round(1.5 * sigma))
    bot = BotRun(lane, lane.start_state())
    last_event, base, look_at, target = -NEVER, 0, 0, NEVER
    planned: tuple[int, str, bool] | None = None
    tap_release: int | None = None

    def error() -> int:
        return round(rng.gauss(0, sigma)) if sigma > 0 else 0

    while bot.state.status == phys.RUNNING and bot.tick < max_ticks:
        if bot.tick >= look_at:
            choice = planner.decide(bot.state, bot.tick, max(0, last_event + REACTION_TICKS - bot.tick), base, wanted)
            planned = None if choice is None or not choice.key else (max(bot.tick, bot.tick + choice.at + error()), choice.key, choice.down)
            target = NEVER if choice is None else choice.target
            look_at = NEVER if planned is not None else bot.tick + WATCH_TICKS
        if tap_release is not None and bot.tick >= tap_release:
            bot.set_key("jump", False)
            tap_release = None
        if planned is not None and planned[0] <= bot.tick:
            _, key, down = planned
            if key == "jump" and bot.state.jump:  # the last tap is still down: it comes up first
                bot.set_key("jump", False)
                tap_release = None
            if getattr(bot.state, key) == down:
                planned, look_at = None, bot.tick
            elif not down or bot.tick >= bot.earliest_press(key):
                bot.set_key(key, down)
                last_event, planned, look_at = bot.tick, None, bot.tick
                if key == "jump":
                    tap_release = bot.tick + max(1, TAP_TICKS + error())
        for kind, platform in bot.step():
            if kind in ("walk", "land"):  # on the way to the target, as foreseen; there, look again
                base = max(base, platform)
                if planned is None or platform >= target:
                    look_at = min(look_at, bot.tick)
    return bot
