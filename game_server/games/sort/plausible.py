"""Could a person have played this Sort round? Pure: a finished board in, a reason or None out.

As rhythm-game servers check a replay before it is ranked, a result is judged for being humanly
possible; one that is not is stored and shown to its players with the reason, but left off the
leaderboard. Only what the server itself counted is used (the listens it answered, the time it
measured), never anything the client says.

A hidden clip is sound only: to tell hidden clips apart a person must hear all of them but one
(the last can be told by elimination), one at a time, each for as long as it lasts. So a round
that puts *every* hidden clip in its right slot is flagged when

- fewer different hidden clips were listened to (`listen_clip`, counted by the server) than the
  hidden clips less one, or
- it was submitted sooner after the start than hearing that many hidden clips takes (the clip's
  length at the piece's tempo, times the hidden clips less one).

A round with fewer than two hidden clips, or with a hidden clip out of place, is never flagged:
guessing wrong is human, and one hidden clip among placed ones needs no hearing.
"""

from __future__ import annotations

from .rules import Board, Puzzle, SortScore


def implausible(puzzle: Puzzle, board: Board, score: SortScore) -> str | None:
    hidden_slots = [i for i, clip in enumerate(puzzle.answer) if puzzle.clips[clip].hidden and i not in puzzle.fixed]
    if len(hidden_slots) < 2 or not all(score.slots_right[i] for i in hidden_slots):
        return None
    needed = len(hidden_slots) - 1
    heard = len({clip for clip in board.heard if puzzle.clips[clip].hidden})
    if heard < needed:
        return f"every hidden clip placed right after hearing {heard} of the {len(hidden_slots)}: telling them apart takes hearing at least {needed}"
    seconds = needed * puzzle.clips[puzzle.answer[hidden_slots[0]]].piece.duration_seconds
    if score.seconds < seconds:
        return f"every hidden clip placed right {score.seconds:.1f} s after the start: hearing {needed} of them takes {seconds:.1f} s"
    return None
