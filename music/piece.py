"""The Piece: the one representation of music that every part of Melody Arcade shares.

Time is counted in steps on a 16th-note grid (4 steps per quarter note), so a bar of 4/4 has 16
steps, 3/4 and 6/8 have 12, 2/4 has 8. Pitches are MIDI numbers. A Piece is immutable and checks
itself on construction, so code that holds one never has to re-validate it.

Tracks:
- melody: monophonic notes (pitch, start, end, velocity), sorted, never overlapping;
- chords: one or more per bar (root pitch class, quality, start, end), sorted, never overlapping;
- drums: hits (step, drum class, velocity) in 9 classes.

A story's sections may change the tempo and the instruments on their first bar
(`tempo_changes`, `instrument_changes`: (bar, value) pairs after the first bar's `tempo` and
`instruments`), so a step's time is `seconds_at(step)`, never a product, and a note's sounds are
`instruments_at(its start)`.

A note may ring past the last bar (a tail kept when a piece is sliced, see slicing.py), but it
must start inside the piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from .instruments import Instruments

STEPS_PER_QUARTER = 4
MIN_TEMPO, MAX_TEMPO = 20, 400
MAX_BARS = 512

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Chord qualities as intervals above the root: the voicing written to MIDI and read back from it.
CHORD_INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
}


class DrumClass(str, Enum):
    """The 9 drum classes of MusicVAE's drum models, in their canonical order."""

    KICK = "kick"
    SNARE = "snare"
    CLOSED_HAT = "closed_hat"
    OPEN_HAT = "open_hat"
    LOW_TOM = "low_tom"
    MID_TOM = "mid_tom"
    HIGH_TOM = "high_tom"
    CRASH = "crash"
    RIDE = "ride"


DRUM_CLASSES: tuple[DrumClass, ...] = tuple(DrumClass)
DRUM_ORDER: dict[DrumClass, int] = {drum: i for i, drum in enumerate(DRUM_CLASSES)}  # a column of a pattern [T, 9]


class PieceError(ValueError):
    """A piece (or something meant to become one) breaks a rule; the message names the problem."""


@dataclass(frozen=True)
class Meter:
    """A time signature. Only meters whose bar is a whole number of 16th steps are allowed."""

    numerator: int
    denominator: int

    SUPPORTED = ((2, 4), (3, 4), (4, 4), (5, 4), (6, 8), (9, 8), (12, 8), (3, 8), (2, 2), (3, 2))

    def __post_init__(self) -> None:
        if (self.numerator, self.denominator) not in self.SUPPORTED:
            supported = ", ".join(f"{n}/{d}" for n, d in self.SUPPORTED)
            raise PieceError(f"unsupported meter {self.numerator}/{self.denominator} (supported: {supported})")

    @property
    def steps_per_bar(self) -> int:
        return self.numerator * 16 // self.denominator

    @property
    def beat_steps(self) -> int:
        """16th steps in one felt beat: a dotted quarter (6) in the compound meters (3/8, 6/8, 9/8,
        12/8, counted in threes of eighths), otherwise one note of the denominator. So 3/4 and 6/8,
        both 12-step bars, differ: three beats of 4 against two of 6."""
        if self.denominator == 8 and self.numerator % 3 == 0:
            return 6
        return 16 // self.denominator

    @classmethod
    def parse(cls, text: str) -> Meter:
        try:
            numerator, denominator = (int(part) for part in text.split("/"))
        except (ValueError, AttributeError):
            raise PieceError(f"meter must look like '4/4', got {text!r}") from None
        return cls(numerator, denominator)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class 0..11
    mode: str  # "major" | "minor"

    def __post_init__(self) -> None:
        if not (isinstance(self.tonic, int) and 0 <= self.tonic < 12):
            raise PieceError(f"key tonic must be a pitch class 0..11, got {self.tonic!r}")
        if self.mode not in ("major", "minor"):
            raise PieceError(f"key mode must be 'major' or 'minor', got {self.mode!r}")

    def scale(self) -> frozenset[int]:
        """Pitch classes of the major or natural-minor scale on the tonic."""
        steps = (0, 2, 4, 5, 7, 9, 11) if self.mode == "major" else (0, 2, 3, 5, 7, 8, 10)
        return frozenset((self.tonic + s) % 12 for s in steps)

    def __str__(self) -> str:
        return f"{PITCH_CLASS_NAMES[self.tonic]} {self.mode}"


