"""What Sort asks of the composer besides whole pieces: morph paths."""

from __future__ import annotations

import random
from dataclasses import dataclass

from models.options import MusicOptions
from music import Piece

from .rules import is_steady_path

MORPH_DRAWS = 40


@dataclass(frozen=True)
class MorphRequest:
    """A morph path of n clips (2 bars each) from one fresh melody to another, steady enough to
    have one right order."""

    n: int
    meter: str = "4/4"
    style: str = "irish"
    options: MusicOptions | None = None  # a player's choice (its meter and style, not these); composed when asked
    seed: int | None = None

    def compose(self, composer, seed: int) -> tuple[Piece, ...]:
        draws = random.Random(seed)
        for _ in range(MORPH_DRAWS):  # a path that is not steady has no single right order: redraw
            path = composer.morph(self.n, self.meter, self.style, seed=draws.getrandbits(62), options=self.options)
            if len(path) == self.n and is_steady_path(path):
                return tuple(path)
        raise RuntimeError(f"no steady morph path of {self.n} clips in {MORPH_DRAWS} draws")
