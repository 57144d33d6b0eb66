"""Write tests/vectors/run_physics.json: input streams in, states and events out.

The cases are chosen by hand to touch every rule of docs/run-physics.md once; the outputs come
from the Python implementation and pin it to the JavaScript one (web_client, issue #6). After a
deliberate change to the physics, run `python tests/vectors/make_run_physics.py` and say so in
the commit. tests/test_run_physics.py checks the rules themselves against closed forms too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from game_server.games.run import physics as phys
from game_server.games.run import rules as run
from game_server.games.run.bot import play
from game_server.games.run.physics import SEMITONE, STEP

OUT = Path(__file__).with_name("run_physics.json")


def lane(spans, tempo=120, start_steps=2):
    """Platforms from (first step, last step exclusive, semitones) and a count-in of 16 steps."""
    return {"tempo": tempo, "start_x": start_steps * STEP, "goal": len(spans) - 1, "platforms": [[a * STEP, b * STEP, h * SEMITONE] for a, b, h in spans]}


FLAT = lane([(0, 16, 4), (16, 24, 4), (24, 32, 5), (32, 40, 7), (40, 48, 6), (48, 64, 4)])  # stairs up and down
LEAP = lane([(0, 16, 0), (16, 24, 9), (24, 28, 2), (30, 40, 2), (40, 48, 0)])  # a leap up, a drop, a gap
PIT = lane([(0, 16, 0), (20, 24, 0), (24, 200, 0)])
HIGH_PIT = lane([(0, 16, 10), (21, 24, 10), (24, 40, 10)])  # a fall from 16 semitones above KILL_Y outlasts COYOTE
LONG = lane([(0, 400, 0), (400, 402, 0)], tempo=90)
COLUMNS = lane([(0, 16, 0), (16, 24, 5), (24, 32, 19), (32, 40, 21), (40, 48, 0)])  # a wall, a ledge past the top of a jump, a stair, a drop
CATCH = lane([(0, 16, 4), (20, 21, 0), (24, 40, 0)])  # a one-step ledge after a gap
DROP = lane([(0, 16, 6), (16, 32, 0), (32, 34, 0)], start_steps=14)  # down a note too high to walk back up
LEAP_IN = [(0, "right", True), (52, "jump", True), (53, "jump", False), (66, "right", False)]  # onto the ledge at 9
MELODY = lane([(0, 16, 7), (16, 18, 7), (18, 20, 9), (20, 24, 11), (24, 26, 7), (26, 28, 4), (28, 30, 0), (30, 32, 4),
               (32, 36, 7), (36, 38, 12), (38, 40, 11), (40, 44, 9), (46, 48, 7), (48, 56, 4), (56, 60, 2), (60, 64, 0)], tempo=132)


def case(name, level, inputs, ticks, every=10, note=""):
    return {"name": name, "note": note, "lane": level, "inputs": [list(i) for i in inputs], "ticks": ticks, "every": every}


CASES = [
    case("stand", FLAT, [], 30, note="no input: the avatar stays where it starts"),
    case("walk-stairs", FLAT, [(0, "right", True), (200, "right", False)], 220, every=4,
         note="walking carries the feet up and down steps of at most STAIR; the platform under the centre wins"),
    case("walk-left", FLAT, [(0, "left", True), (12, "left", False)], 20, every=1,
         note="left moves back; past the count-in platform's left end the avatar falls"),
    case("both-keys", FLAT, [(0, "right", True), (5, "left", True), (10, "right", False), (12, "left", False)], 14, every=1,
         note="left and right together cancel"),
    case("jump-in-place", FLAT, [(3, "jump", True), (30, "jump", False)], 30, every=1, note="apex after 8 ticks, back down after 17"),
    case("leap-up", LEAP, [(0, "right", True), (52, "jump", True), (53, "jump", False), (66, "right", False)], 90, every=1,
         note="a jump lands on a higher ledge on the way down; its side is a wall until the feet are LEDGE below its top"),
    case("drop-and-gap", LEAP, [*LEAP_IN, (90, "right", True), (126, "jump", True), (127, "jump", False)], 180, every=2,
         note="walking off an edge onto a lower ledge, jumping a gap, a stair down onto the goal"),
    case("coyote", HIGH_PIT, [(0, "right", True), (64, "jump", True), (65, "jump", False)], 100, every=1,
         note="a jump pressed COYOTE ticks after walking off (the last of them) still happens"),
    case("jump-buffer", LEAP, [(0, "right", True), (52, "jump", True), (53, "jump", False), (58, "jump", True), (59, "jump", False), (66, "right", False)], 100, every=1,
         note="a jump pressed in the air, 6 ticks before landing, happens on the tick after landing"),
    case("columns", COLUMNS, [(0, "right", True), (70, "jump", True), (71, "jump", False), (110, "jump", True), (111, "jump", False)], 200, every=2,
         note="the side of a note more than STAIR above the feet is a wall: the avatar stands at it; jumps land on it, one "
              "on a top LEDGE above the top of the jump; a stair up; a drop onto the goal"),
    case("wall-left", DROP, [(0, "right", True), (16, "right", False), (30, "left", True), (50, "left", False)], 60, every=1,
         note="walking left, the side of a note more than STAIR above the feet stops them too"),
    case("ledge-catch", CATCH, [(0, "right", True), (58, "jump", True), (59, "jump", False), (76, "right", False)], 100, every=1,
         note="a coyote jump comes down with the centre past the ledge's end: the landing feet catch it and the avatar is "
              "pulled onto it"),
    case("fall-out", PIT, [(0, "right", True)], 80, every=1, note="walking into a pit: below KILL_Y the run ends (fell)"),
    case("scrolled", LONG, [], 400, every=20, note="standing still: the playhead goes BEHIND past and the run ends (scrolled)"),
    case("right-clamp", LONG, [(0, "right", True)], 200, every=10, note="running right stops AHEAD of the playhead"),
]


def bot_case():
    level = phys.Lane(tuple(phys.Platform(*p) for p in MELODY["platforms"]), MELODY["goal"], MELODY["start_x"], MELODY["tempo"])
    bot = play(level)
    return case("bot-melody", MELODY, bot.inputs, bot.tick, every=5, note="the scripted bot plays a short melody to its goal")


def run_case(c: dict) -> dict:
    level = phys.Lane(tuple(phys.Platform(*p) for p in c["lane"]["platforms"]), c["lane"]["goal"], c["lane"]["start_x"], c["lane"]["tempo"])
    states, events = [], []
    for tick, state, evs in phys.simulate(level, [tuple(i) for i in c["inputs"]], c["ticks"]):
        events += [[tick, kind, platform] for kind, platform in evs]
        if tick % c["every"] == 0 or tick == c["ticks"] - 1 or evs:
            states.append({"tick": tick, **state.as_dict()})
    return {**c, "playheads": [[t, level.playhead(t)] for t in (0, 1, 7, 100, c["ticks"] - 1)], "states": states, "events": events}


def generate() -> dict:
    return {
        "spec": "docs/run-physics.md",
        "constants": run.client_rules(),  # what the page configures its Run from (/api/games has the same)
        "cases": [run_case(c) for c in [*CASES, bot_case()]],
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(generate(), indent=1) + "\n")
    print(f"wrote {OUT}")