@dataclass(frozen=True, order=True)
class Note:
    start: int
    end: int
    pitch: int
    velocity: int = 90


@dataclass(frozen=True, order=True)
class Chord:
    start: int
    end: int
    root: int  # pitch class 0..11
    quality: str = "maj"

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.root + i) % 12 for i in CHORD_INTERVALS[self.quality])


@dataclass(frozen=True)
class DrumHit:
    step: int
    drum: DrumClass
    velocity: int = 90

    def __post_init__(self) -> None:
        # Accept the class name as a string; store the enum.
        if not isinstance(self.drum, DrumClass):
            try:
                object.__setattr__(self, "drum", DrumClass(self.drum))
            except ValueError:
                raise PieceError(f"unknown drum class {self.drum!r}") from None

    def sort_key(self) -> tuple[int, int]:
        return self.step, DRUM_ORDER[self.drum]


@dataclass(frozen=True)
class Piece:
    tempo: int  # quarter notes per minute
    meter: Meter
    key: Key
    bars: int
    melody: tuple[Note, ...] = ()
    chords: tuple[Chord, ...] = ()
    drums: tuple[DrumHit, ...] = field(default=())
    instruments: Instruments = Instruments()  # the sounds it is played with (music/instruments.py)
    tempo_changes: tuple[tuple[int, int], ...] = ()  # (bar, tempo): from that bar on, at that tempo
    instrument_changes: tuple[tuple[int, Instruments], ...] = ()  # (bar, instruments): from that bar on, with those

    def __post_init__(self) -> None:
        object.__setattr__(self, "melody", tuple(self.melody))
        object.__setattr__(self, "chords", tuple(self.chords))
        object.__setattr__(self, "drums", tuple(sorted(self.drums, key=DrumHit.sort_key)))
        object.__setattr__(self, "tempo_changes", tuple(tuple(change) for change in self.tempo_changes))
        object.__setattr__(self, "instrument_changes", tuple(tuple(change) for change in self.instrument_changes))
        _check_piece(self)

    @property
    def steps_per_bar(self) -> int:
        return self.meter.steps_per_bar

    @property
    def total_steps(self) -> int:
        return self.bars * self.steps_per_bar

    @property
    def seconds_per_step(self) -> float:
        """At the first bar's tempo (the whole piece's, unless it has tempo changes)."""
        return 60.0 / (self.tempo * STEPS_PER_QUARTER)

    def tempo_spans(self) -> list[tuple[int, int]]:
        """(first step, tempo) of each stretch at one tempo, in order: [(0, tempo)] for most pieces."""
        return self._spans(self.tempo, self.tempo_changes)

    def tempo_at(self, bar: int) -> int:
        """The tempo bar `bar` is played at."""
        return _value_at(self.tempo_spans(), bar * self.steps_per_bar)

    def instrument_spans(self) -> list[tuple[int, Instruments]]:
        """(first step, instruments) of each stretch played with one set of sounds, in order."""
        return self._spans(self.instruments, self.instrument_changes)

    def instruments_at(self, step: int) -> Instruments:
        """The sounds of a note or hit that starts at `step`."""
        return _value_at(self.instrument_spans(), step)

    def _spans(self, first, changes: tuple) -> list:
        return [(0, first)] + [(bar * self.steps_per_bar, value) for bar, value in changes]

    def seconds_at(self, step: float) -> float:
        """When `step` sounds, in seconds from the piece's start (a step past the end counts at the
        last tempo: a note's tail may ring past the last bar)."""
        seconds, spans = 0.0, self.tempo_spans()
        for (start, tempo), (end, _) in zip(spans, spans[1:] + [(float("inf"), 0)]):
            seconds += (min(step, end) - start) * 60.0 / (tempo * STEPS_PER_QUARTER)
            if step <= end:
                break
        return seconds

    @property
    def duration_seconds(self) -> float:
        return self.seconds_at(self.total_steps)

    def transpose(self, semitones: int) -> Piece:
        """The same piece moved by `semitones`; drums stay where they are."""
        melody = tuple(replace(n, pitch=n.pitch + semitones) for n in self.melody)
        chords = tuple(replace(c, root=(c.root + semitones) % 12) for c in self.chords)
        key = Key((self.key.tonic + semitones) % 12, self.key.mode)
        return replace(self, melody=melody, chords=chords, key=key)

    def with_tempo(self, tempo: int) -> Piece:
        """The same notes at another tempo: steps stay, seconds change; tempo changes keep their
        ratio to the first tempo."""
        scaled = [(bar, min(MAX_TEMPO, max(MIN_TEMPO, round(t * tempo / self.tempo)))) for bar, t in self.tempo_changes]
        return replace(self, tempo=tempo, tempo_changes=changes_of([(0, tempo), *scaled]))  # two tempi clamped to one are no change


