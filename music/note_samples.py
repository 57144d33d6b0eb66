"""One note of a SoundFont instrument, or one hit of a drum kit, as a short mono sample: what the
page's sampler plays a piece with (web_client/src/audio.js), so that the page sounds like the
files the server renders (music/sampled.py), with the same SoundFont.

Each sample is rendered by music.sampled.render from a Piece of one note, so it is exactly what
the full render plays for that note (the program or kit selected the same way, the SoundFont's
reverb and chorus included). Two things are added around the note:

- Level. `render` peak-normalises what it renders, which would give every sample the same peak
  and lose the SoundFont's balance between instruments (a flute's sustain is far louder than a
  piano's decay at the same peak). So every render also plays the same reference first (a C
  major chord on the piano and a C on the finger bass, the chords and bass parts' MIDI velocities)
  and the note REFERENCE_GAP seconds later, when the reference has died away (to -90 dB): the
  note, divided by the reference's peak, is at the synth's own level whatever the normalisation
  did. LEVEL scales that so the loudest of the 128 programs and the kits' drums still fit under
  full scale (bench/sounds.py measures them).
- Length. A pitched note is held HOLD_SECONDS, then released; the sample ends where its release
  and reverb fall below -60 dB of its peak (at most RELEASE_SECONDS after the note-off), with a
  short fade. A drum rings out (General MIDI percussion gets no note-off), to at most
  DRUM_SECONDS. The page stops a sample where its note ends, so a note held longer than
  HOLD_SECONDS fades early: HOLD_SECONDS covers a bar of chords down to 96 quarter notes a minute.

Velocity: samples are rendered at VELOCITY (100). FluidSynth's default velocity curve makes a
note's amplitude grow as its velocity squared (bench/sounds.py: within 0.1 dB from 30 to 127), so
the page plays a note of velocity v at gain (v / VELOCITY) ** 2.

Pitch grid: a program is sampled at GRID_NOTES (every GRID_STEP semitones from LOWEST_NOTE to
HIGHEST_NOTE, docs/performance.md says why this density); the page repitches the nearest one,
at most one semitone away inside the grid. Mono: the page plays its samples without panning (half
the bytes of stereo); a heard-only clip is mixed from the same samples (music/sampler.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import sampled
from .instruments import DRUM_KITS, Instruments
from .piece import Chord, DrumClass, DrumHit, Key, Meter, Note, Piece

LOWEST_NOTE, HIGHEST_NOTE, GRID_STEP = 24, 96, 3  # C1 .. C7, every minor third: web_client/src/sample_grid.js agrees
GRID_NOTES: tuple[int, ...] = tuple(range(LOWEST_NOTE, HIGHEST_NOTE + 1, GRID_STEP))
DRUMS: tuple[str, ...] = tuple(drum.value for drum in DrumClass)
VELOCITY = 100
HOLD_SECONDS = 2.5
RELEASE_SECONDS = 1.5  # at most, after the note-off: a pad's or a choir's release and the reverb
DRUM_SECONDS = 4.0  # at most: a crash rings to -40 dB in ~4.2 s, to -60 dB in ~6.8 s
SILENT_DB = -60.0  # a sample ends where it stays this far below its peak
FADE_SECONDS = 0.02
LEVEL = 0.2  # the reference chord's peak in a sample's scale (bench/sounds.py: the loudest sample, Pad 8's top notes, peaks at 0.89)

TEMPO = 120  # the one-note pieces' tempo: a 16th step is 0.125 s
REFERENCE_STEPS = 4  # the reference chord lasts half a second
NOTE_STEP = 16  # the note starts 2 s in: the reference is 90 dB down by then
REFERENCE_GAP = NOTE_STEP * 60 / (4 * TEMPO)  # seconds
REFERENCE = Instruments(chords=0, bass=33)  # piano chord, finger bass: the same in every render


class NoSuchSound(ValueError):
    """A program, note, kit or drum that has no sample (the message says which)."""


def check(kind: str, number: int, which: int | str) -> None:
    """NoSuchSound unless ("program", program, note) or ("kit", kit, drum) is a sample there is."""
    if kind == "program":
        if not 0 <= number <= 127:
            raise NoSuchSound(f"a General MIDI program is 0..127, got {number}")
        if which not in GRID_NOTES:
            raise NoSuchSound(f"notes are sampled every {GRID_STEP} semitones from {LOWEST_NOTE} to {HIGHEST_NOTE}, not {which}")
    elif kind == "kit":
        if number not in DRUM_KITS:
            raise NoSuchSound(f"a drum kit is one of {', '.join(map(str, DRUM_KITS))}, got {number}")
        if which not in DRUMS:
            raise NoSuchSound(f"a drum is one of {', '.join(DRUMS)}, got {which!r}")
    else:
        raise NoSuchSound(f"no kind of sound {kind!r}")


def note_sample(program: int, note: int, soundfont: str | Path = sampled.SOUNDFONT) -> np.ndarray:
    """Program `program`'s note `note` (one of GRID_NOTES), held HOLD_SECONDS, as mono float32
    at sampled.SAMPLE_RATE. SynthUnavailable as music.sampled.render."""
    check("program", program, note)
    return rendered_note(program, note, soundfont)


def rendered_note(program: int, pitch: int, soundfont: str | Path = sampled.SOUNDFONT, velocity: int = VELOCITY) -> np.ndarray:
    """Any pitch and velocity as `note_sample` renders a grid note (bench/sounds.py compares them)."""
    held = round(HOLD_SECONDS * TEMPO * 4 / 60)
    melody = (Note(NOTE_STEP, NOTE_STEP + held, pitch, velocity),)
    return _around_reference(melody, (), Instruments(melody=program, chords=REFERENCE.chords, bass=REFERENCE.bass), HOLD_SECONDS + RELEASE_SECONDS, soundfont)


def drum_sample(kit: int, drum: str, soundfont: str | Path = sampled.SOUNDFONT) -> np.ndarray:
    """Kit `kit`'s `drum` (a DrumClass value), one hit ringing out, as `note_sample` gives a note."""
    check("kit", kit, drum)
    hit = (DrumHit(NOTE_STEP, drum, VELOCITY),)
    return _around_reference((), hit, Instruments(chords=REFERENCE.chords, bass=REFERENCE.bass, drums=kit), DRUM_SECONDS, soundfont)


