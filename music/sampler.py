"""A piece played as the page's sampler plays it (web_client/src/audio.js), in numpy: every note
from the nearest grid sample of its program (music/note_samples.py), repitched, every drum hit
from its kit's sample, summed.

Why the server plays the page's sampler: a clip that is heard only (Sort's hidden clips, Beat
Hunt's target) is compared by ear with what the page plays, so it is made of the same samples,
voiced and mixed the same way. FluidSynth's whole render of the clip sounds the same (the page's
mix of an 8-bar piece is within 0.5 dB of it in level and 0.7 dB per third-octave band, of a
2-bar clip within 1.1 dB, bench/sounds.py) but is peak-normalised: a 2-bar clip would come out from 1 dB softer to 5 dB louder than its neighbours
on the page (bench/sounds.py); mixed from the samples, it is exactly as loud as they are.

What audio.js does, and this does too (change both together):
- the notes of the MIDI file (music/midi.py): the melody's own, the chords voiced from CHORD_BASE
  at CHORD_VELOCITY, the bass at BASS_BASE + root at BASS_VELOCITY, each held from its start to its end;
- a note sounds from the nearest grid sample played at 2^(semitones/12) its rate (read by linear
  interpolation, as Chromium's AudioBufferSourceNode), at gain (velocity / VELOCITY)² (FluidSynth's
  velocity curve); at its end it fades out linearly over RELEASE_SECONDS, or ends with its sample;
- a drum hit rings out its sample; the same drum's next hit cuts it (fading over RELEASE_SECONDS,
  as FluidSynth releases a voice struck again), and a closed hat cuts an open hat's;
- everything at PAGE_GAIN (the page's output included), at sampled.SAMPLE_RATE, mono; scaled down
  to a 0.98 peak where it would clip (as music/audio.py does: the page would clip there).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .midi import BASS_BASE, BASS_VELOCITY, CHORD_BASE, CHORD_VELOCITY
from .note_samples import VELOCITY, nearest_grid_note
from .piece import CHORD_INTERVALS, Piece
from .sampled import SAMPLE_RATE

RELEASE_SECONDS = 0.1  # audio.js's SAMPLE_RELEASE
PAGE_GAIN = 1.5  # audio.js's SAMPLED_GAIN times its output's 0.8: a piece peaks at 0.45-0.94, its level 2 dB under the page's synths
FADE_SECONDS = 0.01  # the end of a clip cut at its length

Job = tuple[str, int, int | str]  # ("program", program, grid note) or ("kit", kit, drum)


def notes(piece: Piece) -> list[tuple[int, int, float, float, int]]:
    """(program, MIDI pitch, start s, held s, velocity) of every pitched note the page plays."""
    at, sounds = piece.seconds_at, piece.instruments_at
    out = [(sounds(n.start).melody, n.pitch, at(n.start), at(n.end) - at(n.start), n.velocity) for n in piece.melody]
    for c in piece.chords:
        start, held, ins = at(c.start), at(c.end) - at(c.start), sounds(c.start)
        out += [(ins.chords, CHORD_BASE + c.root + i, start, held, CHORD_VELOCITY) for i in CHORD_INTERVALS[c.quality]]
        out.append((ins.bass, BASS_BASE + c.root, start, held, BASS_VELOCITY))
    return out


def needed(piece: Piece) -> set[Job]:
    """The samples the piece is played from (what the page's `prepare` loads for it)."""
    jobs: set[Job] = {("program", program, nearest_grid_note(pitch)) for program, pitch, *_ in notes(piece)}
    return jobs | {("kit", piece.instruments_at(hit.step).drums, hit.drum.value) for hit in piece.drums}


def repitched(sample: np.ndarray, semitones: int) -> np.ndarray:
    """The sample played at 2^(semitones/12) its rate, read by linear interpolation."""
    if semitones == 0:
        return sample
    at = np.arange(0, len(sample) - 1, 2 ** (semitones / 12))
    return np.interp(at, np.arange(len(sample)), sample).astype(np.float32)


def mix(piece: Piece, sample_of: Callable[[Job], np.ndarray], seconds: float | None = None) -> np.ndarray:
    """The piece as mono float32 at SAMPLE_RATE, `seconds` long (default: its own length, the
    last FADE_SECONDS faded so the cut does not click), `sample_of(job)` giving each sample."""
    rate = SAMPLE_RATE
    length = round((piece.duration_seconds if seconds is None else seconds) * rate)
    out = np.zeros(length + 1, dtype=np.float32)
    release = round(RELEASE_SECONDS * rate)

    def add(sound: np.ndarray, start: float, held: float | None, gain: float) -> None:
        at = round(start * rate)
        if held is not None and round(held * rate) < len(sound):
            stop = round(held * rate)
            sound = sound[: stop + release].copy()
            sound[stop:] *= np.linspace(1.0, 0.0, len(sound) - stop, dtype=np.float32)
        end = min(length, at + len(sound))
        if end > at:
            out[at:end] += gain * sound[: end - at]

    for program, pitch, start, held, velocity in notes(piece):
        grid = nearest_grid_note(pitch)
        add(repitched(sample_of(("program", program, grid)), pitch - grid), start, held, (velocity / VELOCITY) ** 2)
    hits = {}
    for hit in piece.drums:  # one hit per drum and step (the first), as the page plays them
        hits.setdefault((hit.step, hit.drum.value), hit.velocity)
    struck = sorted(hits.items())
    at = piece.seconds_at
    for i, ((step, drum), velocity) in enumerate(struck):
        cut = next((s for (s, d), _ in struck[i + 1 :] if s > step and (d == drum or (drum == "open_hat" and d == "closed_hat"))), None)
        add(sample_of(("kit", piece.instruments_at(step).drums, drum)), at(step), None if cut is None else at(cut) - at(step), (velocity / VELOCITY) ** 2)
    out = out[:length] * np.float32(PAGE_GAIN)
    fade = min(length, round(FADE_SECONDS * rate))
    if seconds is None and fade:
        out[length - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    peak = float(np.abs(out).max(initial=0.0))
    return out / np.float32(peak / 0.98) if peak > 0.98 else out
