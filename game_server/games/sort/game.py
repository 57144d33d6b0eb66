"""Sort on the one game interface: a round from a piece (or a morph path) in the pool, the board
each seat sees, and the one move event, `sort_move`. The rules are `rules.py`'s."""

from __future__ import annotations

import hmac
import json
import random
import secrets
import time
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import Field

from music import Piece, piece_from_dict, piece_to_dict, piece_to_json, slice_piece

from ...material import SEED_BITS, PieceRequest, StoryRequest
from ...protocol import ProtocolError, Strict
from ..base import Checked, Game, Move, Outcome, Result, RoundState, Started, Table, heard_only_path, levels_for_people, new_round_id
from . import rules
from .material import MorphRequest
from .plausible import implausible


class SortMoveBody(Strict):
    kind: Literal["place", "swap", "take_back", "listen_clip", "listen_board", "submit"]
    clip: str | None = Field(default=None, max_length=32)
    slot: int | None = Field(default=None, ge=0, le=63)
    other: int | None = Field(default=None, ge=0, le=63)


class SortMove(Strict):
    round_id: str = Field(max_length=40)
    seq: int = Field(ge=1, le=2**31)
    version: int = Field(ge=0, le=2**31)
    move: SortMoveBody


@dataclass(kw_only=True)
class SortRound(RoundState):
    puzzle: rules.Puzzle  # the secret: the clips and the right order
    board: rules.Board  # what both seats see


def sort_move(state: SortRound, p: SortMove, player: str, coop: bool) -> Checked:
    move = rules.Move(p.move.kind, p.move.clip, p.move.slot, p.move.other)
    if move.kind not in ("listen_clip", "listen_board") and p.version != state.board.version:
        raise ProtocolError("stale_board", f"the board is at version {state.board.version}", board=rules.public_board(state.puzzle, state.board, with_clips=False))
    try:
        board = rules.apply_move(state.puzzle, state.board, move)
    except rules.MoveRefused as exc:
        raise ProtocolError(exc.code, exc.reason) from None
    detail = p.move.model_dump(exclude_none=True)

    def apply() -> Outcome:
        state.board = board
        public = rules.public_board(state.puzzle, board, with_clips=False)
        reply: dict = {"board": public}
        if move.kind == "listen_clip":
            reply["clip"] = heard_clip(state, state.puzzle.clips[move.clip])
        # for the partner's screen: the mover has the board in the reply
        events = [("board", {"round_id": state.round_id, "board": public, "by": player, "move": move.kind, "detail": detail}, False)]
        result = None
        if board.submitted:
            seconds = round(time.time() - state.started, 3)
            score = rules.score_board(state.puzzle, board, seconds)
            public_result = {"round_id": state.round_id, "score": score.score, "details": score.__dict__, "answer": list(state.puzzle.answer),
                             "revealed": {c.clip_id: piece_to_dict(c.piece) for c in state.puzzle.clips.values() if c.hidden}}
            result = Result(score.score, public_result, score.__dict__, "submitted", implausible(state.puzzle, board, score))
        return Outcome(reply, events, result)

    return Checked(p.move.model_dump(), apply)


def own_clips(piece: Piece, level: rules.SortLevel) -> list[Piece]:
    """A player's own piece cut as the rung cuts: into as many clips as the rung has, or the
    nearest number that divides its bars (slices); into 2-bar steps (morph)."""
    if level.mode == "slices":
        count = min((n for n in range(2, piece.bars + 1) if piece.bars % n == 0), key=lambda n: abs(n - level.clips))
    else:
        count = piece.bars // 2
    if count < (2 if level.mode == "slices" else 3):
        raise ProtocolError("bad_piece", f"a {piece.bars}-bar piece is too short to put in order on this ladder")
    return slice_piece(piece, parts=count) if piece.bars % count == 0 else slice_piece(piece, cuts=list(range(2, 2 * count, 2)))[:count]


def heard_clip(state: SortRound, clip: rules.Clip) -> dict:
    """The listen reply's clip: a visible clip's notes; a hidden clip's sound only, as the address
    of a WAV (the player's ears, not a script, tell it from the others) and its length."""
    if not clip.hidden:
        return {"id": clip.clip_id, "hidden": False, "piece": piece_to_dict(clip.piece)}
    return {"id": clip.clip_id, "hidden": True, "audio": heard_only_path(state.round_id, clip.audio), "seconds": round(clip.piece.duration_seconds, 3)}


