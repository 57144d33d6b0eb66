"""Results a script cannot rank: the plausibility checks (games/sort/plausible.py,
games/run/plausible.py) on their own, and their results through the real round path, stored and
shown with the reason but left off the leaderboard."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from game_server.app import services_of
from game_server.games.run import bot as run_bot
from game_server.games.run import game as run_game
from game_server.games.run import plausible as run_plausible
from game_server.games.run import rules as run
from game_server.games.sort import plausible as sort_plausible
from game_server.games.sort.rules import Move, SortLevel, apply_move, morph_puzzle, score_board

from .server import InProcessClient, fill_in_the_answer, wait_for_round
from .test_sort_rules import piece_of_bars

# --- Sort, pure ------------------------------------------------------------------------------------

CLIP_SECONDS = 4.0  # two bars of 4/4 at 120


def hidden_morph(seed: int = 3):
    """A morph puzzle of 7 clips, ends and two middles fixed, the other 3 hidden."""
    path = [piece_of_bars([60 + i, 70 - i]) for i in range(7)]
    return morph_puzzle(path, SortLevel("morph", 7, fixed=2, hidden="all", bars=2), random.Random(seed))


def play(puzzle, board, listens: list[str], order: list[str] | None = None):
    """Listen to `listens`, then place `order` (default: the answer) in the free slots and submit."""
    for clip in listens:
        board = apply_move(puzzle, board, Move("listen_clip", clip=clip))
    order = list(order or puzzle.answer)
    for slot, clip in enumerate(order):
        if board.slots[slot] is None:
            board = apply_move(puzzle, board, Move("place", clip=clip, slot=slot))
    return apply_move(puzzle, board, Move("submit"))


def judged(puzzle, board, seconds: float) -> str | None:
    return sort_plausible.implausible(puzzle, board, score_board(puzzle, board, seconds))


def test_every_hidden_clip_right_without_hearing_them_is_flagged():
    puzzle, board = hidden_morph()
    hidden = list(board.tray)
    assert len(hidden) == 3 and puzzle.clips[hidden[0]].piece.duration_seconds == CLIP_SECONDS
    assert "after hearing 0 of the 3" in judged(puzzle, play(puzzle, board, []), 60)
    # listening to the board, or to one clip many times, is not hearing them one by one
    assert "after hearing 1 of the 3" in judged(puzzle, play(puzzle, board, [hidden[0]] * 5), 60)


def test_hidden_clips_less_one_heard_in_their_time_is_human():
    puzzle, board = hidden_morph()
    hidden = list(board.tray)
    assert judged(puzzle, play(puzzle, board, hidden[:2]), 2 * CLIP_SECONDS) is None  # the third by elimination
    assert judged(puzzle, play(puzzle, board, hidden), 60) is None


def test_submitted_sooner_than_the_clips_can_be_heard_is_flagged():
    puzzle, board = hidden_morph()
    reason = judged(puzzle, play(puzzle, board, list(board.tray)), 2 * CLIP_SECONDS - 0.5)
    assert "7.5 s after the start: hearing 2 of them takes 8.0 s" in reason


def test_a_wrong_order_or_a_level_without_hidden_clips_is_never_flagged():
    puzzle, board = hidden_morph()
    hidden = list(board.tray)
    wrong = list(puzzle.answer)
    a, b = (puzzle.answer.index(c) for c in hidden[:2])
    wrong[a], wrong[b] = wrong[b], wrong[a]
    assert judged(puzzle, play(puzzle, board, [], wrong), 0.5) is None  # a guess, and a wrong one: human enough
    path = [piece_of_bars([60 + i, 70 - i]) for i in range(7)]
    puzzle, board = morph_puzzle(path, SortLevel("morph", 7, fixed=2, bars=2), random.Random(3))
    assert judged(puzzle, play(puzzle, board, []), 0.5) is None  # notes on the board: reading them is allowed


# --- Sort, through the round path: stored and shown, not ranked ----------------------------------------


def hidden_round(app, name: str) -> tuple[InProcessClient, str, dict]:
    """A solo round on morph level 6 (every option hidden)."""
    player = InProcessClient(app, name)
    code = player.call("create_room", {"game": "sort", "mode": "solo", "ladder": "morph", "level": 5})["room"]["code"]
    view = player.call("start_round", {})["round"]
    return player, code, view


def test_a_bots_perfect_round_is_stored_but_not_ranked_and_a_listeners_is(app):
    bot, _code, view = hidden_round(app, "Script")
    seq, version = fill_in_the_answer(app, bot, _code, view)  # knows the answer, never listens
    done = bot.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "submit"}})
    assert done["ok"] and done["result"]["details"]["tau"] == 1.0
    reason = done["result"]["flagged"]
    assert "after hearing 0 of the 5" in reason
    assert bot.events("round_ended")[0]["flagged"] == reason  # what the result screen shows
    stored = wait_for_round(services_of(app).storage, view["round_id"])
    assert stored.result["score"] == done["result"]["score"] and stored.result["flagged"] == reason

    ada, code, view = hidden_round(app, "Ada")
    hidden, seq = view["board"]["tray"], 0
    for clip in hidden[:-1]:  # she hears all but one, and tells the last by elimination
        seq += 1
        assert ada.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": 0, "move": {"kind": "listen_clip", "clip": clip}})["ok"]
    with services_of(app).store.locked(code) as room:
        room.round.started -= 60  # a minute of listening and thinking, without the test waiting for it
    board = ada.call("sort_move", {"round_id": view["round_id"], "seq": seq + 1, "version": 0, "move": {"kind": "listen_board"}})["board"]
    seq, version = fill_in_the_answer(app, ada, code, view, seq=seq + 1, version=board["version"])
    done = ada.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "submit"}})
    assert done["ok"] and done["result"]["flagged"] is None

    http = app.test_client()
    ranked = http.get("/api/leaderboard?game=sort&level=morph-5").get_json()["results"]
    assert [r["names"] for r in ranked] == ["Ada"]  # the script's score, as high or higher, is not there
    assert http.get(f"/api/rounds/{stored.id}").get_json()["result"]["flagged"] == reason


# --- Run ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def levels():
    """A composed level of every rung, as the server serves them."""
    from models.composer import default_composer

    composer = default_composer(Path(__file__).resolve().parent.parent / "models" / "checkpoints")
    out = []
    for rung, spec in enumerate(run.LADDER):
        rng = random.Random(300 + rung)
        piece = run.first_playable((composer.compose(bars=spec.bars, meter="4/4", style=spec.style, seed=rng.getrandbits(62)) for _ in range(40)), spec)
        out.append(run.build_level(piece, spec.chords))
    return out


def played(level: run.Level, inputs_by_lane: dict[int, list]) -> run.RunRound:
    game = run.RunRound.start(level, tuple(inputs_by_lane))
    game.add_inputs(inputs_by_lane, now_tick=10**6)
    game.run_out()
    return game


def hits(game: run.RunRound) -> dict[str, list[int]]:
    return {run.LANE_NAMES[i]: [j.delta_ms for j in lane.judged.values() if j.grade != "miss"] for i, lane in game.lanes.items()}


def test_a_frame_exact_bots_run_is_flagged_on_every_rung(levels):
    for rung, level in enumerate(levels):
        game = played(level, {i: run_bot.play(lane).inputs for i, lane in enumerate(level.lanes)})
        assert all(lane["status"] == "goal" for lane in game.result()["lanes"])
        reason = run_plausible.implausible(hits(game))
        assert reason is not None and "no person's timing is that even" in reason, (rung, hits(game))
    state = run_game.RunRoundState("r_1", "run-0", ["p_1"], "Bot", 0.0, game=game, piece=None, lanes_of={}, t0=0.0)
    result = run_game._result(state)  # what the round path stores: flagged, so not ranked
    assert result.flagged == reason == result.public["flagged"]


@pytest.mark.parametrize("sigma", [20, 35, 50])
def test_the_human_models_runs_are_not_flagged(levels, sigma):
    """The person the levels are proven for (35 ms), a steadier one and a looser one, two tries
    each on every rung, with seeds the serving proof never uses."""
    for rung, level in enumerate(levels):
        for seed in range(2):
            game = played(level, {i: run_bot.play_human(lane, sigma, 2**41 + 10 * rung + seed).inputs for i, lane in enumerate(level.lanes)})
            assert run_plausible.implausible(hits(game)) is None, (rung, seed, {k: (len(v), run_plausible.early_reach_ms(v) if v else None) for k, v in hits(game).items()})


def test_too_few_hits_say_nothing_and_an_offset_is_not_evenness():
    assert run_plausible.implausible({"melody": [0] * (run_plausible.MIN_HITS - 1)}) is None
    assert run_plausible.implausible({"melody": [40] * run_plausible.MIN_HITS}) is not None  # late by a constant: still a script
    rng = random.Random(1)
    scattered = [round(rng.gauss(0, 30)) for _ in range(40)]
    assert run_plausible.implausible({"melody": [x + 40 for x in scattered]}) is None