def _check_piece(piece: Piece) -> None:
    """Every rule a Piece keeps, with a message that names the offending item."""
    if not isinstance(piece.tempo, int) or isinstance(piece.tempo, bool):
        raise PieceError(f"tempo must be an integer (quarter notes per minute), got {piece.tempo!r}")
    if not MIN_TEMPO <= piece.tempo <= MAX_TEMPO:
        raise PieceError(f"tempo {piece.tempo} is out of range {MIN_TEMPO}..{MAX_TEMPO}")
    if not isinstance(piece.meter, Meter) or not isinstance(piece.key, Key):
        raise PieceError("meter and key must be Meter and Key values")
    if not isinstance(piece.instruments, Instruments):
        raise PieceError("instruments must be an Instruments value")
    if not isinstance(piece.bars, int) or not 1 <= piece.bars <= MAX_BARS:
        raise PieceError(f"bars must be an integer 1..{MAX_BARS}, got {piece.bars!r}")
    total = piece.total_steps
    _check_changes(piece, piece.tempo_changes, piece.tempo, "tempo", lambda tempo, i: _check_int(tempo, MIN_TEMPO, MAX_TEMPO, "tempo", "tempo change", i),
                   lambda bar, tempo: f"bar {bar} is already at {tempo}")
    _check_changes(piece, piece.instrument_changes, piece.instruments, "instrument", _check_instruments, lambda bar, _: f"bar {bar} already has these instruments")

    previous_end = 0
    for i, note in enumerate(piece.melody):
        _check_int(note.pitch, 0, 127, "pitch", "melody note", i)
        _check_int(note.velocity, 1, 127, "velocity", "melody note", i)
        _check_int(note.start, 0, total - 1, "start step", "melody note", i)
        _check_int(note.end, note.start + 1, None, "end step", "melody note", i)
        if note.start < previous_end:
            raise PieceError(f"melody note {i} starts at step {note.start}, before the previous note ends ({previous_end}): the melody must be monophonic and sorted")
        previous_end = note.end

    previous_end = 0
    for i, chord in enumerate(piece.chords):
        _check_int(chord.root, 0, 11, "root", "chord", i)
        if chord.quality not in CHORD_INTERVALS:
            raise PieceError(f"chord {i}: unknown quality {chord.quality!r} (known: {', '.join(CHORD_INTERVALS)})")
        _check_int(chord.start, 0, total - 1, "start step", "chord", i)
        _check_int(chord.end, chord.start + 1, None, "end step", "chord", i)
        if chord.start < previous_end:
            raise PieceError(f"chord {i} starts at step {chord.start}, before the previous chord ends ({previous_end})")
        previous_end = chord.end

    seen = set()
    for i, hit in enumerate(piece.drums):
        _check_int(hit.step, 0, total - 1, "step", "drum hit", i)
        _check_int(hit.velocity, 1, 127, "velocity", "drum hit", i)
        if (hit.step, hit.drum) in seen:
            raise PieceError(f"drum hit {i}: two {hit.drum.value} hits on step {hit.step}")
        seen.add((hit.step, hit.drum))


