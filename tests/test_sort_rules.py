"""Sort's pure rules: puzzles, moves, and the score on worked examples."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_server.games.sort.rules import (
    LADDERS,
    Move,
    MoveRefused,
    SortLevel,
    apply_move,
    kendall_tau,
    morph_puzzle,
    score_board,
    slices_puzzle,
    true_ranks,
)
from music import Key, Meter, Note, Piece, concatenate


def piece_of_bars(pitches: list[int]) -> Piece:
    """One whole-bar note per bar, at the given pitches."""
    melody = [Note(i * 16, i * 16 + 16, p) for i, p in enumerate(pitches)]
    return Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=len(pitches), melody=melody)


def solve(puzzle, board):
    for slot, clip in enumerate(puzzle.answer):
        if board.slots[slot] is None:
            board = apply_move(puzzle, board, Move("place", clip=clip, slot=slot))
    return board


def test_slices_puzzle_shuffles_so_no_part_starts_in_place():
    piece = piece_of_bars([60, 62, 64, 65, 67, 69, 71, 72])
    for seed in range(20):
        puzzle, board = slices_puzzle(piece, SortLevel("slices", 8), random.Random(seed))
        assert board.slots == (None,) * 8 and sorted(board.tray) == sorted(puzzle.answer)
        assert all(clip != right for clip, right in zip(board.tray, puzzle.answer))
        assert concatenate([puzzle.clips[c].piece for c in puzzle.answer]) == piece


def test_clip_ids_are_opaque_and_fresh():
    piece = piece_of_bars([60, 62, 64, 65])
    a, _ = slices_puzzle(piece, SortLevel("slices", 4, bars=4), random.Random(0))
    b, _ = slices_puzzle(piece, SortLevel("slices", 4, bars=4), random.Random(0))
    assert not set(a.answer) & set(b.answer)
    assert all(len(c) >= 12 for c in a.answer)


def test_perfect_solve_scores_1000():
    piece = piece_of_bars([60, 62, 64, 65])
    puzzle, board = slices_puzzle(piece, SortLevel("slices", 4, bars=4), random.Random(1))
    board = apply_move(puzzle, solve(puzzle, board), Move("submit"))
    result = score_board(puzzle, board, seconds=10)
    assert (result.score, result.tau, result.correct_slots, result.slots_right) == (1000, 1.0, 4, [True] * 4)


def test_identical_parts_are_interchangeable():
    piece = piece_of_bars([60, 62, 60, 62])  # parts 0 and 2, 1 and 3 sound the same
    puzzle, board = slices_puzzle(piece, SortLevel("slices", 4, bars=4), random.Random(2))
    a0, a1, a2, a3 = puzzle.answer
    for slot, clip in enumerate([a2, a3, a0, a1]):
        board = apply_move(puzzle, board, Move("place", clip=clip, slot=slot))
    assert score_board(puzzle, board, 5).score == 1000


def test_worked_example_reversed_and_one_swap():
    """4 free slots. Reversed: tau = -1 -> order 0 -> score 0. One adjacent swap: 5 of 6 pairs
    concordant, tau = 4/6, order = 5/6 -> 833."""
    piece = piece_of_bars([60, 62, 64, 65])
    puzzle, board = slices_puzzle(piece, SortLevel("slices", 4, bars=4), random.Random(3))
    reversed_board = board
    for slot, clip in enumerate(reversed(puzzle.answer)):
        reversed_board = apply_move(puzzle, reversed_board, Move("place", clip=clip, slot=slot))
    assert score_board(puzzle, reversed_board, 5).score == 0
    swapped = apply_move(puzzle, solve(puzzle, board), Move("swap", slot=1, other=2))
    result = score_board(puzzle, swapped, 5)
    assert result.tau == pytest.approx(0.6667, abs=1e-4)
    assert (result.score, result.correct_slots, result.cleared) == (833, 2, False)
    assert score_board(puzzle, solve(puzzle, board), 5).cleared


def test_clearing_a_level_needs_three_quarters_of_the_slots_right():
    """8 free slots: a rotation by one keeps 6 of 7 neighbours in order (score 750) with no slot
    right, and clears nothing; two slots swapped leaves 6 right (3/4) and clears."""
    piece = piece_of_bars(list(range(60, 68)))
    puzzle, board = slices_puzzle(piece, SortLevel("slices", 8), random.Random(5))
    rotated = board
    for slot, clip in enumerate(puzzle.answer[1:] + puzzle.answer[:1]):
        rotated = apply_move(puzzle, rotated, Move("place", clip=clip, slot=slot))
    result = score_board(puzzle, rotated, 5)
    assert (result.score, result.correct_slots, result.cleared) == (750, 0, False)
    swapped = apply_move(puzzle, solve(puzzle, board), Move("swap", slot=0, other=7))
    result = score_board(puzzle, swapped, 5)
    assert (result.correct_slots, result.cleared) == (6, True)


def test_listens_and_time_cost_points():
    """8 clips: 16 free listens; 26 listens -> 0.8. Par 64 s; 160 s -> 1 - 0.5*96/192 = 0.75."""
    piece = piece_of_bars(list(range(60, 68)))
    puzzle, board = slices_puzzle(piece, SortLevel("slices", 8), random.Random(4))
    board = solve(puzzle, board)
    for _ in range(26):
        board = apply_move(puzzle, board, Move("listen_board"))
    result = score_board(puzzle, board, seconds=160)
    assert result.factors == {"listens": 0.8, "time": 0.75, "par_seconds": 64.0}
    assert result.score == 600


@pytest.mark.parametrize(
    "move, code",
    [
        (Move("place", clip="nope", slot=0), "not_in_tray"),
        (Move("place", clip=None, slot=0), "not_in_tray"),
        (Move("swap", slot=0, other=0), "same_slot"),
        (Move("swap", slot=0, other=9), "bad_slot"),
        (Move("take_back", slot=1), "slot_empty"),
        (Move("listen_clip", clip="nope"), "unknown_clip"),
        (Move("submit"), "board_incomplete"),
        (Move("dance"), "unknown_move"),
    ],
)
def test_illegal_moves_are_refused_with_a_code(move, code):
    piece = piece_of_bars([60, 62, 64, 65])
    puzzle, board = slices_puzzle(piece, SortLevel("slices", 4, bars=4), random.Random(5))
    with pytest.raises(MoveRefused) as refused:
        apply_move(puzzle, board, move)
    assert refused.value.code == code


def test_morph_puzzle_fixes_ends_and_hides_options():
    path = [piece_of_bars([60 + i, 70 - i]) for i in range(7)]
    level = SortLevel("morph", 7, fixed=2, hidden="all", bars=2)
    puzzle, board = morph_puzzle(path, level, random.Random(6))
    assert board.slots[0] == puzzle.answer[0] and board.slots[-1] == puzzle.answer[-1]
    assert len(board.fixed) == 4 and len(board.tray) == 3
    assert all(puzzle.clips[c].hidden for c in board.tray)
    with pytest.raises(MoveRefused, match="slot_fixed"):
        apply_move(puzzle, board, Move("take_back", slot=0))
    board = apply_move(puzzle, solve(puzzle, board), Move("submit"))
    assert score_board(puzzle, board, 1).score == 1000
    with pytest.raises(MoveRefused, match="round_over"):
        apply_move(puzzle, board, Move("listen_board"))


def test_morph_path_with_repeats_is_refused():
    path = [piece_of_bars([60, 62])] * 5
    with pytest.raises(ValueError, match="redraw"):
        morph_puzzle(path, SortLevel("morph", 5, bars=2), random.Random(0))


def test_the_original_ladder_is_data():
    morph = LADDERS["morph"]
    assert [lvl.clips for lvl in morph] == [5, 5, 7, 7, 10, 10]
    assert [lvl.fixed for lvl in morph] == [0, 1, 2, 2, 3, 3] and morph[-1].hidden == "all"


@given(st.permutations(list(range(6))))
def test_kendall_tau_bounds_and_identity(perm):
    tau = kendall_tau(perm)
    assert -1 <= tau <= 1
    assert (tau == 1) == (perm == sorted(perm))
    assert kendall_tau(list(reversed(perm))) == pytest.approx(-tau)


def test_true_ranks_for_interchangeable_clips():
    assert true_ranks(["a", "a", "b"], ["a", "b", "a"]) == [0, 2, 1]


@given(st.lists(st.sampled_from(["place", "swap", "take_back", "listen_board"]), max_size=30), st.randoms())
def test_any_move_sequence_keeps_every_clip_exactly_once(kinds, rnd):
    piece = piece_of_bars([60, 62, 64, 65, 67, 69, 71, 72])
    puzzle, board = slices_puzzle(piece, SortLevel("slices", 8), random.Random(7))
    for kind in kinds:
        move = Move(kind, clip=rnd.choice(list(puzzle.clips)), slot=rnd.randrange(-1, 9), other=rnd.randrange(0, 8))
        try:
            after = apply_move(puzzle, board, move)
        except MoveRefused:
            continue
        assert after.version == board.version + 1
        board = after
        placed = [c for c in board.slots if c is not None] + list(board.tray)
        assert sorted(placed) == sorted(puzzle.answer)


def test_steady_path_is_the_one_shortest_way_from_a_to_b():
    from game_server.games.sort.rules import is_steady_path, melody_distance

    path = [piece_of_bars([60 + 2 * i, 72 - i]) for i in range(6)]
    assert melody_distance(path[0], path[0]) == 0 and melody_distance(path[0], path[1]) > 0
    assert is_steady_path(path)
    assert not is_steady_path([path[0], path[3], path[2], path[1], path[4], path[5]])
    assert not is_steady_path([path[0], path[1], path[1], path[5]])  # a repeated clip