def nearest_grid_note(pitch: int) -> int:
    """The grid note the page plays `pitch` from (the lower one of two as near; outside the grid, its end)."""
    step = (min(max(pitch, LOWEST_NOTE), HIGHEST_NOTE) - LOWEST_NOTE + (GRID_STEP - 1) // 2) // GRID_STEP
    return LOWEST_NOTE + step * GRID_STEP


def _around_reference(melody, drums, instruments: Instruments, longest: float, soundfont) -> np.ndarray:
    """Render the reference chord, then the note or hit REFERENCE_GAP later; the note's mono
    samples at the synth's own level (times LEVEL), trimmed where they fall silent."""
    rate = sampled.SAMPLE_RATE
    bars = -(-(NOTE_STEP + round(longest * TEMPO * 4 / 60)) // 16)  # the piece outlasts the sample: render's end fade never reaches it
    piece = Piece(tempo=TEMPO, meter=Meter(4, 4), key=Key(0, "major"), bars=bars, melody=melody, chords=(Chord(0, REFERENCE_STEPS, 0, "maj"),),
                  drums=drums, instruments=instruments)  # fmt: skip
    out = mono(sampled.render(piece, soundfont))
    gap = round(REFERENCE_GAP * rate)
    start = -(-gap // sampled.BLOCK) * sampled.BLOCK  # FluidSynth starts a note at the next block's edge
    reference = float(np.abs(out[:gap]).max())
    note = out[start : start + round(longest * rate)] * np.float32(LEVEL / reference)
    return trimmed(note, rate)


def mono(samples: np.ndarray) -> np.ndarray:
    """Stereo (frames, 2) as mono: the mean of the two channels."""
    return samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples


def trimmed(samples: np.ndarray, rate: int) -> np.ndarray:
    """Up to where the sound stays below SILENT_DB of its peak, the last FADE_SECONDS faded out."""
    level = np.abs(samples)
    loud = np.nonzero(level > level.max(initial=0.0) * 10 ** (SILENT_DB / 20))[0]
    fade = round(FADE_SECONDS * rate)
    end = min(len(samples), (int(loud[-1]) + 1 if len(loud) else 0) + fade)
    out = samples[:end].copy()
    tail = min(fade, end)
    out[end - tail :] *= np.linspace(1.0, 0.0, tail, dtype=np.float32)
    return out
