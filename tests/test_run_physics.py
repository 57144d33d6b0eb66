"""The Run physics against its spec: the shared vectors (which the browser runs too), closed
forms for the rules, and properties over random input streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_server.games import run_physics as phys
from game_server.games.run_physics import GRAVITY, JUMP_SPEED, RUN_SPEED, SEMITONE, STEP, Lane, Platform

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
    assert VECTORS["constants"] == {k: getattr(phys, k) for k in VECTORS["constants"]}


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


def test_a_step_of_three_semitones_is_not_walked_up():
    lane = Lane((Platform(0, 16 * STEP, 0), Platform(16 * STEP, 32 * STEP, 3 * SEMITONE), Platform(32 * STEP, 33 * STEP, 3 * SEMITONE)), 2, 14 * STEP, 120)
    events = [ev for _, _, evs in trace(lane, [(0, "right", True)], 30) for ev in evs]
    assert ("leave", -1) in events and ("walk", 1) not in events


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
        if s.grounded:
            assert s.y == LEVEL.platforms[s.platform].top
        assert -phys.MAX_FALL <= s.vy <= JUMP_SPEED
    statuses = [s.status for _, s, _ in first]
    if phys.RUNNING not in statuses[-1:]:  # once over, the state never changes
        end = statuses.index(statuses[-1])
        assert all(a.as_dict() == first[end][1].as_dict() for _, a, _ in first[end:])
