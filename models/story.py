"""Story mode, after MusicLM's: a list of sections, each with its own music and length, composed as
one piece that changes as it goes (jazz, then pop, then rock, ... then Scottish folk).

    section k   options o_k (models/options.py) and b_k bars (2..8); the story's meter is the first
                section's (one bar grid for the whole piece: a later section's meter is not used)
    key         o_k's, or drawn from the style's keys in its mood
    join        the section's melody is decoded after the last bar of the section before,
                re-expressed in the new key (MelodyComposer.join): where the key changes, those notes
                are the pivot the new key is entered through, and the line carries on from them
    latent      halfway (slerp) from the section before's to a fresh one, so neighbours share material
    melody      of CANDIDATES joins a try, the first with a note a bar that copies no 4 bars of a
                training tune (or by the section's density, the sparsest or busiest of
                DENSITY_CANDIDATES)
    chords      the harmonizer, in the section's key; drums: the section's style or groove, density
                (all sections' at once: models.composer.story_drums)
    tempo       o_k's, or the style's draw: each section keeps its own, and its instruments (a Sort
                story plays them so; `Story.joined` changes both on each section's first bar)
Only the last section closes as a tune does; the others run on into the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.random import default_rng

from music import Key, Meter, Piece, accented_melody, join_sections

from .composer import ATTEMPTS, CANDIDATES, DENSITY_CANDIDATES, TEMPERATURE, TEMPO_RANGE, Composer, by_density
from .options import MAX_SECTIONS, ComposerError, Section, section_starts


@dataclass(frozen=True)
class Story:
    sections: tuple[Section, ...]
    pieces: tuple[Piece, ...]  # one a section, each in its own key, tempo and instruments

    def starts(self) -> list[int]:
        """The bar each section starts on, in the joined piece."""
        return section_starts(self.pieces)

    def joined(self) -> Piece:
        """The sections end to end as one piece in the first section's key, each with its own notes,
        chords and drums, at its own tempo and with its own instruments (changes on its first bar)."""
        return join_sections(list(self.pieces))


def compose_story(composer: Composer, sections: list[Section] | tuple[Section, ...], seed: int | None = None, temperature: float = TEMPERATURE) -> Story:
    """The story's pieces, one a section, each joined to the one before (see the module's doc).
    The same sections and seed give the same story."""
    if not 1 <= len(sections) <= MAX_SECTIONS:
        raise ComposerError(f"a story has 1..{MAX_SECTIONS} sections, got {len(sections)}")
    rng = default_rng(seed)
    meter = sections[0].options.meter
    the_meter = Meter.parse(meter)
    steps = the_meter.steps_per_bar
    drums = composer.story_drums([(s.bars, s.options) for s in sections], the_meter, rng)  # first: a groove it cannot play is refused before any melody
    pieces: list[Piece] = []
    z_before, last_bar = None, np.zeros((0, 3), dtype=np.int64)
    for i, section in enumerate(sections):
        o = section.options
        key = composer.keys.draw(o.style, rng, mode=o.mood)
        key = Key(o.key if o.key is not None else key.tonic, key.mode)
        tempo = o.tempo if o.tempo is not None else int(rng.integers(TEMPO_RANGE[o.style][0], TEMPO_RANGE[o.style][1] + 1))
        count = DENSITY_CANDIDATES if o.density in ("sparse", "busy") else CANDIDATES
        for _ in range(ATTEMPTS):
            candidates, latents = composer.melody.join(last_bar, z_before, section.bars, meter, o.style, key.tonic, key.mode, count, rng,
                                                       ends_tune=i == len(sections) - 1, temperature=temperature)
            servable = [(m, z) for m, z in zip(candidates, latents) if composer.servable(m, section.bars, steps)]
            if servable:
                break
        else:
            raise ComposerError(f"section {i + 1}: no melody in {ATTEMPTS * count} candidates was both fresh and full")
        notes, z_before = by_density(servable, o.density, lambda pair: len(pair[0]))
        within = notes.copy()
        within[:, 2] = np.minimum(within[:, 2], section.bars * steps)
        melody = accented_melody(within.tolist(), the_meter)
        chords = tuple(composer.harmonizer.harmonize(melody, key, the_meter, section.bars))
        pieces.append(Piece(tempo=tempo, meter=the_meter, key=key, bars=section.bars, melody=melody, chords=chords, drums=drums[i], instruments=o.instruments))
        last_bar = notes[notes[:, 1] >= (section.bars - 1) * steps].copy()
        last_bar[:, 1:] -= (section.bars - 1) * steps
        last_bar[:, 2] = np.minimum(last_bar[:, 2], steps)
    return Story(tuple(sections), tuple(pieces))