def _check_changes(piece: Piece, changes: tuple, first, kind: str, check_value, unchanged) -> None:
    """One way to write each map of changes: (bar, value) pairs, bars in order inside the piece,
    each value another than the one before (`first` from bar 0)."""
    previous_bar, previous = 0, first
    for i, change in enumerate(changes):
        if len(change) != 2:
            raise PieceError(f"{kind} change {i} must be (bar, {kind}), got {change!r}")
        check_value(change[1], i)
        _check_int(change[0], previous_bar + 1, piece.bars - 1, "bar", f"{kind} change", i)
        if change[1] == previous:
            raise PieceError(f"{kind} change {i}: {unchanged(change[0], previous)}")
        previous_bar, previous = change


def _check_instruments(value: object, i: int) -> None:
    if not isinstance(value, Instruments):
        raise PieceError(f"instrument change {i} must be (bar, Instruments), got {value!r}")


def changes_of(stretches: list[tuple[int, object]]) -> tuple:
    """(bar, value) of each stretch after the first whose value differs from the one before it."""
    return tuple((bar, value) for (bar, value), (_, before) in zip(stretches[1:], stretches) if value != before)


def _value_at(spans: list[tuple[int, object]], step: int):
    """The value of the last span that starts at or before `step`."""
    return [value for first, value in spans if first <= step][-1]


def _check_int(value: object, low: int, high: int | None, field: str, item: str, i: int) -> None:
    """`field` of `item` i (say the pitch of melody note 3) is an integer in low..high. The
    message is written only when it is not: a piece's every note and hit comes through here."""
    if type(value) is int and low <= value and (high is None or value <= high):
        return
    what = f"{item} {i}: {field}"
    if not isinstance(value, int) or isinstance(value, bool):
        raise PieceError(f"{what} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise PieceError(f"{what} {value} is out of range {bound}")


def accent(step: int, meter: Meter) -> int:
    """A velocity from metrical position: 100 on the downbeat, 88 on a beat, 76 off the beat."""
    return _velocity(step, meter.steps_per_bar, meter.beat_steps)


def _velocity(step: int, bar: int, beat: int) -> int:
    return 100 if step % bar == 0 else 88 if step % beat == 0 else 76


def accented_melody(rows, meter: Meter) -> tuple[Note, ...]:
    """(pitch, start, end) rows of ints (a note array's `tolist()`) as Notes, velocities by accent:
    a melody the composer wrote, as a Piece's."""
    bar, beat = meter.steps_per_bar, meter.beat_steps
    return tuple(Note(start=start, end=end, pitch=pitch, velocity=_velocity(start, bar, beat)) for pitch, start, end in rows)


def drum_hits(pattern, meter: Meter, crash: bool = False) -> tuple[DrumHit, ...]:
    """A multi-hot drum pattern (a numpy array [steps, 9], columns in DRUM_CLASSES order) as
    DrumHits in order, velocities by accent. `crash`: a crash on step 0 too, as a piece opens."""
    hits = set(zip(*(index.tolist() for index in pattern.nonzero())))  # (step, column)
    if crash:
        hits.add((0, DRUM_ORDER[DrumClass.CRASH]))
    bar, beat = meter.steps_per_bar, meter.beat_steps
    return tuple(DrumHit(step, DRUM_CLASSES[column], _velocity(step, bar, beat)) for step, column in sorted(hits))

