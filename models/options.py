"""What a player may choose of a piece, and nothing the models cannot honour (issue #23).

    style        the corpus collection the melody is written in (its model condition): essen
                 (German folk songs), irish, scottish, misc (English and American folk)
    mood         major or minor: the melody model's mode condition, and the key's mode
    tempo        quarter notes per minute, exactly
    meter        2/4, 3/4, 4/4 or 6/8, exactly
    key          the tonic's pitch class, exactly (the mode is the mood's, or the style's draw)
    density      sparse / normal / busy: of a few candidate melodies, the one with the fewest or
                 most notes; of a few drum grooves, the thinnest or the fullest
    groove       the drum style (the mma library's families: rock, jazz, dance, ...), where the
                 drum model has grooves of that style in the piece's meter
    instruments  General MIDI programs for melody, chords and bass, and a drum kit

Unset (None) means the style's own: its keys as its tunes are spread, its tempo range, its
grooves. This module imports no torch: the server validates a player's choice without the models.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

from music import Instruments, Key

from .encoding import STEPS_PER_BAR
from .grooves import STYLES as GROOVES

STYLES = ("essen", "irish", "scottish", "misc")  # the melody model's style ids, in this order
MODES = ("major", "minor")
METERS = tuple(STEPS_PER_BAR)  # the meters the composer writes
DENSITIES = ("sparse", "normal", "busy")
TEMPO_LIMITS = (40, 220)  # bpm a player may ask for: slower drags a 2-bar clip past 12 s, faster no one can run to
STYLE_NAMES = {"essen": "German folk song (Essen collection)", "irish": "Irish folk tune", "scottish": "Scottish folk tune", "misc": "English and American folk tune"}

__all__ = ["DENSITIES", "GROOVES", "METERS", "MODES", "STYLES", "STYLE_NAMES", "TEMPO_LIMITS", "ComposerError", "MusicOptions", "OptionsError", "Section"]
MIN_SECTION_BARS, MAX_SECTION_BARS = 2, 8  # a story's section (models/story.py)
MAX_SECTIONS = 8  # MusicLM's demo story has eight


class ComposerError(ValueError):
    """A request the composer refuses; the message says what is wrong. Defined here, without
    torch, so that the server process can catch it from the composer's processes."""


class OptionsError(ComposerError):
    """A choice outside what the composer knows; the message names it and lists what is known."""


@dataclass(frozen=True)
class MusicOptions:
    style: str = "irish"
    mood: str | None = None
    tempo: int | None = None
    meter: str = "4/4"
    key: int | None = None
    density: str | None = None
    groove: str | None = None
    instruments: Instruments = field(default_factory=Instruments)

    def __post_init__(self) -> None:
        for name, value, known in (("style", self.style, STYLES), ("meter", self.meter, METERS)):
            if value not in known:
                raise OptionsError(f"{name}: unknown {value!r} (known: {', '.join(known)})")
        for name, value, known in (("mood", self.mood, MODES), ("density", self.density, DENSITIES), ("groove", self.groove, GROOVES)):
            if value is not None and value not in known:
                raise OptionsError(f"{name}: unknown {value!r} (known: {', '.join(known)})")
        if self.tempo is not None and not (isinstance(self.tempo, int) and TEMPO_LIMITS[0] <= self.tempo <= TEMPO_LIMITS[1]):
            raise OptionsError(f"tempo: {self.tempo!r} is not a whole number of bpm in {TEMPO_LIMITS[0]}..{TEMPO_LIMITS[1]}")
        if self.key is not None and not (isinstance(self.key, int) and 0 <= self.key < 12):
            raise OptionsError(f"key: the tonic is a pitch class 0..11, got {self.key!r}")
        if not isinstance(self.instruments, Instruments):
            raise OptionsError("instruments must be an Instruments value")

    def fixed_key(self) -> Key | None:
        """The key when both its tonic and its mode are chosen (else the composer draws it)."""
        return Key(self.key, self.mood) if self.key is not None and self.mood is not None else None

    def as_dict(self) -> dict:
        """The stored and sent form: every field, instruments as {part: program}."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MusicOptions:
        return cls(**{**data, "instruments": Instruments(**data.get("instruments", {}))})


@dataclass(frozen=True)
class Section:
    """One section of a story (models/story.py): its name as the page shows it, its music, its length."""

    name: str
    options: MusicOptions
    bars: int

    def __post_init__(self) -> None:
        if not (isinstance(self.bars, int) and MIN_SECTION_BARS <= self.bars <= MAX_SECTION_BARS):
            raise OptionsError(f"a story's section has {MIN_SECTION_BARS}..{MAX_SECTION_BARS} bars, got {self.bars!r}")


def section_starts(sections) -> list[int]:
    """The bar each of a story's sections (anything with `bars`) starts on, the sections end to end."""
    return list(itertools.accumulate((s.bars for s in sections[:-1]), initial=0))
