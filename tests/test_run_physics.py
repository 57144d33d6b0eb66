"""The Run physics against its spec: the shared vectors (which the browser runs too), closed
forms for the rules, and properties over random input streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_server.games.run import physics as phys
from game_server.games.run.physics import (
    COYOTE,
    FOOT,
    GRAVITY,
    JUMP_BUFFER,
    JUMP_SPEED,
    LANDING_FOOT,
    LEDGE,
    RUN_SPEED,
    SEMITONE,
    STAIR,
    STEP,
    Lane,
    Platform,
)

from .vectors.make_run_physics import generate

VECTORS = json.loads((Path(__file__).parent / "vectors" / "run_physics.json").read_text())


def lane_of(spec: dict) -> Lane:
    return Lane(tuple(Platform(*p) for p in spec["platforms"]), spec["goal"], spec["start_x"], spec["tempo"])


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_vectors_reproduce(case):
    lane = lane_of(case["lane"])
    wanted = {s["tick"]: s for s in case["states"]}
    events = []
    for tick, state, evs in phys.simulate(lane, [tuple(i) for i in case["inputs"]], case["ticks"]):
        events += [[tick, kind, platform] for kind, platform in evs]
        if tick in wanted:
            assert {"tick": tick, **state.as_dict()} == wanted[tick], f"{case['name']} differs at tick {tick}"
    assert events == case["events"]
    assert [[t, lane.playhead(t)] for t, _ in case["playheads"]] == case["playheads"]


def test_vectors_file_is_current():
    """The committed vectors are what the code produces (regenerate after a deliberate change)."""
    assert generate() == VECTORS


def test_vectors_constants_are_the_modules():
    """The vectors' constants (run.client_rules(): what the page configures its Run from) are the
    physics' and the judging's own values, and the page gets the same from /api/games."""
    from game_server.games import GAMES
    from game_server.games.run import rules as run

    modules = {k: getattr(phys, k) if hasattr(phys, k) else getattr(run, k) for k in VECTORS["constants"]}
    assert VECTORS["constants"] == json.loads(json.dumps(modules)) == json.loads(json.dumps(GAMES["run"].catalog()["rules"]))


def test_every_event_kind_and_status_is_covered():
    kinds = {e[1] for c in VECTORS["cases"] for e in c["events"]}
    assert kinds == {"jump", "land", "walk", "leave", "goal", "fell", "scrolled"}


FLAT = Lane((Platform(0, 64 * STEP, 0), Platform(64 * STEP, 65 * STEP, 0)), goal=1, start_x=2 * STEP, tempo=120)


def trace(lane, inputs, ticks):
    return [(t, s.copy(), ev) for t, s, ev in phys.simulate(lane, inputs, ticks)]


def test_jump_follows_the_closed_form():
    """y after k airborne ticks = k*J - G*k*(k+1)/2 (gravity first, then the move), until it lands."""
    states = trace(FLAT, [(0, "jump", True)], 20)
    for k, (_, s, _) in enumerate(states[:16], start=1):
        assert s.y == k * JUMP_SPEED - GRAVITY * k * (k + 1) // 2
    apex = max(s.y for _, s, _ in states)
    assert apex == max(k * JUMP_SPEED - GRAVITY * k * (k + 1) // 2 for k in range(1, 20))
    assert 13 * SEMITONE < apex < 14 * SEMITONE
    landing = next(t for t, _, ev in states if ("land", 0) in ev)
    assert landing == 16  # 2*J/G = 17.2: the feet cross back down on the 17th airborne tick


def test_walking_moves_run_speed_a_tick_and_the_playhead_is_the_tempo():
    states = trace(FLAT, [(0, "right", True)], 10)
    assert [s.x for _, s, _ in states] == [2 * STEP + RUN_SPEED * (t + 1) for t in range(10)]
    assert FLAT.playhead(900) == 120 * STEP  # 15 s at 120 bpm = 30 beats = 120 steps
    assert FLAT.playhead(1) == 120 * STEP // 900


def test_a_step_of_three_semitones_is_a_wall():
    """Walking into a note more than STAIR above the feet stops the feet at its side, standing;
    a jump with right held gets on top of it."""
    lane = Lane((Platform(0, 16 * STEP, 0), Platform(16 * STEP, 32 * STEP, 3 * SEMITONE), Platform(32 * STEP, 33 * STEP, 3 * SEMITONE)), 2, 14 * STEP, 120)
    states = trace(lane, [(0, "right", True)], 30)
    assert all(s.grounded and s.platform == 0 for _, s, _ in states)
    assert states[-1][1].x == 16 * STEP - FOOT and all(not ev for _, _, ev in states)
    jumped = trace(lane, [(0, "right", True), (30, "jump", True)], 50)
    assert ("land", 1) in [ev for _, _, evs in jumped for ev in evs]


def test_a_stair_is_no_wall():
    lane = Lane((Platform(0, 16 * STEP, 0), Platform(16 * STEP, 32 * STEP, STAIR), Platform(32 * STEP, 33 * STEP, STAIR)), 2, 14 * STEP, 120)
    assert ("walk", 1) in [ev for _, _, evs in trace(lane, [(0, "right", True)], 30) for ev in evs]


def test_in_the_air_a_side_is_a_wall_until_the_feet_are_a_ledge_below_its_top():
    """A jump at a note too high for it slides down its side back onto the note it left; one
    LEDGE lower, the jump gets over the side near its top and the feet catch the top."""
    def jump_at(top):
        lane = Lane((Platform(0, 16 * STEP, 0), Platform(16 * STEP, 24 * STEP, top), Platform(24 * STEP, 25 * STEP, top)), 2, 15 * STEP, 120)
        states = trace(lane, [(0, "right", True), (4, "jump", True)], 40)
        return [ev for _, _, evs in states for ev in evs], states
    apex = max(k * JUMP_SPEED - GRAVITY * k * (k + 1) // 2 for k in range(1, 20))
    events, states = jump_at(apex + LEDGE + 1)
    assert ("land", 0) in events and ("land", 1) not in events
    assert all(s.x <= 16 * STEP - FOOT for _, s, _ in states)
    events, states = jump_at(apex + LEDGE)
    assert ("land", 1) in events and states[-1][1].y == apex + LEDGE


def test_the_landing_feet_catch_a_ledge_the_centre_is_past():
    """Coming down with the centre past a ledge's end by less than LANDING_FOOT, the avatar
    lands on it and is pulled onto it; one unit further, it falls past."""
    lane = Lane((Platform(0, 16 * STEP, 0), Platform(20 * STEP, 21 * STEP, 0), Platform(30 * STEP, 31 * STEP, 0)), 2, 2 * STEP, 120)
    for past, lands in ((LANDING_FOOT - 1, True), (LANDING_FOOT, False)):
        s = phys.State(x=21 * STEP + past, y=4 * SEMITONE)
        events = [ev for _, _, evs in phys.simulate(lane, [], 20, s, 100) for ev in evs]
        assert (("land", 1) in events) == lands
        if lands:
            assert list(phys.simulate(lane, [], 20, s, 100))[-1][1].x == 21 * STEP - 1


def test_coyote_and_jump_buffer_windows():
    """A jump stamped up to COYOTE ticks after the tick that walked off an edge still happens; a
    press stamped up to JUMP_BUFFER - 2 ticks before the tick of a landing happens on the tick
    after it."""
    high = Lane((Platform(0, 16 * STEP, 12 * SEMITONE), Platform(40 * STEP, 41 * STEP, 0)), 1, 12 * STEP, 120)
    left = next(t for t, _, ev in trace(high, [(0, "right", True)], 40) if ("leave", -1) in ev)
    for delay, jumps in ((COYOTE, True), (COYOTE + 1, False)):
        events = [ev for _, _, evs in trace(high, [(0, "right", True), (left + delay, "jump", True)], 40) for ev in evs]
        assert (("jump", -1) in events) == jumps
    landing = next(t for t, _, ev in trace(FLAT, [(0, "jump", True), (1, "jump", False)], 30) if ("land", 0) in ev)
    for early, jumps_again in ((JUMP_BUFFER - 2, True), (JUMP_BUFFER - 1, False)):
        events = [(t, ev) for t, _, evs in trace(FLAT, [(0, "jump", True), (1, "jump", False), (landing - early, "jump", True)], 40) for ev in evs]
        assert ((landing + 1, ("jump", -1)) in events) == jumps_again


def test_feet_keep_the_avatar_on_an_edge_until_they_leave_it():
    """The centre past the edge over a pit: still standing while the feet touch the ledge."""
    lane = Lane((Platform(0, 16 * STEP, 0), Platform(40 * STEP, 41 * STEP, 0)), 1, 15 * STEP, 120)
    states = trace(lane, [(0, "right", True), (4, "right", False)], 10)
    x = states[3][1].x
    assert x >= 16 * STEP and x - phys.FOOT < 16 * STEP and states[3][1].grounded


KEYS = st.sampled_from(phys.KEYS)


@st.composite
def input_streams(draw):
    ticks = sorted(draw(st.lists(st.integers(0, 300), max_size=40)))
    held = {k: False for k in phys.KEYS}
    out = []
    for t in ticks:
        key = draw(KEYS)
        held[key] = not held[key]
        out.append((t, key, held[key]))
    return out


LEVEL = Lane(tuple(Platform(a * STEP, b * STEP, h * SEMITONE) for a, b, h in [(0, 16, 4), (16, 20, 6), (20, 22, 2), (24, 30, 9), (30, 34, 8), (36, 60, 0), (60, 64, 3)]), 6, 2 * STEP, 110)


@given(input_streams())
def test_any_input_stream_keeps_the_state_consistent_and_is_deterministic(inputs):
    first = trace(LEVEL, inputs, 320)
    second = trace(LEVEL, inputs, 320)
    assert [(t, s.as_dict(), e) for t, s, e in first] == [(t, s.as_dict(), e) for t, s, e in second]
    for _, s, _ in first:
        assert all(type(getattr(s, f)) is int for f in ("x", "y", "vx", "vy", "coyote", "jump_buffer"))
        assert (s.platform >= 0) == s.grounded
        if s.grounded:  # standing on its platform: at its top, the feet on it
            stood = LEVEL.platforms[s.platform]
            assert s.y == stood.top and stood.x0 < s.x + FOOT and stood.x1 > s.x - FOOT
        assert -phys.MAX_FALL <= s.vy <= JUMP_SPEED
    statuses = [s.status for _, s, _ in first]
    if phys.RUNNING not in statuses[-1:]:  # once over, the state never changes
        end = statuses.index(statuses[-1])
        assert all(a.as_dict() == first[end][1].as_dict() for _, a, _ in first[end:])
