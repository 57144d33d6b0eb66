"""Beat Hunt's pure rules: the ladder, each move's refusals, the score's shape, replays, plausibility."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_server.games.base import Refused
from game_server.games.blend.rules import (
    LADDER,
    MIN_SECONDS,
    Hunt,
    Level,
    apply,
    centre,
    check,
    check_listen,
    check_move,
    check_submit,
    check_timeout,
    implausible,
    level,
    new_hunt,
    owners_for,
    replay,
    result,
    score,
    time_up,
)

L5 = level("5x5-contrasting")
L9 = level("9x9-contrasting")
L11 = level("11x11-similar")


def solo(lvl: Level = L9, target=(1, 2)) -> Hunt:
    return new_hunt(lvl, target, False, owners_for(["ada"], coop=False))


def coop(lvl: Level = L9, target=(1, 2)) -> Hunt:
    return new_hunt(lvl, target, True, owners_for(["ada", "bob"], coop=True))


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(Refused) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code


def play(hunt: Hunt, records: list[dict]) -> Hunt:
    for record in records:
        hunt = apply(hunt, check(hunt, record))
    return hunt


# ---- the ladder --------------------------------------------------------------------------------


def test_ladder_gets_harder_and_never_easier():
    assert 4 <= len(LADDER) <= 5
    assert LADDER[0].grid == 5 and LADDER[0].contrast == "contrasting"
    assert LADDER[-1].grid == 11 and LADDER[-1].contrast == "similar"
    for before, after in zip(LADDER, LADDER[1:]):
        assert after.grid >= before.grid
        assert after.listens <= before.listens
        assert after.seconds <= before.seconds
        assert not (before.contrast == "similar" and after.contrast == "contrasting")
        assert (after.grid, after.listens, after.seconds, after.contrast) != (before.grid, before.listens, before.seconds, before.contrast)
    assert LADDER[-1].listens < LADDER[0].listens and LADDER[-1].seconds < LADDER[0].seconds
    assert len({rung.name for rung in LADDER}) == len(LADDER)


def test_level_lookup_and_bad_levels():
    assert level(LADDER[2].name) is LADDER[2]
    with pytest.raises(KeyError, match="no Beat Hunt level 'nope'"):
        level("nope")
    with pytest.raises(ValueError):
        Level("big", grid=13, listens=1, seconds=30, contrast="similar")
    with pytest.raises(ValueError):
        Level("odd", grid=7, listens=1, seconds=30, contrast="loud")


def test_new_hunt_starts_at_the_centre_and_checks_its_setup():
    hunt = solo(L11, target=(0, 10))
    assert hunt.puck == centre(11) == (5, 5) and hunt.path == ((5, 5),)
    assert (hunt.listens, hunt.moves, hunt.answer, hunt.ended) == (0, 0, None, None)
    with pytest.raises(ValueError):
        solo(L5, target=(5, 0))
    with pytest.raises(ValueError):
        new_hunt(L5, (1, 1), True, {"ada": "xy"})  # co-op needs an x and a y owner
    with pytest.raises(ValueError):
        new_hunt(L5, (1, 1), False, {"ada": "x", "bob": "y"})


# ---- moves -------------------------------------------------------------------------------------


def test_solo_moves_both_axes_and_checking_changes_nothing():
    hunt = solo()
    step = check_move(hunt, "ada", 2.0, x=7, y=0)
    assert hunt.puck == (4, 4) and hunt.moves == 0  # checked, not applied
    hunt = apply(hunt, step)
    assert hunt.puck == (7, 0) and hunt.moves == 1
    hunt = apply(hunt, check_move(hunt, "ada", 3.0, y=8))  # an axis not sent stays
    assert hunt.puck == (7, 8)
    hunt = apply(hunt, check_move(hunt, "ada", 3.5, x=0, y=0))  # the whole grid in one step
    assert hunt.path == ((4, 4), (7, 0), (7, 8), (0, 0)) and hunt.moves == 3
    refused("empty_move", check_move, hunt, "ada", 4.0)


def test_coop_players_steer_only_their_own_axis():
    hunt = coop()
    hunt = apply(hunt, check_move(hunt, "ada", 1.0, x=2))
    hunt = apply(hunt, check_move(hunt, "bob", 1.2, y=6))
    assert hunt.puck == (2, 6)
    refused("not_your_axis", check_move, hunt, "ada", 2.0, y=1)
    refused("not_your_axis", check_move, hunt, "bob", 2.0, x=1)
    refused("not_your_axis", check_move, hunt, "ada", 2.0, x=1, y=1)
    refused("not_in_round", check_move, hunt, "eve", 2.0, x=1)


@pytest.mark.parametrize("value", [-1, 9, 100, 2.0, 2.5, "3", True, None])
def test_off_grid_and_non_integer_cells_are_refused(value):
    hunt = solo(L9)
    if value is None:
        refused("empty_move", check_move, hunt, "ada", 1.0, x=value)
    else:
        refused("off_grid", check_move, hunt, "ada", 1.0, x=value)
        refused("off_grid", check_move, hunt, "ada", 1.0, x=3, y=value)


def test_a_move_after_the_limit_or_the_end_is_refused():
    hunt = solo(L9)
    check_move(hunt, "ada", L9.seconds, x=1)  # at the limit exactly: still in time
    refused("too_late", check_move, hunt, "ada", L9.seconds + 0.01, x=1)
    done = apply(hunt, check_submit(hunt, "ada", 5.0))
    refused("round_over", check_move, done, "ada", 6.0, x=1)


# ---- listens, submit, timeout -------------------------------------------------------------------


def test_listens_run_out():
    hunt = solo(L11)
    for i in range(L11.listens):
        hunt = apply(hunt, check_listen(hunt, "ada", 2.0 + i))
    assert hunt.listens == L11.listens
    refused("no_listens_left", check_listen, hunt, "ada", 9.0)
    refused("too_late", check_listen, solo(L11), "ada", L11.seconds + 1)


def test_submit_once_for_both_players():
    hunt = coop()
    hunt = apply(hunt, check_move(hunt, "ada", 1.0, x=1))
    hunt = apply(hunt, check_submit(hunt, "bob", 4.0))
    assert (hunt.ended, hunt.answer, hunt.seconds) == ("submitted", (1, 4), 4.0)
    refused("round_over", check_submit, hunt, "ada", 5.0)
    refused("round_over", check_submit, hunt, "bob", 5.0)
    refused("round_over", check_listen, hunt, "ada", 5.0)


def test_a_late_submit_is_accepted_with_no_time_score():
    hunt = solo(L9, target=(4, 4))  # the puck starts on it
    late = apply(hunt, check_submit(hunt, "ada", L9.seconds + 7))
    scored = result(late)
    assert late.ended == "submitted" and scored.breakdown["pace"] == 0
    assert scored.points == 800  # 700 closeness + 100 exact, no time part
    on_time = result(apply(hunt, check_submit(hunt, "ada", L9.seconds / 2)))
    assert on_time.points == 900


def test_timeout_ends_the_round_where_the_puck_is():
    hunt = solo(L9, target=(2, 2))
    hunt = apply(hunt, check_move(hunt, "ada", 3.0, x=3, y=2))
    assert not time_up(hunt, L9.seconds - 0.1) and time_up(hunt, L9.seconds)
    refused("time_left", check_timeout, hunt, L9.seconds - 0.1)
    over = apply(hunt, check_timeout(hunt, L9.seconds))
    assert (over.ended, over.answer) == ("timeout", (3, 2))
    assert not time_up(over, L9.seconds + 5)
    refused("round_over", check_timeout, over, L9.seconds + 1)
    refused("round_over", check_submit, over, "ada", L9.seconds + 1)
    assert result(over).breakdown["distance"] == 1 and result(over).breakdown["pace"] == 0
    with pytest.raises(ValueError):
        result(hunt)


# ---- the score ---------------------------------------------------------------------------------


def test_score_on_worked_examples():
    perfect = score(L9, (2, 3), (2, 3), 0, 0.0)
    assert perfect.points == 1000 and perfect.breakdown["exact"] is True
    half_grid = score(L9, (0, 0), (0, 4.5), 0, 0.0)  # half a grid away scores nothing
    assert half_grid.points == 0
    far = score(L9, (0, 0), (8, 8), 0, 0.0)
    assert far.points == 0 and far.breakdown["closeness"] == 0
    # 3-4-5: distance 5 on an 11-grid, closeness 1 - 5/5.5; two listens, half the time
    s = score(L11, (0, 0), (3, 4), 2, 30.0)
    assert s.breakdown["distance"] == 5
    assert s.points == round(0.84 * (700 * (1 - 5 / 5.5) + 200 * (1 - 5 / 5.5) * 0.5))
    assert set(s.breakdown) >= {"distance", "closeness", "listens", "seconds", "exact"}


cells = st.tuples(st.integers(0, 10), st.integers(0, 10))
rungs = st.sampled_from(LADDER)


def _fit(lvl: Level, cell):
    return (cell[0] % lvl.grid, cell[1] % lvl.grid)


@given(rungs, cells, cells, cells, st.integers(0, 6), st.floats(0, 120))
def test_closer_never_scores_less(lvl, target, a, b, listens, seconds):
    target, a, b = _fit(lvl, target), _fit(lvl, a), _fit(lvl, b)
    da, db = score(lvl, target, a, listens, seconds), score(lvl, target, b, listens, seconds)
    if da.breakdown["distance"] <= db.breakdown["distance"]:
        assert da.points >= db.points


@given(rungs, cells, st.sampled_from([(0, 1), (1, 0), (-1, 0), (0, -1)]), st.integers(0, 6), st.floats(0, 120))
def test_exact_beats_one_cell_off(lvl, target, step, listens, seconds):
    target = _fit(lvl, target)
    off = (target[0] + step[0], target[1] + step[1])
    if not all(0 <= v < lvl.grid for v in off):
        off = (target[0] - step[0], target[1] - step[1])
    assert score(lvl, target, target, listens, seconds).points > score(lvl, target, off, listens, seconds).points


@given(rungs, cells, cells, st.integers(0, 10), st.integers(0, 10), st.floats(0, 120))
def test_more_listens_never_score_more(lvl, target, answer, fewer, more, seconds):
    fewer, more = sorted((fewer, more))
    target, answer = _fit(lvl, target), _fit(lvl, answer)
    assert score(lvl, target, answer, more, seconds).points <= score(lvl, target, answer, fewer, seconds).points


@given(rungs, cells, cells, st.integers(0, 6), st.floats(0, 200), st.floats(0, 200))
def test_slower_never_scores_more(lvl, target, answer, listens, sooner, later):
    sooner, later = sorted((sooner, later))
    target, answer = _fit(lvl, target), _fit(lvl, answer)
    s = score(lvl, target, answer, listens, sooner).points
    assert score(lvl, target, answer, listens, later).points <= s
    assert 0 <= s <= 1000


def test_time_weighs_less_than_closeness():
    # one cell off but at once scores less than exact at the very limit, but also: the time part
    # alone is worth at most a fifth of the points
    assert score(L9, (4, 4), (4, 4), 0, L9.seconds).points > score(L9, (4, 4), (4, 5), 0, 0.0).points
    assert score(L9, (4, 4), (4, 4), 0, 0.0).points - score(L9, (4, 4), (4, 4), 0, L9.seconds).points == 200


# ---- replay ------------------------------------------------------------------------------------


def _live_coop_round():
    hunt = coop(L11, target=(8, 2))
    steps = [check_move(hunt, "ada", 2.5, x=9)]
    hunt = apply(hunt, steps[-1])
    for step_of in (
        lambda h: check_listen(h, "bob", 4.0),
        lambda h: check_move(h, "bob", 6.25, y=1),
        lambda h: check_move(h, "ada", 9.0, x=8),
        lambda h: check_move(h, "bob", 11.5, y=2),
        lambda h: check_listen(h, "ada", 13.0),
        lambda h: check_submit(h, "bob", 17.75),
    ):
        steps.append(step_of(hunt))
        hunt = apply(hunt, steps[-1])
    return hunt, [step.record() for step in steps]


def test_replay_reproduces_the_live_result():
    live, records = _live_coop_round()
    assert live.ended == "submitted" and live.answer == (8, 2)
    assert records[1] == {"kind": "listen", "player": "bob", "t": 4.0}
    assert records[2] == {"kind": "move", "player": "bob", "t": 6.25, "y": 1}
    again = replay(L11, (8, 2), True, {"ada": "x", "bob": "y"}, records)
    assert again == result(live)
    assert again.points == score(L11, (8, 2), (8, 2), 2, 17.75).points


def test_replay_of_a_solo_timeout():
    records = [{"kind": "move", "player": "ada", "t": 3.0, "x": 1, "y": 1}, {"kind": "timeout", "player": None, "t": L5.seconds}]
    again = replay(L5, (0, 0), False, {"ada": "xy"}, records)
    assert again == score(L5, (0, 0), (1, 1), 0, L5.seconds)


def test_replay_of_tampered_moves_raises():
    _, records = _live_coop_round()
    owners = {"ada": "x", "bob": "y"}
    tampered = [dict(r) for r in records]
    tampered[3]["x"] = 11  # off the 11-grid
    with pytest.raises(Refused, match="off_grid"):
        replay(L11, (8, 2), True, owners, tampered)
    swapped = [dict(r) for r in records]
    swapped[2]["player"] = "ada"  # bob's y move claimed by ada
    with pytest.raises(Refused, match="not_your_axis"):
        replay(L11, (8, 2), True, owners, swapped)
    with pytest.raises(Refused, match="round_over"):
        replay(L11, (8, 2), True, owners, records + [records[-1]])
    with pytest.raises(Refused, match="unknown_move"):
        replay(L11, (8, 2), True, owners, [{"kind": "teleport", "player": "ada", "t": 1.0}])
    with pytest.raises(Refused, match="bad_time"):
        replay(L11, (8, 2), True, owners, [{"kind": "submit", "player": "ada", "t": "soon"}])
    with pytest.raises(ValueError, match="not ended"):
        replay(L11, (8, 2), True, owners, records[:-1])


# ---- plausibility ------------------------------------------------------------------------------


def test_a_human_paced_search_is_plausible():
    live, _ = _live_coop_round()
    assert implausible(live) is None
    straight = [{"kind": "move", "player": "ada", "t": 5.0, "x": 1, "y": 2}, {"kind": "submit", "player": "ada", "t": 8.0}]
    assert implausible(play(solo(L5, target=(1, 2)), straight)) is None  # a small grid: a lucky first drop is human


def test_a_submit_before_the_beat_could_be_heard_is_flagged():
    hunt = solo(L9, target=(6, 6))
    fast = play(hunt, [{"kind": "move", "player": "ada", "t": 0.4, "x": 5, "y": 5}, {"kind": "submit", "player": "ada", "t": MIN_SECONDS - 0.1}])
    assert "s after the start" in implausible(fast)
    slow = play(hunt, [{"kind": "move", "player": "ada", "t": 0.4, "x": 5, "y": 5}, {"kind": "submit", "player": "ada", "t": MIN_SECONDS + 1}])
    assert implausible(slow) is None


def test_the_target_found_without_hearing_any_other_beat_is_flagged():
    hunt = solo(L11, target=(9, 1))
    straight = play(hunt, [{"kind": "move", "player": "ada", "t": 4.0, "x": 9, "y": 1}, {"kind": "submit", "player": "ada", "t": 12.0}])
    assert "without hearing any other beat" in implausible(straight)
    searched = play(hunt, [{"kind": "move", "player": "ada", "t": 4.0, "x": 8, "y": 1}, {"kind": "move", "player": "ada", "t": 6.0, "x": 9},
                           {"kind": "submit", "player": "ada", "t": 12.0}])
    assert implausible(searched) is None
    centre_target = play(solo(L11, target=(5, 5)), [{"kind": "submit", "player": "ada", "t": 12.0}])
    assert implausible(centre_target) is None  # never moved, and rightly so
    for beside in ((6, 5), (4, 6)):  # a cell beside the centre is where a person tries first
        first_try = play(solo(L11, target=beside), [{"kind": "move", "player": "ada", "t": 4.0, "x": beside[0], "y": beside[1]}, {"kind": "submit", "player": "ada", "t": 9.0}])
        assert implausible(first_try) is None, beside
    two_away = play(solo(L11, target=(7, 5)), [{"kind": "move", "player": "ada", "t": 4.0, "x": 7}, {"kind": "submit", "player": "ada", "t": 9.0}])
    assert "without hearing any other beat" in implausible(two_away)
    missed = play(hunt, [{"kind": "move", "player": "ada", "t": 4.0, "x": 9, "y": 2}, {"kind": "submit", "player": "ada", "t": 12.0}])
    assert implausible(missed) is None  # a wrong answer is never flagged for this


def test_an_answer_on_the_target_or_beside_it_clears_the_level():
    assert score(L5, (2, 2), (2, 2), 0, 10).breakdown["cleared"]
    assert score(L5, (2, 2), (2, 3), 6, 89).breakdown["cleared"]
    assert not score(L5, (2, 2), (3, 3), 0, 5).breakdown["cleared"]  # diagonal: 1.41 cells
