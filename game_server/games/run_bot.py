"""A scripted player for Run, and the playability check built on it.

The bot plays a lane with the real physics, one platform at a time: from where it stands it tries
a walk (step or drop) and a jump to each of the next three platforms on a copy of the state,
learns how many ticks each takes from the key press to the arrival, and presses so as to arrive
on the onset. It takes the nearest platform it can reach; it walks to the right end of a long
note first, so that it neither lands back on it nor is scrolled off while it waits.

run.playable(level) is true when the bot reaches the goal of every lane: a proof by example that
a path exists under the physics. A level it fails is not proven impossible, only not served.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import run_physics as phys
from .run_physics import RUN_SPEED, STEP, Lane, State

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

