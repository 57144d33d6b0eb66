"""What Run asks of the composer: pieces for a rung of the ladder, proven playable."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from models.options import MusicOptions, Section
from music import Piece

from . import rules

RUN_DRAWS = 40
# Levels a batch proves at most: a proof costs 0.3-0.9 s of CPU, and a start waiting for a level
# gets it only when its whole batch is back.
RUN_BATCH = 2


@dataclass(frozen=True)
class RunRequest:
    """A piece for rung `level` of the Run ladder, at the rung's tempo, proven playable (a level
    the human model cannot finish is recomposed). With `options` (a player's choice, composed
    when asked, from `seed` where chosen): the rung's length, lanes and checks, the player's music,
    at the player's tempo where one was chosen."""

    level: int
    options: MusicOptions | None = None
    seed: int | None = None
    story: tuple[Section, ...] | None = None  # a story level: its sections end to end (Story.joined), the first one's tempo
    piece: Piece | None = None  # the player's own piece, at its own tempo, if a person can finish it
    depth_factor: ClassVar[int] = 4
    slow: ClassVar[bool] = True  # proving takes a person's tries on every lane: its own line (PiecePool)

    def compose(self, composer, seed: int) -> tuple[Piece, ...]:
        spec = rules.LADDER[self.level]
        draws = random.Random(seed)
        if self.piece is not None:
            return (rules.first_playable([self.piece], spec, self.piece.tempo),)
        if self.story is not None:
            from models.story import compose_story

            candidates = (compose_story(composer, self.story, draws.getrandbits(62)).joined() for _ in range(RUN_DRAWS))
            return (rules.first_playable(candidates, spec, self.story[0].options.tempo),)
        if self.options is None:
            candidates = (composer.compose(bars=spec.bars, meter="4/4", style=spec.style, seed=draws.getrandbits(62)) for _ in range(RUN_DRAWS))
            return (rules.first_playable(candidates, spec),)
        candidates = (composer.compose_options(self.options, bars=spec.bars, seed=draws.getrandbits(62)) for _ in range(RUN_DRAWS))
        return (rules.first_playable(candidates, spec, self.options.tempo),)

    def compose_batch(self, composer, count: int, seed: int) -> list[tuple[Piece, ...]]:
        """Up to RUN_BATCH levels. Extra candidates are drawn for those that fail the rung's
        density, leap or playability checks (drawing is cheap; the proofs stop at `count`); the
        batch may come back short, and the pool asks again."""
        spec = rules.LADDER[self.level]
        count = min(count, RUN_BATCH)
        drawn = composer.compose_many(count * (8 if spec.min_notes_per_bar else 5), bars=spec.bars, meter="4/4", style=spec.style, seed=seed)
        levels = []
        for piece in drawn:  # proven one by one, and no more than needed
            if (level := rules.for_rung(piece, spec)) is not None:
                levels.append((level,))
                if len(levels) == count:
                    break
        return levels
