"""What the composer's pool keeps ready. A request is a frozen dataclass naming a shape of
material; it knows how to make that with the composer (`compose(composer, seed)`, and where the
composer can do several at once, `compose_batch(composer, count, seed)`). Requests are pickled to
the composer's child processes; the models are imported there only. `depth_factor`: how many
times the pool's depth to keep ready (pieces that are cheap and much asked for, more)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from music import Piece


@dataclass(frozen=True)
class PieceRequest:
    """A whole fresh piece."""

    bars: int
    meter: str = "4/4"
    style: str = "irish"
    depth_factor: ClassVar[int] = 8

    def compose(self, composer, seed: int) -> tuple[Piece, ...]:
        return (composer.compose(bars=self.bars, meter=self.meter, style=self.style, seed=seed),)

    def compose_batch(self, composer, count: int, seed: int) -> list[tuple[Piece, ...]]:
        """`count` pieces in one batch: the melody model decodes a batch about seven times faster
        per piece."""
        return [(piece,) for piece in composer.compose_many(count, bars=self.bars, meter=self.meter, style=self.style, seed=seed)]