class Sort(Game):
    name = "sort"
    title = "Sort"
    default_ladder = "slices"
    moves = {"sort_move": Move(SortMove, sort_move)}
    unchanging = (rules.Puzzle,)
    steered = True

    def ladders(self) -> dict[str, list]:
        return dict(rules.LADDERS)

    def materials(self) -> list:
        return [PieceRequest(bars=8), PieceRequest(bars=16), MorphRequest(n=5), MorphRequest(n=7), MorphRequest(n=10)]

    def start(self, table: Table, rung: int, options) -> Started:
        """A round on the pool's music; or on the host's choice (`music`), a story (its sections
        are the clips) or the player's own piece (cut as the rung cuts), each put in order the
        rung's way: slices deranged, a morph path with its ends fixed."""
        level = rules.LADDERS[table.ladder][rung]
        music, story, own, extra, kind = options.music, options.story, options.own_piece(), {}, ""
        if own is not None:
            clips = own_clips(own, level)
            level, seed, parts, kind = replace(level, clips=len(clips), bars=own.bars), secrets.randbits(SEED_BITS), clips, "-own"
            stored = piece_to_json(own)
        elif story is not None:
            sections, heard = story.story()
            least = 3 if level.mode == "slices" else 4  # a morph puzzle fixes both ends
            if len(sections) < least:
                raise ProtocolError("story_too_short", f"a story on this ladder needs {least} sections or more to put in order")
            composed = table.take(StoryRequest(sections, story.seed))
            level, seed, parts, kind, extra = replace(level, clips=len(sections), bars=max(s.bars for s in sections)), composed.seed, list(composed.pieces), "-story", {"story": heard}
            stored = json.dumps([json.loads(piece_to_json(p)) for p in parts])
        elif level.mode == "slices":
            composed = table.take(PieceRequest(bars=level.bars) if music is None else PieceRequest(level.bars, options=music.options(), seed=music.seed))
            seed, parts, stored = composed.seed, slice_piece(composed.pieces[0], parts=level.clips), piece_to_json(composed.pieces[0])
        else:
            composed = table.take(MorphRequest(n=level.clips) if music is None else MorphRequest(level.clips, options=music.options(), seed=music.seed))
            seed, parts = composed.seed, list(composed.pieces)
            stored = json.dumps([json.loads(piece_to_json(p)) for p in parts])
        try:
            puzzle, board = (rules.ordered_puzzle if level.mode == "slices" else rules.morph_puzzle)(parts, level, random.Random(seed))
        except ValueError:  # two clips alike (a story's sections, a player's bars): no single right order
            raise ProtocolError("not_orderable", "two clips of this music sound the same: there is no single right order") from None
        state = SortRound(new_round_id(), f"{table.ladder}-{rung}{kind}", table.players, table.names, time.time(), puzzle=puzzle, board=board)
        return Started(state, seed, stored, {**rules.puzzle_setup(puzzle, board), **extra})

    def heard_only(self, setup: dict, token: str) -> Piece | None:
        """The hidden clip of a stored round whose sound address has this token."""
        for clip in setup["clips"].values():
            if clip.get("audio") and hmac.compare_digest(clip["audio"], token):
                return piece_from_dict(clip["piece"])
        return None

    def view(self, state: SortRound) -> dict:
        return {"round_id": state.round_id, "game": self.name, "level": state.level_name, "board": rules.public_board(state.puzzle, state.board), "result": state.result}

    def catalog(self) -> dict:
        ladders = sorted(rules.LADDERS.items(), key=lambda item: item[0] != self.default_ladder)  # the first ladder first
        return {"game": self.name, "name": self.title, "ladders": [
            {"ladder": name, "name": LADDER_NAMES[name], "levels": levels_for_people(ladder, level_title, level_changes)} for name, ladder in ladders
        ]}


LADDER_NAMES = {"slices": "Slices", "morph": "Morph"}


def level_title(level: rules.SortLevel) -> str:
    if level.mode == "slices":
        hidden = f", {level.hidden} heard only" if level.hidden else ""
        return f"{level.clips} clips, {level.bars} bars{hidden}"
    fixed = f", {level.fixed} fixed in the middle" if level.fixed else ""
    hidden = ", listen only (no notes shown)" if level.hidden == "all" else ""
    return f"{level.clips} steps from one tune to another{fixed}{hidden}"


def level_changes(before: rules.SortLevel, level: rules.SortLevel) -> list[str]:
    changes = []
    if level.clips != before.clips:
        changes.append(f"{level.clips} clips instead of {before.clips}")
    if level.bars != before.bars and level.mode == "slices":
        changes.append(f"{level.bars} bars instead of {before.bars}")
    if level.fixed != before.fixed:
        changes.append(f"{level.fixed} fixed in the middle instead of {before.fixed}")
    if level.hidden != before.hidden:
        changes.append("every option heard only" if level.hidden == "all" else f"{level.hidden} clips heard only, no notes shown")
    return changes


GAME = Sort()
