"""Run's rules without a server: levels from pieces, the ladder, judging windows, combo and
score, the input rules, replay against a live round, and the playability check."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_server.games.run import bot as run_bot
from game_server.games.run import physics as phys
from game_server.games.run import rules as run
from game_server.games.run.physics import SEMITONE, STEP, Lane, Platform
from music import Chord, Key, Meter, Note, Piece

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
    assert public["lanes"][0]["platforms"][1] == [16 * STEP, 20 * STEP, 0] and public["physics"] == "run-physics/2"
    assert public["bar_x"] == [16 * STEP, 32 * STEP, 48 * STEP]


def test_a_bar_at_another_tempo_is_laid_out_to_its_time():
    """A story's second section at 180 bpm after 120: its bar is 2/3 as wide, so the one-speed
    playhead reaches every note when it sounds; judging needs nothing else."""
    piece = replace(PIECE, tempo_changes=((1, 180),))
    level = run.build_level(piece, chords=False)
    bar = 16 * STEP
    assert level.bar_x == (bar, 2 * bar, 2 * bar + bar * 2 // 3) and level.tempo == 120
    for note, platform in zip(piece.melody, level.lanes[0].platforms[1:]):
        onset_ticks = platform.x0 * 900 / (120 * STEP)
        assert onset_ticks / 60 == pytest.approx(2.0 + piece.seconds_at(note.start), abs=1e-4)  # after the count-in's bar, at the first tempo


def test_ladder_starts_as_the_original_and_gets_harder_by_its_numbers():
    first = [(lv.bars, lv.chords) for lv in run.LADDER[:3]]
    assert first == [(8, False), (8, True), (16, True)]
    later = run.LADDER[3:]
    assert later and all(lv.tempo_scale > 1 and lv.min_notes_per_bar > 0 for lv in later)
    leaps = [math.inf if lv.max_leap is None else lv.max_leap for lv in run.LADDER]
    for easier, harder, leap, next_leap in zip(run.LADDER, run.LADDER[1:], leaps, leaps[1:]):
        assert harder.tempo_scale >= easier.tempo_scale and harder.min_notes_per_bar >= easier.min_notes_per_bar and next_leap >= leap
    assert leaps[0] < leaps[-1]


def test_a_piece_that_leaps_further_than_the_rung_allows_is_recomposed():
    assert run.largest_leap(PIECE) == 3  # D5 (74) after B4 (71)
    assert run.for_rung(PIECE, run.RunLevel(bars=2, chords=False, max_leap=2)) is None
    assert run.for_rung(PIECE, run.RunLevel(bars=2, chords=False, max_leap=3)) == PIECE


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
    assert summary["steps"] == (lane.platforms[-1].x1 - lane.platforms[0].x1) // STEP == 120  # the whole music: 60 8th notes
    assert result["score"] == summary["note_points"] + summary["steps"] * run.DISTANCE_POINTS + run.GOAL_POINTS


def test_a_miss_resets_the_combo():
    """Three notes hit, then a pause: the next three are reached late (misses), three on time
    again (the combo counts from 1), then the avatar runs ahead of the music (misses)."""
    lane = stairs(12)
    inputs = [i for i in run_bot.play(lane).inputs if i[0] < 160] + [(190, "right", True)]
    game = run.RunRound.start(run.Level(120, 16, (lane,)), (0,))
    judged = sorted(game.add_inputs({0: inputs}, now_tick=10**6) + game.run_out(), key=lambda j: j.platform)
    assert [j.grade != "miss" for j in judged] == [True] * 3 + [False] * 3 + [True] * 3 + [False] * 3
    combo = 0
    for j in judged:
        combo = combo + 1 if j.grade != "miss" else 0
        assert j.combo == combo
    assert [j.combo for j in judged[6:9]] == [1, 2, 3]


def test_two_lanes_earn_the_sync_bonus():
    level = run.build_level(PIECE, chords=True)
    game = run.RunRound.start(level, (0, 1))
    for i, lane in enumerate(level.lanes):
        game.add_inputs({i: run_bot.play(lane).inputs}, now_tick=10**6)
    game.run_out()
    result = game.result()
    assert result["sync_ticks"] > 0 and result["sync_points"] == result["sync_ticks"] * run.SYNC_POINTS
    assert all(lane["status"] == "goal" for lane in result["lanes"])
    assert result["score"] > 2 * run.GOAL_POINTS + result["sync_points"]


def test_standing_still_scores_nothing():
    """Two avatars that never move: every note is missed, nothing is arrived on, nobody is on a
    combo, so no note, distance or sync points (the same round scored 1,420 under run-physics/1)."""
    game = run.RunRound.start(run.build_level(PIECE, chords=True), (0, 1))
    game.run_out()
    result = game.result()
    assert result["score"] == 0 and result["sync_ticks"] == 0
    assert all(lane["status"] == "scrolled" and lane["steps"] == 0 and lane["judgements"]["miss"] > 0 for lane in result["lanes"])


def test_sync_needs_both_avatars_catching_notes():
    level = run.build_level(PIECE, chords=True)
    one = run.RunRound.start(level, (0, 1))
    one.add_inputs({0: run_bot.play(level.lanes[0]).inputs}, now_tick=10**6)  # the chord avatar stands still
    one.run_out()
    result = one.result()
    assert result["sync_ticks"] == 0 and result["lanes"][0]["note_points"] > 0 and result["lanes"][1]["steps"] == 0


def test_distance_counts_the_music_up_to_the_furthest_note_arrived_on():
    game = run.RunRound.start(LEVEL, (0,))
    game.add_inputs({0: [(0, "right", True), (40, "right", False)]}, now_tick=40)  # runs along the count-in only
    game.run_out()
    assert game.result()["lanes"][0]["steps"] == 0
    game = run.RunRound.start(LEVEL, (0,))
    game.add_inputs({0: [(0, "right", True), (58, "right", False)]}, now_tick=60)  # onto platform 1 (16..24), then waits
    game.run_out()
    assert game.result()["lanes"][0]["steps"] == 8


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
    assert refused(game, [(14, "jump", True)], 20) == "key_unchanged"
    assert refused(game, [(14, "left", False)], 20) == "key_unchanged"
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
    from game_server.games.run.material import RunRequest
    from models.composer import TEMPO_RANGE

    spec = run.LADDER[rung]
    batch = compose_batch_with_models(str(Path(__file__).resolve().parent.parent / "models" / "checkpoints"), RunRequest(rung), 6, seed=rung)
    assert 1 <= len(batch) <= 6
    for (piece,) in batch:
        assert piece.bars == spec.bars and run.notes_per_bar(piece) >= spec.min_notes_per_bar
        low, high = TEMPO_RANGE[spec.style]
        assert round(low * spec.tempo_scale) <= piece.tempo <= round(high * spec.tempo_scale)
        assert run.playable(run.build_level(piece, spec.chords))


# --- a person at the keys ---------------------------------------------------------------------

FRAME_EXACT_ONLY = Lane(tuple(Platform(int(a * STEP), int(b * STEP), 0) for a, b in [(0, 16), (19.5, 20), (23.5, 24), (27.5, 28)]), 3, 2 * STEP, 120)
"""Half-step ledges 3.5 steps apart: jumps that must be timed to a tick or two."""


def test_the_human_model_is_deterministic_and_its_seed_draws_its_errors():
    lane = run.build_level(PIECE, chords=False).lanes[0]
    a, b = run_bot.play_human(lane, 35, 7), run_bot.play_human(lane, 35, 7)
    assert a.inputs == b.inputs and a.state == b.state
    assert run_bot.play_human(lane, 35, 8).inputs != a.inputs
    assert run_bot.play_human(lane, 0, 7).inputs == run_bot.play_human(lane, 0, 8).inputs  # no error, nothing drawn


def test_the_human_model_keeps_the_server_rules_and_a_reaction_time():
    for lane in run.build_level(PIECE, chords=True).lanes:
        exact = run_bot.play_human(lane, 0, 1)
        assert exact.state.status == phys.GOAL
        planned = [tick for tick, key, down in exact.inputs if key != "jump" or down]  # a jump's release belongs to its tap
        assert all(b - a >= run_bot.REACTION_TICKS for a, b in zip(planned, planned[1:]))
        for sigma in (0, 35, 50):
            for seed in range(3):
                human = run_bot.play_human(lane, sigma, seed)
                game = run.RunRound.start(run.Level(lane.tempo, 16, (lane,)), (0,))
                game.add_inputs({0: human.inputs}, now_tick=10**6)  # a refused input would raise
                game.run_out()
                assert game.result()["lanes"][0]["status"] == human.state.status


def test_a_level_only_a_frame_exact_player_finishes_is_not_served():
    assert run_bot.play(FRAME_EXACT_ONLY).state.status == phys.GOAL
    assert run_bot.play_human(FRAME_EXACT_ONLY, 0, 0).state.status == phys.GOAL  # with no timing error the person gets there too
    planner = run_bot.HumanPlanner(FRAME_EXACT_ONLY)
    finished = sum(run_bot.play_human(FRAME_EXACT_ONLY, 35, 2**40 + seed, planner).state.status == phys.GOAL for seed in range(12))
    assert finished <= 6
    assert not run.playable(run.Level(120, 16, (FRAME_EXACT_ONLY,)))


def test_proof_seeds_come_from_the_level():
    level = run.build_level(PIECE, chords=True)
    seeds = run.proof_seeds(level)
    assert seeds == run.proof_seeds(run.build_level(PIECE, chords=True)) and len(set(seeds)) == run.PROOF_TRIES
    assert all(0 <= seed < 2**40 for seed in seeds)
    assert seeds != run.proof_seeds(run.build_level(PIECE, chords=False))


@given(st.integers(0, 48 * STEP), st.integers(-4 * SEMITONE, 24 * SEMITONE), st.integers(-phys.MAX_FALL, phys.JUMP_SPEED))
def test_the_planners_straight_fall_is_the_physics(x, y, vy):
    """HumanPlanner.settle takes a short cut for an avatar falling with no key down: it must
    come down where, and when, run_physics.step brings it down."""
    lane = Lane(tuple(Platform(a * STEP, b * STEP, h * SEMITONE) for a, b, h in [(0, 16, 4), (16, 18, 9), (18, 20, 2), (22, 30, 12), (30, 31, 11), (33, 40, 0)]), 5, 2 * STEP, 120)
    s = phys.State(x=x, y=y, vy=vy)
    stepped = None
    probe = s.copy()
    for i in range(run_bot.TRY_TICKS):
        phys.step(lane, probe, probe.x * 900 // (lane.tempo * STEP))
        if probe.grounded:
            stepped = (probe.platform, i)
            break
        if probe.status != phys.RUNNING:
            break
    assert run_bot.HumanPlanner(lane).settle(s) == stepped


@given(st.lists(st.sampled_from([0, 0, 1, 2, 3, 5, 8, run_bot.NEVER]), min_size=1, max_size=30), st.booleans())
def test_a_margin_is_the_widest_window_around_the_aim_that_works(follow, open_end):
    """run_bot._margins against its definition: the largest m such that every tick within m of
    k works and leaves what follows a margin of m or more (before 0 counts as 0; after the end as
    the last tick when open, else as failing)."""
    def works(j: int, m: int) -> bool:
        f = follow[max(j, 0)] if j < len(follow) else (follow[-1] if open_end else 0)
        return f >= m

    for k, margin in enumerate(run_bot._margins(follow, open_end)):
        widest = 0
        while widest < run_bot.WIDE and all(works(j, widest + 1) for j in range(k - widest - 1, k + widest + 2)):
            widest += 1
        assert margin == (widest if follow[k] > 0 else 0)
