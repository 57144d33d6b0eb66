"""Sort (after Sornting): put the clips of a piece back in order. Pure rules: no Flask, no I/O.

A *puzzle* is what the server keeps secret: the clips and the right order. A *board* is what
both players see: which clip lies in which slot, which slots are fixed, the options not yet
placed (the tray), the listens used and a version number that every move must name.

Moves (each is legal or refused with a code and a reason; the board after a move is a function
of the board before and the move):
    place(clip, slot)   a tray clip into an empty, unfixed slot
    swap(a, b)          exchange two unfixed slots (either may be empty)
    take_back(slot)     an unfixed slot's clip back to the end of the tray
    listen_clip(clip)   counts a listen (and which clips were heard); the board is unchanged otherwise
    listen_board()      counts a listen
    submit()            ends the round; only with every slot filled

Score (`score_board` is the one implementation):
    order   = (1 + tau) / 2 over the unfixed slots, tau = Kendall's tau between the submitted and the
              right order; clips with equal content keys are interchangeable (each takes the right
              position nearest its own, so a swap of two identical clips costs nothing)
    listens = max(0.5, 1 - 0.02 * max(0, listens - free)), free = 2 * number of clips
    time    = max(0.5, 1 - 0.5 * max(0, seconds - par) / (3 * par)), par = 8 s per unfixed slot
    score   = round(1000 * order * listens * time); a perfect board submitted in par with few
              listens scores 1000.
    cleared = at least three quarters of the unfixed slots hold the right clip (CLEAR_SHARE): the
              ladder's pass mark asks for the order itself, not for a score that a board left in
              tray order may reach.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from music import Piece, content_key, slice_piece

from ..base import Refused, heard_only_token


class MoveRefused(Refused):
    """A move that breaks a rule of the board."""


@dataclass(frozen=True)
class SortLevel:
    """One rung of a campaign ladder (data, see LADDERS)."""

    mode: Literal["slices", "morph"]
    clips: int  # slices: parts; morph: steps of the interpolation, ends included
    fixed: int = 0  # morph: middle slots fixed besides the two ends
    hidden: int | Literal["all"] = 0  # how many options are hidden (no notes sent)
    bars: int = 8  # slices: bars of the piece; morph: bars per clip


LADDERS: dict[str, tuple[SortLevel, ...]] = {
    # Sornting's original six: n = 5, 5, 7, 7, 10, 10 with 0, 1, 2, 2, 3 fixed, then all hidden.
    "morph": (
        SortLevel("morph", 5, fixed=0, bars=2),
        SortLevel("morph", 5, fixed=1, bars=2),
        SortLevel("morph", 7, fixed=2, bars=2),
        SortLevel("morph", 7, fixed=2, bars=2),
        SortLevel("morph", 10, fixed=3, bars=2),
        SortLevel("morph", 10, fixed=3, hidden="all", bars=2),
    ),
    "slices": (
        SortLevel("slices", 4, bars=8),
        SortLevel("slices", 4, bars=16),
        SortLevel("slices", 8, bars=8),
        SortLevel("slices", 8, bars=16),
        SortLevel("slices", 8, hidden=4, bars=16),
    ),
}


@dataclass(frozen=True)
class Clip:
    clip_id: str  # opaque, fresh per round: reveals nothing about the order
    piece: Piece
    key: str  # content key: equal keys sound the same and are interchangeable
    hidden: bool = False
    audio: str = ""  # a hidden clip's: the unguessable token of its sound's address (heard, never read)


@dataclass(frozen=True)
class Puzzle:
    """The secret half of a round: the clips and the answer (a clip id per slot)."""

    clips: dict[str, Clip]
    answer: tuple[str, ...]
    fixed: frozenset[int]
    level: SortLevel

    def answer_keys(self) -> tuple[str, ...]:
        return tuple(self.clips[c].key for c in self.answer)


@dataclass(frozen=True)
class Board:
    slots: tuple[str | None, ...]
    tray: tuple[str, ...]
    fixed: frozenset[int]
    version: int = 0
    listens: int = 0
    submitted: bool = False
    heard: frozenset[str] = frozenset()  # the clips listened to one by one (kept by the server, not shown)

    @property
    def full(self) -> bool:
        return all(s is not None for s in self.slots)


# ---- building a puzzle --------------------------------------------------------------------


def new_clip_id() -> str:
    return secrets.token_urlsafe(9)


def _clip(cid: str, piece: Piece, key: str, hidden: bool) -> Clip:
    return Clip(cid, piece, key, hidden, heard_only_token() if hidden else "")


def slices_puzzle(piece: Piece, level: SortLevel, rng) -> tuple[Puzzle, Board]:
    """Cut `piece` into level.clips parts; shuffle so that no part starts in its own slot (nor in
    a slot whose right part sounds the same). A level with hidden clips is shuffled uniformly
    instead: "not in its own slot" is something the tray tells a script that never listens (with
    4 clips, reversing the tray would score 63 % of the order on average, not chance's 50 %)."""
    return ordered_puzzle(slice_piece(piece, parts=level.clips), level, rng)


def ordered_puzzle(parts: list[Piece], level: SortLevel, rng) -> tuple[Puzzle, Board]:
    """`parts` in their right order (a piece's slices, a story's sections) as a slices puzzle:
    shuffled as `slices_puzzle` says, level.hidden of them heard only."""
    ids = [new_clip_id() for _ in parts]
    hidden = set(_pick(rng, range(len(parts)), level.hidden))
    clips = {cid: _clip(cid, part, content_key(part), i in hidden) for i, (cid, part) in enumerate(zip(ids, parts))}
    answer = tuple(ids)
    if hidden:
        tray = list(ids)
        rng.shuffle(tray)
    else:
        tray = _derangement(ids, [clips[c].key for c in ids], rng)
    puzzle = Puzzle(clips, answer, frozenset(), level)
    return puzzle, Board(slots=(None,) * len(ids), tray=tuple(tray), fixed=frozenset())


def morph_puzzle(path: list[Piece], level: SortLevel, rng) -> tuple[Puzzle, Board]:
    """`path` is an interpolation A .. B. Both ends are fixed; level.fixed middle slots are too;
    the rest are shuffled options. Refuses a path whose clips are not all distinct."""
    keys = [content_key(p) for p in path]
    if len(set(keys)) != len(keys):
        raise ValueError("morph path has repeated clips: redraw it")
    ids = [new_clip_id() for _ in path]
    middle = list(range(1, len(path) - 1))
    fixed = {0, len(path) - 1, *_pick(rng, middle, level.fixed)}
    free = [i for i in range(len(path)) if i not in fixed]
    hidden = set(_pick(rng, free, level.hidden))
    clips = {cid: _clip(cid, p, k, i in hidden) for i, (cid, p, k) in enumerate(zip(ids, path, keys))}
    slots = tuple(ids[i] if i in fixed else None for i in range(len(path)))
    tray = [ids[i] for i in free]
    rng.shuffle(tray)
    return Puzzle(clips, tuple(ids), frozenset(fixed), level), Board(slots=slots, tray=tuple(tray), fixed=frozenset(fixed))


def _pick(rng, items, count) -> list:
    items = list(items)
    if count == "all":
        return items
    return rng.sample(items, min(count, len(items)))


def _derangement(ids: list[str], keys: list[str], rng) -> list[str]:
    """A shuffle of ids in which no clip sits at a position whose right content equals its own
    (so "place the tray left to right" never solves any slot for free). Falls back to a
    rotation, which is a derangement whenever one exists for distinct keys."""
    for _ in range(100):
        order = list(range(len(ids)))
        rng.shuffle(order)
        if all(keys[i] != keys[pos] for pos, i in enumerate(order)):
            return [ids[i] for i in order]
    order = list(range(1, len(ids))) + [0]
    return [ids[i] for i in order]


# ---- moves -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    kind: Literal["place", "swap", "take_back", "listen_clip", "listen_board", "submit"]
    clip: str | None = None
    slot: int | None = None
    other: int | None = None


def apply_move(puzzle: Puzzle, board: Board, move: Move) -> Board:
    """The board after `move`, or MoveRefused. The version goes up by one for every accepted move."""
    if board.submitted:
        raise MoveRefused("round_over", "the board has been submitted")
    slots, tray = list(board.slots), list(board.tray)
    if move.kind == "place":
        if move.clip not in tray:
            raise MoveRefused("not_in_tray", "that clip is not among the options")
        _check_free_slot(board, move.slot)
        if slots[move.slot] is not None:
            raise MoveRefused("slot_taken", f"slot {move.slot + 1} already holds a clip: swap or take it back first")
        tray.remove(move.clip)
        slots[move.slot] = move.clip
    elif move.kind == "swap":
        _check_free_slot(board, move.slot)
        _check_free_slot(board, move.other)
        if move.slot == move.other:
            raise MoveRefused("same_slot", "swap needs two different slots")
        slots[move.slot], slots[move.other] = slots[move.other], slots[move.slot]
    elif move.kind == "take_back":
        _check_free_slot(board, move.slot)
        if slots[move.slot] is None:
            raise MoveRefused("slot_empty", f"slot {move.slot + 1} is empty")
        tray.append(slots[move.slot])
        slots[move.slot] = None
    elif move.kind == "listen_clip":
        if move.clip not in puzzle.clips:
            raise MoveRefused("unknown_clip", "no such clip in this round")
        return replace(board, version=board.version + 1, listens=board.listens + 1, heard=board.heard | {move.clip})
    elif move.kind == "listen_board":
        return replace(board, version=board.version + 1, listens=board.listens + 1)
    elif move.kind == "submit":
        if not board.full:
            raise MoveRefused("board_incomplete", "fill every slot before submitting")
        return replace(board, version=board.version + 1, submitted=True)
    else:
        raise MoveRefused("unknown_move", f"no move called {move.kind!r}")
    return replace(board, slots=tuple(slots), tray=tuple(tray), version=board.version + 1)


def _check_free_slot(board: Board, slot: int | None) -> None:
    if not isinstance(slot, int) or isinstance(slot, bool) or not 0 <= slot < len(board.slots):
        raise MoveRefused("bad_slot", f"the board has slots 1..{len(board.slots)} (the field `slot` counts from 0)")
    if slot in board.fixed:
        raise MoveRefused("slot_fixed", f"slot {slot + 1} is fixed")


# ---- score -----------------------------------------------------------------------------------


CLEAR_SHARE = 0.75  # of the unfixed slots right, to clear a level


@dataclass(frozen=True)
class SortScore:
    score: int
    cleared: bool  # the pass mark: CLEAR_SHARE of the unfixed slots right
    slots_right: list  # per slot: True / False, None for a fixed one (the result screen marks them)
    order: float  # (1 + tau) / 2
    tau: float
    correct_slots: int
    free_slots: int
    listens: int
    seconds: float
    factors: dict = field(default_factory=dict)


def kendall_tau(ranks: list[int]) -> float:
    """Kendall's tau between 0..n-1 and `ranks` (a permutation): 1 = same order, -1 = reversed."""
    n = len(ranks)
    if n < 2:
        return 1.0
    concordant = sum(1 for i in range(n) for j in range(i + 1, n) if ranks[i] < ranks[j])
    pairs = n * (n - 1) // 2
    return (2 * concordant - pairs) / pairs


def true_ranks(submitted_keys: list[str], right_keys: list[str]) -> list[int]:
    """For each submitted clip, the right position it stands for. Interchangeable clips (equal
    keys) take their group's right positions in the order they were placed, which never costs a
    point: it is the assignment with the fewest inversions."""
    positions: dict[str, list[int]] = {}
    for position, key in enumerate(right_keys):
        positions.setdefault(key, []).append(position)
    return [positions[key].pop(0) for key in submitted_keys]


def score_board(puzzle: Puzzle, board: Board, seconds: float) -> SortScore:
    if not board.full:
        raise MoveRefused("board_incomplete", "only a full board can be scored")
    free = [i for i in range(len(board.slots)) if i not in puzzle.fixed]
    right = puzzle.answer_keys()
    submitted_keys = [puzzle.clips[board.slots[i]].key for i in free]
    right_keys = [right[i] for i in free]
    ranks = true_ranks(submitted_keys, right_keys)
    tau = kendall_tau(ranks)
    order = (1 + tau) / 2
    free_listens = 2 * len(puzzle.clips)
    listen_factor = max(0.5, 1 - 0.02 * max(0, board.listens - free_listens))
    par = 8.0 * len(free)
    time_factor = max(0.5, 1 - 0.5 * max(0.0, seconds - par) / (3 * par))
    right_by_slot = dict(zip(free, (s == r for s, r in zip(submitted_keys, right_keys))))
    correct = sum(right_by_slot.values())
    return SortScore(
        score=round(1000 * order * listen_factor * time_factor),
        cleared=correct >= CLEAR_SHARE * len(free),
        slots_right=[right_by_slot.get(i) for i in range(len(board.slots))],
        order=round(order, 4),
        tau=round(tau, 4),
        correct_slots=correct,
        free_slots=len(free),
        listens=board.listens,
        seconds=round(seconds, 3),
        factors={"listens": round(listen_factor, 4), "time": round(time_factor, 4), "par_seconds": par},
    )


# ---- what the players see, what storage keeps, and replaying it ------------------------------


def public_board(puzzle: Puzzle, board: Board, with_clips: bool = True) -> dict:
    """The board as both players see it. Clips are keyed by opaque ids (sorted: the ids are
    random, so that order is too); a hidden clip carries no notes, nor its sound's address (a
    listen gives that). Nothing here lets a client derive the answer. Clips never change during a
    round, so updates leave them out."""
    from music import piece_to_dict

    view = {
        "slots": list(board.slots),
        "tray": list(board.tray),
        "fixed": sorted(board.fixed),
        "version": board.version,
        "listens": board.listens,
        "submitted": board.submitted,
    }
    if with_clips:
        view["clips"] = {
            cid: {"hidden": c.hidden, "bars": c.piece.bars, "piece": None if c.hidden else piece_to_dict(c.piece)}
            for cid, c in sorted(puzzle.clips.items())
        }
    return view


def puzzle_setup(puzzle: Puzzle, board: Board) -> dict:
    """Everything needed to rebuild the round: stored with it, read by `replay`."""
    from music import piece_to_dict

    return {
        "level": {"mode": puzzle.level.mode, "clips": puzzle.level.clips, "fixed": puzzle.level.fixed, "hidden": puzzle.level.hidden, "bars": puzzle.level.bars},
        "clips": {cid: {"piece": piece_to_dict(c.piece), "key": c.key, "hidden": c.hidden, "audio": c.audio} for cid, c in puzzle.clips.items()},
        "answer": list(puzzle.answer),
        "fixed": sorted(puzzle.fixed),
        "board": {"slots": list(board.slots), "tray": list(board.tray)},
    }


def from_setup(setup: dict) -> tuple[Puzzle, Board]:
    from music import piece_from_dict

    level = SortLevel(**setup["level"])
    clips = {cid: Clip(cid, piece_from_dict(c["piece"]), c["key"], c["hidden"], c.get("audio", "")) for cid, c in setup["clips"].items()}
    fixed = frozenset(setup["fixed"])
    puzzle = Puzzle(clips, tuple(setup["answer"]), fixed, level)
    return puzzle, Board(slots=tuple(setup["board"]["slots"]), tray=tuple(setup["board"]["tray"]), fixed=fixed)


def replay(setup: dict, moves: list[tuple[Move, float]]) -> SortScore:
    """Apply the stored moves (each with its seconds since the round began) to the stored setup;
    the score of the submitted board. Raises if the moves do not end in a submission."""
    puzzle, board = from_setup(setup)
    seconds = 0.0
    for move, at in moves:
        board = apply_move(puzzle, board, move)
        seconds = at
    if not board.submitted:
        raise ValueError("the stored moves do not end in a submission")
    return score_board(puzzle, board, seconds)


def melody_distance(a: Piece, b: Piece) -> float:
    """How far apart two clips of one length sound: per step, the semitones between the pitches
    sounding in both, plus 2 for each onset one has and the other not, plus 6 for each step
    that sounds in one and is silent in the other."""
    pitch_a, onset_a = _sounding(a)
    pitch_b, onset_b = _sounding(b)
    both = (pitch_a >= 0) & (pitch_b >= 0)
    return float(np.abs(pitch_a - pitch_b)[both].sum() + 2 * np.abs(onset_a - onset_b).sum() + 6 * ((pitch_a >= 0) != (pitch_b >= 0)).sum())


def _sounding(piece: Piece) -> tuple[np.ndarray, np.ndarray]:
    pitch, onset = np.full(piece.total_steps, -1), np.zeros(piece.total_steps)
    for note in piece.melody:
        pitch[note.start : min(note.end, piece.total_steps)] = note.pitch
        onset[note.start] = 1
    return pitch, onset


def is_steady_path(path: list[Piece]) -> bool:
    """A morph path moves steadily from A to B when its clips are all distinct and its order is
    the one shortest way from A to B through every clip (melody_distance, ends fixed): then the
    puzzle has exactly one right answer, and it is the one a listener following the smallest
    change at each step would choose. Checked against every order of the middle clips."""
    n = len(path)
    if len({content_key(p) for p in path}) != n:
        return False
    if n <= 3:
        return True
    distance = np.array([[melody_distance(a, b) for b in path] for a in path])
    orders = np.array(list(itertools.permutations(range(1, n - 1))))  # [k!, n-2], row 0 is the path itself
    lengths = distance[0, orders[:, 0]] + distance[orders[:, -1], n - 1] + distance[orders[:, :-1], orders[:, 1:]].sum(axis=1)
    return bool(lengths[0] < lengths[1:].min())
