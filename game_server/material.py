"""What the composer's pool keeps ready. A request is a frozen dataclass naming a shape of
material; it knows how to make that with the composer (`compose(composer, seed)`, and where the
composer can do several at once, `compose_batch(composer, count, seed)`). Requests are pickled to
the composer's child processes; the models are imported there only (models.options imports none).
A request with a `seed` of its own (a player's choice) is composed from that seed. `depth_factor`: how many
times the pool's depth to keep ready (pieces that are cheap and much asked for, more)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from models.options import MusicOptions, Section
from music import Piece

SEED_BITS = 53  # a seed a page gets back in JSON is exact in a JavaScript number (2**53): it can ask for the same piece again


@dataclass(frozen=True)
class PieceRequest:
    """A whole fresh piece; with `options` (models/options.py), as a player chose it, composed
    when asked (never pooled: PiecePool keeps no queue for a steered request), from `seed` if one
    was chosen, so that the same choice gives the same piece."""

    bars: int
    meter: str = "4/4"
    style: str = "irish"
    options: MusicOptions | None = None
    seed: int | None = None
    depth_factor: ClassVar[int] = 8

    def compose(self, composer, seed: int) -> tuple[Piece, ...]:
        if self.options is not None:
            return (composer.compose_options(self.options, bars=self.bars, seed=seed),)
        return (composer.compose(bars=self.bars, meter=self.meter, style=self.style, seed=seed),)

    def compose_batch(self, composer, count: int, seed: int) -> list[tuple[Piece, ...]]:
        """`count` pieces in one batch: the melody model decodes a batch about seven times faster
        per piece."""
        return [(piece,) for piece in composer.compose_many(count, bars=self.bars, meter=self.meter, style=self.style, seed=seed)]


@dataclass(frozen=True)
class StoryRequest:
    """A story (models/story.py): one piece a section, each joined to the one before; composed
    when asked, from `seed` if one was chosen."""

    sections: tuple[Section, ...]
    seed: int | None = None

    def compose(self, composer, seed: int) -> tuple[Piece, ...]:
        from models.story import compose_story

        return compose_story(composer, self.sections, seed).pieces


@dataclass(frozen=True)
class TuneRequest:
    """A player's own tune, continued to `bars` bars or varied by `amount`, then arranged
    (Composer.own_tune); composed when asked, from `seed` if one was chosen."""

    tune: Piece
    how: str  # "continue" | "vary"
    bars: int
    amount: float
    options: MusicOptions
    seed: int | None = None

    def compose(self, composer, seed: int) -> tuple[Piece, ...]:
        return (composer.own_tune(self.tune, self.how, self.bars, self.amount, self.options, seed),)


@dataclass(frozen=True)
class RegenerateRequest:
    """A piece with the bars in `which` written anew and the rest kept (Composer.regenerate_bars)."""

    piece: Piece
    which: tuple[int, ...]
    style: str = "irish"
    seed: int | None = None

    def compose(self, composer, seed: int) -> tuple[Piece, ...]:
        return (composer.regenerate_bars(self.piece, list(self.which), self.style, seed),)
