"""Run's rules without a server: levels from pieces, the ladder, judging windows, combo and
score, the input rules, replay against a live round, and the playability check."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_server.games import run, run_bot
from game_server.games import run_physics as phys
from game_server.games.run_physics import SEMITONE, STEP, Lane, Platform
from game_server.music import Chord, Key, Meter, Note, Piece

PIECE = Piece(
    tempo=120, meter=Meter(4, 4), key=Key(7, "major"), bars=2,
    melody=(Note(0, 4, 67), Note(4, 6, 69), Note(6, 8, 71), Note(8, 16, 74), Note(18, 20, 72), Note(20, 32, 67)),
    chords=(Chord(0, 16, 7, "maj"), Chord(16, 24, 0, "maj"), Chord(24, 32, 2, "maj")),
)


def test_level_from_a_piece():
    level = run.build_level(PIECE, chords=True)
    melody, chords = level.lanes
    assert level.lead_steps == 16 and level.tempo == 120
    assert melody.platforms[0] == Platform(0, 16 * STEP, 0)  # the count-in, at the first note's height
    assert [(p.x0 // STEP, p.x1 // STEP, p.top // SEMITONE) for p in melody.platforms[1:]] == [
        (16, 20, 0), (20, 22, 2), (22, 24, 4), (24, 32, 7), (34, 36, 5), (36, 48, 0)]
    assert melody.goal == 6 and melody.start_x == 2 * STEP
    # chord roots by degree in G major: G=0, C=5, D=7
    assert [(p.x0 // STEP, p.x1 // STEP, p.top // SEMITONE) for p in chords.platforms[1:]] == [(16, 32, 0), (32, 40, 5), (40, 48, 7)]
    assert len(run.build_level(PIECE, chords=False).lanes) == 1
    public = level.public()
    assert public["lanes"][0]["platforms"][1] == [16 * STEP, 20 * STEP, 0] and public["physics"] == "run-physics/1"


def test_ladder_starts_as_the_original_and_gets_faster_and_denser():
    first = [(lv.bars, lv.chords) for lv in run.LADDER[:3]]
    assert first == [(8, False), (8, True), (16, True)]
    later = run.LADDER[3:]
    assert later and all(lv.tempo_scale > 1 and lv.min_notes_per_bar > 0 for lv in later)


# A lane whose first note starts at step 16: onset at tick 16 * 900 / 120 = 120.
WALK = Lane((Platform(0, 16 * STEP, 0), Platform(16 * STEP, 24 * STEP, 0), Platform(24 * STEP, 25 * STEP, 0)), 2, 2 * STEP, 120)
LEVEL = run.Level(120, 16, (WALK,))


def arrival_judgement(press: int, offset_ms: int = 0) -> run.Judgement:
    """Walk right from start_x = 2 steps, pressed at `press`: the centre reaches step 16 on tick press + 55."""
    game = run.RunRound.start(LEVEL, (0,), {0: offset_ms})
    judged = game.add_inputs({0: [(press, "right", True)]}, now_tick=press) + game.advance(press + 80)
    return next(j for j in judged if j.platform == 1)


@pytest.mark.parametrize("arrival, grade", [(120, "perfect"), (122, "perfect"), (118, "perfect"), (123, "great"), (117, "great"),
                                            (125, "great"), (126, "good"), (128, "good"), (129, "miss"), (111, "miss")])
def test_arrivals_are_judged_in_the_timing_windows(arrival, grade):
    j = arrival_judgement(arrival - 55)
    assert (j.tick, j.grade) == (arrival, grade)
    assert j.delta_ms == round((arrival - 120) * 1000 / 60)


def test_the_calibrated_offset_moves_the_windows():
    assert arrival_judgement(123 - 55).grade == "great"  # 50 ms late
    assert arrival_judgement(123 - 55, offset_ms=50).grade == "perfect"  # the player's audio is 50 ms late
    assert arrival_judgement(120 - 55, offset_ms=50).grade == "great"


def test_a_platform_never_reached_is_a_miss_when_its_window_closes():
    game = run.RunRound.start(LEVEL, (0,))
    judged = game.add_inputs({0: [(0, "right", True), (50, "right", False)]}, now_tick=50)  # wait near the edge
    judged += game.advance(140)
    misses = [j for j in judged if j.grade == "miss"]
    assert misses[0].platform == 1 and misses[0].tick == 129 and misses[0].delta_ms is None


def stairs(n: int, tempo: int = 120) -> Lane:
    """A count-in and n contiguous 8th notes at one height, then a goal."""
    spans = [(0, 16)] + [(16 + 2 * i, 18 + 2 * i) for i in range(n)]
    return Lane(tuple(Platform(a * STEP, b * STEP, 0) for a, b in spans), n, 2 * STEP, tempo)


def test_combo_multiplies_and_the_score_adds_up():
    lane = stairs(60)
    bot = run_bot.play(lane)
    game = run.RunRound.start(run.Level(120, 16, (lane,)), (0,))
    game.add_inputs({0: bot.inputs}, now_tick=10**6)
    game.run_out()
    result = game.result()
    summary = result["lanes"][0]
    assert summary["status"] == "goal" and summary["judgements"]["perfect"] == 60 and summary["max_combo"] == 60
    assert summary["note_points"] == sum(300 * (10 + min(k, 50) // 5) // 10 for k in range(60))
    assert summary["steps"] == (lane.platforms[-1].x1 - lane.start_x) // STEP
    assert result["score"] == summary["note_points"] + summary["steps"] * run.DISTANCE_POINTS + run.GOAL_POINTS
    assert result["sync_ticks"] == 0  # one lane: no sync bonus


def test_a_miss_resets_the_combo():
    lane = stairs(12)
    bot = run_bot.play(lane)
    inputs = [i for i in bot.inputs if i[0] < 160] + [(230, "right", True), (232, "right", False)]  # idle for a while, then step late
    game = run.RunRound.start(run.Level(120, 16, (lane,)), (0,))
    judged = game.add_inputs({0: inputs}, now_tick=10**6) + game.run_out()
    grades = [j.grade for j in sorted(judged, key=lambda j: j.platform)]
    assert "miss" in grades
    first_miss = grades.index("miss")
    after = next(j for j in judged if j.platform > first_miss + 1 and j.grade != "miss") if any(g != "miss" for g in grades[first_miss:]) else None
    assert after is None or after.combo < first_miss + 1


def test_two_lanes_earn_the_sync_bonus():
    level = run.build_level(PIECE, chords=True)
    game = run.RunRound.start(level, (0, 1))
    for i, lane in enumerate(level.lanes):
        game.add_inputs({i: run_bot.play(lane).inputs}, now_tick=10**6)
    game.run_out()
    result = game.result()
    assert result["sync_ticks"] > 0 and result["sync_points"] == result["sync_ticks"] * run.SYNC_POINTS
    assert all(lane["status"] == "goal" for lane in result["lanes"])


# --- the input rules ---------------------------------------------------------------------------


def refused(game: run.RunRound, inputs, now_tick: int, lane: int = 0) -> str:
    before = (game.lanes[lane].state.as_dict(), game.lanes[lane].next_tick, list(game.lanes[lane].log))
    with pytest.raises(run.InputRefused) as caught:
        game.add_inputs({lane: inputs}, now_tick)
    assert (game.lanes[lane].state.as_dict(), game.lanes[lane].next_tick, game.lanes[lane].log) == before  # nothing changed
    return caught.value.code


def test_inputs_from_the_future_are_refused_beyond_the_tolerance():
    game = run.RunRound.start(LEVEL, (0,))
    assert refused(game, [(100 + run.FUTURE_TOLERANCE + 1, "right", True)], now_tick=100) == "future_input"
    game.add_inputs({0: [(100 + run.FUTURE_TOLERANCE, "right", True)]}, now_tick=100)


def test_out_of_order_late_duplicated_and_too_fast_inputs_are_refused():
    game = run.RunRound.start(LEVEL, (0,))
    game.add_inputs({0: [(10, "jump", True), (11, "jump", False)]}, now_tick=20)
    assert refused(game, [(9, "right", True)], 20) == "out_of_order"
    assert refused(game, [(20, "right", True), (15, "right", False)], 20) == "out_of_order"
    assert refused(game, [(12, "jump", True)], 20) == "too_fast"  # 2 ticks after the last press
    game.add_inputs({0: [(13, "jump", True)]}, now_tick=20)
    assert refused(game, [(14, "jump", True)], 20) == "duplicate_input"
    assert refused(game, [(14, "left", False)], 20) == "duplicate_input"
    game.advance(50)
    assert refused(game, [(40, "right", True)], 60) == "late_input"
    with pytest.raises(run.InputRefused, match="wrong_lane"):
        game.add_inputs({1: [(60, "right", True)]}, 60)
    game.add_inputs({0: [(50, "right", True)]}, now_tick=60)


def test_inputs_after_a_lane_ended_are_refused():
    game = run.RunRound.start(LEVEL, (0,))
    game.run_out()
    assert game.finished and refused(game, [(10_000, "right", True)], 10_000) == "lane_over"


# --- replay --------------------------------------------------------------------------------------


@st.composite
def batched_play(draw):
    """A valid input stream for the melody lane of PIECE, cut into batches with clock advances."""
    ticks = sorted(set(draw(st.lists(st.integers(0, 420), min_size=1, max_size=50))))
    held, last_press, stream = {k: False for k in phys.KEYS}, {}, []
    for t in ticks:
        key = draw(st.sampled_from(phys.KEYS))
        if not held[key] and t - last_press.get(key, -99) < run.MIN_PRESS_GAP:
            continue
        held[key] = not held[key]
        if held[key]:
            last_press[key] = t
        stream.append((t, key, held[key]))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(stream))), max_size=6))))
    batches = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)]) if stream[a:b]]
    return batches


@given(batched_play())
def test_replay_of_accepted_batches_equals_the_live_round(batches):
    level = run.build_level(PIECE, chords=False)
    live = run.RunRound.start(level, (0,), {0: 20})
    accepted = []
    for batch in batches:
        if live.finished:
            break
        live.advance(batch[0][0])  # the server's clock catching up in between
        try:
            live.add_inputs({0: batch}, now_tick=batch[-1][0])
        except run.InputRefused:
            continue  # e.g. the lane ended: refused batches are not stored
        accepted.append([{"tick": t, "lane": 0, "key": k, "down": d} for t, k, d in batch])
    live.run_out()
    assert run.replay(level, (0,), {0: 20}, accepted) == live.result()


# --- playability ----------------------------------------------------------------------------------


def impossible_piece() -> Piece:
    """A leap of two octaves and then a rest of two bars: no jump gets there."""
    return Piece(tempo=110, meter=Meter(4, 4), key=Key(0, "major"), bars=4,
                 melody=(Note(0, 4, 60), Note(4, 8, 62), Note(8, 12, 86), Note(44, 48, 60)), chords=(Chord(0, 64, 0, "maj"),))


def test_playability_rejects_a_hand_made_impossible_level():
    assert not run.playable(run.build_level(impossible_piece(), chords=False))
    gap = Lane((Platform(0, 16 * STEP, 0), Platform(16 * STEP, 18 * STEP, 0), Platform(40 * STEP, 44 * STEP, 0)), 2, 2 * STEP, 120)
    assert not run.playable(run.Level(120, 16, (gap,)))  # a rest of 22 steps: a jump covers 4.25


def test_playability_accepts_the_example_piece_and_recomposes_past_a_bad_one():
    assert run.playable(run.build_level(PIECE, chords=True))
    spec = run.RunLevel(bars=2, chords=True)
    assert run.first_playable(iter([impossible_piece(), PIECE]), spec) == PIECE
    with pytest.raises(ValueError, match="none of 1"):
        run.first_playable(iter([impossible_piece()]), spec)
    faster = run.first_playable(iter([PIECE]), run.RunLevel(bars=2, chords=True, tempo_scale=1.25))
    assert faster.tempo == 150 and faster.melody == PIECE.melody
    with pytest.raises(ValueError):
        run.first_playable(iter([PIECE]), run.RunLevel(bars=2, chords=True, min_notes_per_bar=4))


@pytest.fixture(scope="module")
def composer():
    from models.composer import default_composer

    return default_composer(Path(__file__).resolve().parent.parent / "models" / "checkpoints")


@pytest.mark.parametrize("rung", range(len(run.LADDER)))
def test_composed_levels_of_every_rung_are_playable(composer, rung):
    spec = run.LADDER[rung]
    rng = random.Random(rung)
    candidates = (composer.compose(bars=spec.bars, meter="4/4", style=spec.style, seed=rng.getrandbits(62)) for _ in range(40))
    piece = run.first_playable(candidates, spec)
    level = run.build_level(piece, spec.chords)
    assert len(level.lanes) == (2 if spec.chords else 1) and run.playable(level)
    for lane in level.lanes:
        bot = run_bot.play(lane)
        game = run.RunRound.start(level, (level.lanes.index(lane),))
        game.add_inputs({level.lanes.index(lane): bot.inputs}, now_tick=10**6)
        game.run_out()
        summary = game.result()["lanes"][0]
        assert summary["status"] == "goal"
        assert summary["judgements"]["perfect"] >= 0.7 * (len(lane.platforms) - 1)  # the bot plays well, not only to the end


@pytest.mark.parametrize("rung", range(len(run.LADDER)))
def test_a_batch_of_levels_is_served_only_dense_enough_and_playable(rung):
    """What the pool refills Run levels with (app.compose_batch_with_models): every level at the
    rung's tempo range, dense enough and proven playable."""
    from game_server.app import compose_batch_with_models
    from game_server.composer import RunRequest
    from models.composer import TEMPO_RANGE

    spec = run.LADDER[rung]
    batch = compose_batch_with_models(str(Path(__file__).resolve().parent.parent / "models" / "checkpoints"), RunRequest(rung), 6, seed=rung)
    assert 1 <= len(batch) <= 6
    for (piece,) in batch:
        assert piece.bars == spec.bars and run.notes_per_bar(piece) >= spec.min_notes_per_bar
        low, high = TEMPO_RANGE[spec.style]
        assert round(low * spec.tempo_scale) <= piece.tempo <= round(high * spec.tempo_scale)
        assert run.playable(run.build_level(piece, spec.chords))
