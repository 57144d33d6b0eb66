"""One call composes a whole round's piece: melody + chords + bass + drums, as a Piece.

    key      drawn from the keys of the style's training tunes (models/keys.py), unless given
    form     which bars repeat an earlier bar, drawn from the openings of training tunes
             (models/forms.py): the model writes the new bars, the repeats are copies
    melody   MelodyComposer.sample: a few candidates decoded together; the first that copies no
             4-bar window of a training tune (transposition-invariant) and has at least one note
             per bar is kept. The composer never serves a piece that copies 4 bars or more.
    chords   the harmonizer (an HMM over triads learned from the Bach chorales, Viterbi-decoded)
    bass     the chord roots; written by the MIDI writer from the chord track
    drums    a 2-bar pattern from the drum VAE for the piece's meter and a drum style drawn from
             DRUM_STYLES (the melody style's table; the first of a few draws that is not near
             silence), a neighbour of it for the last two bars (a fill), a crash on the first
             downbeat
Everything draws from one numpy Generator seeded by `seed`, so a seed gives the same piece; with
no seed a fresh one is drawn from the OS.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.random import default_rng  # imported with the models: numpy loads it lazily, ~6 ms on the first piece

from music import Chord, DrumHit, Instruments, Key, Meter, Piece, accented_melody, drum_hits

from . import checkpoint
from .drums import DrumComposer
from .forms import Forms
from .keys import KeyDistribution
from .melody import MelodyComposer, check_request, to_key
from .metrics import BarWindowIndex
from .options import ComposerError, MusicOptions, OptionsError
from .threads import one_thread_each

TEMPERATURE = 1.0  # the sampling temperature served (with melody.TOP_P and CADENCE_TEMPERATURE)
MAX_COPIED_BARS = 3  # a candidate that copies 4 bars or more of a training tune is never served
# Melodies drawn a try, the first servable kept. One: a batch row costs about as much as a decode
# of its own (the recurrent matmul is per row), and a fresh draw is servable nearly always (2,400
# of 2,400 pieces of 8 and 16 bars, 448 of 448 story sections, every style and meter).
CANDIDATES = 1
DENSITY_CANDIDATES = 8  # candidates a sparse or busy melody is chosen from (by its number of notes)
MORPH_DENSITY = 3  # latent points decoded per clip of a morph path
ATTEMPTS = 6
GROOVE_DRAWS = 4  # drum patterns drawn for a piece's groove, the first full one (or by density) kept
TEMPO_RANGE = {"irish": (96, 132), "scottish": (80, 116), "essen": (84, 120), "misc": (88, 124)}
DRUM_METER = {"4/4": "4/4", "2/4": "4/4", "3/4": "3/4", "6/8": "6/8"}  # 2/4 pieces tile the 4/4 grid
# The drum styles (models/grooves.py) a melody style's pieces draw from, by drum meter, with
# weights. Every melody style has its own styles in each meter, so one seed gives each melody
# style different drums. A style the model never saw in that meter is skipped; a melody style
# not in this table takes DEFAULT_DRUM_STYLES.
#
# | melody style | 4/4 and 2/4                 | 3/4                  | 6/8                     |
# | ------------ | --------------------------- | -------------------- | ----------------------- |
# | irish        | folk 2, country 1           | country 1            | country 1, folk 1       |
# | scottish     | march 1                     | ballad 1             | march 1                 |
# | essen        | polka 1                     | waltz 1              | ballad 1                |
# | misc         | pop 1, rock 1, ballad 1     | jazz 1, latin 1      | blues 1, jazz 1, rock 1 |
# | (any other)  | pop 1, rock 1               | waltz 1              | ballad 1                |
DRUM_STYLES: dict[str, dict[str, tuple[tuple[str, int], ...]]] = {
    "irish": {"4/4": (("folk", 2), ("country", 1)), "3/4": (("country", 1),), "6/8": (("country", 1), ("folk", 1))},
    "scottish": {"4/4": (("march", 1),), "3/4": (("ballad", 1),), "6/8": (("march", 1),)},
    "essen": {"4/4": (("polka", 1),), "3/4": (("waltz", 1),), "6/8": (("ballad", 1),)},
    "misc": {"4/4": (("pop", 1), ("rock", 1), ("ballad", 1)), "3/4": (("jazz", 1), ("latin", 1)), "6/8": (("blues", 1), ("jazz", 1), ("rock", 1))},
}
DEFAULT_DRUM_STYLES = {"4/4": (("pop", 1), ("rock", 1)), "3/4": (("waltz", 1),), "6/8": (("ballad", 1),)}
MIN_DRUM_HITS = 4  # a 2-bar groove with fewer is near silence (1 in 10 for the thinnest styles): the next draw is served


@dataclass
class Composer:
    melody: MelodyComposer
    harmonizer: object  # models.harmonizer.Harmonizer
    drums: DrumComposer | None  # one model for every meter and drum style
    train_windows: BarWindowIndex
    forms: Forms
    keys: KeyDistribution

    @classmethod
    def load(cls, directory: Path = checkpoint.CHECKPOINT_DIR) -> Composer:
        from .harmonizer import Harmonizer

        one_thread_each()
        drums = DrumComposer.load(directory / "drums.pt") if (directory / "drums.pt").exists() else None
        return cls(
            melody=MelodyComposer.load(directory / "melody_vae.pt"),
            harmonizer=Harmonizer.load(directory / "harmonizer.json"),
            drums=drums,
            train_windows=BarWindowIndex.load(directory / "train_windows.npz"),
            forms=Forms.load(directory / "forms.json"),
            keys=KeyDistribution.load(directory / "keys.json"),
        )

    def compose(
        self,
        bars: int = 8,
        meter: str = "4/4",
        style: str = "irish",
        key: Key | None = None,
        tempo: int | None = None,
        temperature: float = TEMPERATURE,
        seed: int | None = None,
        *,
        mood: str | None = None,
        tonic: int | None = None,
        density: str | None = None,
        groove: str | None = None,
        instruments: Instruments | None = None,
    ) -> Piece:
        """`key` fixes tonic and mode; otherwise the key is drawn from the style's (in `mood`, on
        `tonic`, where given). `density`, `groove`, `instruments`: models/options.py."""
        check_request(bars, meter, style, temperature, key.mode if key else mood or "major")
        self.check_groove(meter, groove)
        rng = default_rng(seed)
        if key is None:
            key = self.keys.draw(style, rng, mode=mood)
            if tonic is not None:
                key = Key(tonic, key.mode)
        if tempo is None:
            low, high = TEMPO_RANGE[style]
            tempo = int(rng.integers(low, high + 1))
        the_meter = Meter.parse(meter)
        notes = self._fresh_melody(bars, meter, style, key, temperature, rng, density)
        melody = accented_melody(notes.tolist(), the_meter)
        chords = tuple(self.harmonizer.harmonize(melody, key, the_meter, bars))
        drums = self._drums_each([(bars, style, groove, density)], the_meter, rng)[0]
        return Piece(tempo=tempo, meter=the_meter, key=key, bars=bars, melody=melody, chords=chords, drums=drums, instruments=instruments or Instruments())

    def compose_options(self, options: MusicOptions, bars: int = 8, seed: int | None = None, temperature: float = TEMPERATURE) -> Piece:
        """A piece as a player chose it: the same options and seed give the same piece."""
        return self.compose(bars, options.meter, options.style, tempo=options.tempo, temperature=temperature, seed=seed, mood=options.mood,
                            tonic=options.key, density=options.density, groove=options.groove, instruments=options.instruments)

    def compose_many(self, count: int, bars: int = 8, meter: str = "4/4", style: str = "irish", temperature: float = TEMPERATURE, seed: int | None = None) -> list[Piece]:
        """`count` pieces at once: the melodies of a batch are decoded together, each row in its
        own piece's mode (and the drum grooves drawn together), which is how a pool refills
        fastest. Each piece has its own key and tempo."""
        check_request(bars, meter, style, temperature)
        rng = default_rng(seed)
        the_meter = Meter.parse(meter)
        keys = [self.keys.draw(style, rng) for _ in range(count)]
        melodies: list[np.ndarray | None] = [None] * count  # in C, each for its key's mode
        for _ in range(ATTEMPTS):
            todo = [i for i, notes in enumerate(melodies) if notes is None]
            if not todo:
                break
            forms = [self.forms.draw(bars, rng) for _ in todo]
            batch = self.melody.sample(bars, meter, style, 0, [keys[i].mode for i in todo], temperature, int(rng.integers(2**63)), count=len(todo), forms=forms)
            for i, notes in zip(todo, batch):
                if self.servable(notes, bars, the_meter.steps_per_bar):
                    melodies[i] = notes
        if (missing := sum(notes is None for notes in melodies)) > 0:
            raise ComposerError(f"{missing} of {count} melodies were not fresh and full in {ATTEMPTS} tries; try another seed")
        _, grooves = self._grooves(count, the_meter, style, rng)
        low, high = TEMPO_RANGE[style]
        pieces: list[Piece] = []
        for key, notes_in_c, groove in zip(keys, melodies, grooves):
            notes = to_key(notes_in_c, key.tonic)
            melody = accented_melody(notes.tolist(), the_meter)
            chords = tuple(self.harmonizer.harmonize(melody, key, the_meter, bars))
            drums = self._drum_hits(groove, None, bars, the_meter)
            pieces.append(Piece(tempo=int(rng.integers(low, high + 1)), meter=the_meter, key=key, bars=bars, melody=melody, chords=chords, drums=drums))
        return pieces

    def servable(self, notes: np.ndarray, bars: int, steps_per_bar: int) -> bool:
        """At least a note per bar on average, and no 4-bar window copied from a training tune."""
        return len(notes) >= bars and self.train_windows.longest_copied_bars(notes, steps_per_bar) <= MAX_COPIED_BARS

    def _fresh_melody(self, bars, meter, style, key, temperature, rng, density: str | None = None) -> np.ndarray:
        """The first servable candidate; for a `density` of sparse or busy, the servable one of a
        batch of DENSITY_CANDIDATES with the fewest or the most notes."""
        steps = Meter.parse(meter).steps_per_bar
        count = DENSITY_CANDIDATES if density in ("sparse", "busy") else CANDIDATES
        for _ in range(ATTEMPTS):
            seed = int(rng.integers(2**63))
            forms = [self.forms.draw(bars, rng) for _ in range(count)]
            servable = [notes for notes in self.melody.sample(bars, meter, style, key.tonic, key.mode, temperature, seed, count=count, forms=forms)
                        if self.servable(notes, bars, steps)]
            if servable:
                return by_density(servable, density, len)
        raise ComposerError(f"no melody in {ATTEMPTS * count} candidates was both fresh and full; try another seed")

    def _drum_choice(self, meter: Meter, style: str, seed: int, groove: str | None = None) -> tuple[str, str] | None:
        """(drum meter, drum style) for a piece, or None (no model, or a meter without drums).
        The style is drawn by DRUM_STYLES' weights, from the piece's drum seed (so the composer's
        own random stream is used as before), among the styles the model was trained on in that
        meter; if none of them, the meter's commonest."""
        drum_meter = DRUM_METER.get(str(meter))
        if self.drums is None or drum_meter is None:
            return None
        if groove is not None and self.has_groove(str(meter), groove):
            return drum_meter, groove
        table = DRUM_STYLES.get(style, DEFAULT_DRUM_STYLES)[drum_meter]
        choices = [(s, w) for s, w in table if s in self.drums.styles and self.drums.patterns_seen(drum_meter, s) > 0]
        if not choices:
            return drum_meter, max(self.drums.styles, key=lambda s: self.drums.patterns_seen(drum_meter, s))
        weights = np.array([w for _, w in choices], dtype=float)
        return drum_meter, choices[int(default_rng(seed).choice(len(choices), p=weights / weights.sum()))][0]

    def check_groove(self, meter: str, groove: str | None) -> None:
        """OptionsError for a groove the drum model never learnt in this meter."""
        if groove is not None and not self.has_groove(meter, groove):
            known = [g for g in (self.drums.styles if self.drums else ()) if self.has_groove(meter, g)]
            raise OptionsError(f"groove: the drum model learnt no {groove} grooves in {meter} (it has {', '.join(known) or 'none'})")

    def section_drums(self, bars: int, meter: Meter, options: MusicOptions, rng: np.random.Generator) -> tuple[DrumHit, ...]:
        """The drums of a piece with these options."""
        return self.story_drums([(bars, options)], meter, rng)[0]

    def story_drums(self, sections: list[tuple[int, MusicOptions]], meter: Meter, rng: np.random.Generator) -> list[tuple[DrumHit, ...]]:
        """The drums of each (bars, options) of a story in one meter: each its own groove (its
        style's, or the chosen one, by its density) and a neighbour of it as the fill, the drum
        model asked once for all the grooves and once for all the fills."""
        for _, options in sections:
            self.check_groove(str(meter), options.groove)
        return self._drums_each([(bars, o.style, o.groove, o.density) for bars, o in sections], meter, rng)

    def has_groove(self, meter: str, groove: str) -> bool:
        """Whether the drum model learnt grooves of this drum style in this meter."""
        drum_meter = DRUM_METER.get(meter)
        return self.drums is not None and drum_meter is not None and groove in self.drums.styles and self.drums.patterns_seen(drum_meter, groove) > 0

    def _grooves(self, count: int, meter: Meter, style: str, rng: np.random.Generator) -> tuple[tuple[str, str] | None, list[np.ndarray | None]]:
        """(drum meter, drum style) and `count` 2-bar drum patterns [T, 9] in it for the piece's
        meter and melody style, of a few draws the first full ones (None where there are no drums)."""
        seed = int(rng.integers(2**63))
        choice = self._drum_choice(meter, style, seed)
        if choice is None:
            return None, [None] * count
        # a quarter more than needed: near-silent draws are 1 in 10 in the thinnest styles
        return choice, fullest(self.drums.sample(*choice, seed=seed, count=count + count // 4 + 3), count)

    def _drums_each(self, asked: list[tuple[int, str, str | None, str | None]], meter: Meter, rng: np.random.Generator) -> list[tuple[DrumHit, ...]]:
        """For each (bars, melody style, groove, density): of GROOVE_DRAWS draws in its drum
        style, the first full one (sparse: the thinnest full one; busy: the fullest), and a
        neighbour of it as the fill unless the neighbour has lost half its hits."""
        seeds = [int(rng.integers(2**63)) for _ in asked]
        choices = [self._drum_choice(meter, style, seed, groove) for (_, style, groove, _), seed in zip(asked, seeds)]
        if choices[0] is None:  # one meter: drums for all, or for none
            return [()] * len(asked)
        drum_meter, styles = choices[0][0], [style for _, style in choices]
        drawn = self.drums.sample_each(drum_meter, styles, seeds, count=GROOVE_DRAWS)
        grooves = np.stack([by_drum_density(patterns, density) for patterns, (_, _, _, density) in zip(drawn, asked)])
        fills = self.drums.vary_each(grooves, drum_meter, styles, 0.6, [int(rng.integers(2**63)) for _ in asked])
        return [self._drum_hits(groove, fill if 2 * fill.sum() >= groove.sum() else None, bars, meter) for (bars, *_), groove, fill in zip(asked, grooves, fills)]

    @staticmethod
    def _drum_hits(groove: np.ndarray | None, fill: np.ndarray | None, bars: int, meter: Meter) -> tuple[DrumHit, ...]:
        """The groove repeated over the piece, its last two bars replaced by the fill (if any),
        a crash on the first downbeat."""
        if groove is None:
            return ()
        total = bars * meter.steps_per_bar
        tiled = np.concatenate([groove] * (-(-total // groove.shape[0])))[:total].copy()
        if fill is not None and total >= 2 * groove.shape[0]:
            tiled[total - groove.shape[0] :] = fill
        return drum_hits(tiled, meter, crash=True)

    def morph(self, n: int, meter: str = "4/4", style: str = "irish", seed: int | None = None, options: MusicOptions | None = None) -> list[Piece]:
        """A morph puzzle's path: two fresh 2-bar melodies in one key and tempo, and n clips of
        the interpolation between them, ends included (melody only, as Sornting's clips were).
        `options` (a player's): its meter, style, mood, key, tempo and melody instrument."""
        if options is not None:
            meter, style = options.meter, options.style
        rng = default_rng(seed)
        key = self.keys.draw(style, rng, mode=options.mood if options else None)
        if options is not None and options.key is not None:
            key = Key(options.key, key.mode)
        tempo = int(rng.integers(*TEMPO_RANGE[style]))
        if options is not None and options.tempo is not None:
            tempo = options.tempo
        ends = [self.compose(2, meter, style, key, tempo, seed=int(rng.integers(2**62))) for _ in range(2)]
        instruments = options.instruments if options is not None else Instruments()
        a, b = (Piece(tempo=tempo, meter=p.meter, key=key, bars=2, melody=p.melody, instruments=instruments) for p in ends)
        # Neighbouring latents often decode to the same melody, so walk a denser path, drop
        # repeats, and keep n clips evenly spread over what is left (fewer if too few differ).
        dense = self.interpolate(a, b, MORPH_DENSITY * n, style)
        distinct = [dense[0]] + [p for previous, p in zip(dense, dense[1:]) if p.melody != previous.melody]
        if len(distinct) < n:
            return distinct
        return [distinct[int(i)] for i in np.linspace(0, len(distinct) - 1, n).round()]

    # ---- piece-level forms of the melody model's other uses -------------------------------
    def interpolate(self, a: Piece, b: Piece, n: int, style: str = "irish") -> list[Piece]:
        """n pieces morphing from a to b (a and b exactly at the ends); melody only."""
        if a.meter != b.meter:
            raise ComposerError(f"cannot interpolate between meters {a.meter} and {b.meter}")
        if a.bars != b.bars:
            raise ComposerError(f"cannot interpolate between {a.bars} and {b.bars} bars")
        melodies = self.melody.interpolate(notes_of(a), notes_of(b), n, a.bars, str(a.meter), style, a.key.tonic, a.key.mode)
        middle = [piece_with_melody(a, m) for m in melodies[1:-1]]
        return [a, *middle, b]

    def vary(self, piece: Piece, amount: float, style: str = "irish", seed: int | None = None) -> Piece:
        notes = self.melody.vary(notes_of(piece), amount, piece.bars, str(piece.meter), style, piece.key.tonic, piece.key.mode, seed)
        return piece_with_melody(piece, notes)

    def arrange(self, melody_only: Piece, options: MusicOptions, rng: np.random.Generator) -> Piece:
        """A melody given chords (the harmonizer, in its key), bass and drums (the options' style,
        groove and density), on the options' instruments."""
        chords = tuple(self.harmonizer.harmonize(melody_only.melody, melody_only.key, melody_only.meter, melody_only.bars))
        drums = self.section_drums(melody_only.bars, melody_only.meter, options, rng)
        return replace(melody_only, chords=chords, drums=drums, instruments=options.instruments)

    def own_tune(self, tune: Piece, how: str, bars: int, amount: float, options: MusicOptions, seed: int | None = None) -> Piece:
        """A player's tune (MusicLM's melody input, Jukebox's continuation), arranged: `continue`
        it to `bars` bars (its own bars kept note for note) or `vary` it by `amount` (0: itself),
        in the options' style; then chords, bass and drums (`arrange`)."""
        rng = default_rng(seed)
        if how == "continue":
            melody = self.continue_piece(tune, bars, options.style, seed=int(rng.integers(2**62)))
        elif how == "vary":
            melody = self.vary(tune, amount, options.style, seed=int(rng.integers(2**62)))
        else:
            raise ComposerError(f"a tune is continued or varied, not {how!r}")
        return self.arrange(melody, options, rng)

    def regenerate_bars(self, piece: Piece, which: list[int], style: str = "irish", seed: int | None = None) -> Piece:
        """Boomy's "regenerate this part": the bars in `which` written anew, every other bar's
        melody, chords and drums kept as they were; the new bars harmonized where they stand."""
        notes = self.melody.regenerate(notes_of(piece), which, piece.bars, str(piece.meter), style, piece.key.tonic, piece.key.mode, seed)
        melody = piece_with_melody(piece, notes).melody
        fresh = self.harmonizer.harmonize(melody, piece.key, piece.meter, piece.bars)
        return replace(piece, melody=melody, chords=splice_chords(piece.chords, tuple(fresh), set(which), piece.steps_per_bar, piece.total_steps))

    def continue_piece(self, primer: Piece, bars: int, style: str = "irish", temperature: float = TEMPERATURE, seed: int | None = None) -> Piece:
        notes = self.melody.continue_melody(notes_of(primer), primer.bars, bars, str(primer.meter), style, primer.key.tonic, primer.key.mode, temperature, seed)
        longer = Piece(tempo=primer.tempo, meter=primer.meter, key=primer.key, bars=bars, instruments=primer.instruments)
        return piece_with_melody(longer, notes)


def splice_chords(kept: tuple[Chord, ...], fresh: tuple[Chord, ...], anew: set[int], steps_per_bar: int, total: int) -> tuple[Chord, ...]:
    """Chords step by step from `fresh` in the bars of `anew` and from `kept` elsewhere (a chord
    that crosses into a rewritten bar is cut there), merged back into chords."""
    by_step: list[tuple[bool, int] | None] = [None] * total  # step -> (from fresh, index there)
    for chords, inside in ((kept, False), (fresh, True)):
        for i, c in enumerate(chords):
            for step in range(c.start, min(c.end, total)):
                if (step // steps_per_bar in anew) == inside:
                    by_step[step] = (inside, i)
    out: list[Chord] = []
    previous = None
    for step, source in enumerate(by_step):
        if source is not None and source == previous:
            out[-1] = replace(out[-1], end=step + 1)
        elif source is not None:
            c = (fresh if source[0] else kept)[source[1]]
            out.append(Chord(start=step, end=step + 1, root=c.root, quality=c.quality))
        previous = source
    return tuple(out)


def by_density(candidates: list, density: str | None, size):
    """Of servable candidates (in the order drawn), the one a density asks for: the first
    (normal, or none chosen), or the one with the fewest or the most notes (`size`)."""
    if density == "sparse":
        return min(candidates, key=size)
    if density == "busy":
        return max(candidates, key=size)
    return candidates[0]


def by_drum_density(patterns: np.ndarray, density: str | None) -> np.ndarray:
    """Of drawn patterns: the first full one; sparse: the thinnest full one; busy: the fullest."""
    if density == "busy":
        return max(patterns, key=lambda p: int(p.sum()))
    if density == "sparse":
        return min(patterns, key=lambda p: int(p.sum()) if p.sum() >= MIN_DRUM_HITS else np.inf)
    return fullest(patterns, 1)[0]


def fullest(patterns: np.ndarray, count: int) -> list[np.ndarray]:
    """The first `count` drum patterns with MIN_DRUM_HITS hits or more, in order; sparser ones
    only if too few are full."""
    order = sorted(range(len(patterns)), key=lambda i: bool(patterns[i].sum() < MIN_DRUM_HITS))
    return [patterns[i] for i in order[:count]]


def notes_of(piece: Piece) -> np.ndarray:
    return np.array([(n.pitch, n.start, n.end) for n in piece.melody], dtype=np.int64).reshape(-1, 3)


def piece_with_melody(piece: Piece, notes: np.ndarray) -> Piece:
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    melody = accented_melody(notes[notes[:, 1] < piece.total_steps].tolist(), piece.meter)
    return Piece(tempo=piece.tempo, meter=piece.meter, key=piece.key, bars=piece.bars, melody=melody, instruments=piece.instruments)




@lru_cache(maxsize=2)
def default_composer(directory: Path = checkpoint.CHECKPOINT_DIR) -> Composer:
    """The checkpoints in `directory` (the committed ones by default), loaded once per process."""
    return Composer.load(directory)
