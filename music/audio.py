"""A Piece as sound: mono PCM and WAV, rendered with numpy alone.

Why the server renders audio at all: a Sort clip that is *heard only* must reach the player as
sound, never as notes (notes a script reads; sound it has to listen to). So the server plays the
clip the way the page would and sends the samples.

The instruments follow the page's (web_client/src/audio.js, Tone.js), so a hidden clip sounds
like its visible neighbours:

- melody: a triangle wave (odd harmonics at 1/k², band-limited below Nyquist), attack 5 ms,
  decay 120 ms to 0.35, release 150 ms, at full level times the note's velocity;
- chords: sine voices an octave above middle C's octave (root 60 + pitch class + interval),
  attack 20 ms, decay 300 ms to 0.4, release 400 ms, at -14 dB, velocity 0.6;
- bass: the chord's root two octaves lower (36 + pitch class), a square wave (odd harmonics at
  1/k) through a 12 dB/octave low-pass at 600 Hz, attack 10 ms, decay 200 ms to 0.5, release
  200 ms, at -16 dB, velocity 0.7;
- drums: kick and toms as a sine swept down from ten times its pitch (C1, G2) in 50 and 20 ms,
  snare as a 150 ms burst of noise, hats and cymbals as 50 ms of high noise; at -8, -16, -18 and
  -30 dB as the page has them.

Everything goes through the page's output gain (0.8); a clip whose peak would clip is scaled
down to fit. Notes last 95 % of their steps (at least 50 ms), as the page plays them. The result
is exactly the piece's length (`Piece.duration_seconds`): a note that rings past the last bar is
cut, with a 10 ms fade so that the cut does not click. Noise comes from fixed seeds: the same
piece renders to the same samples.
"""

from __future__ import annotations

import functools
import io
import wave

import numpy as np

from .piece import CHORD_INTERVALS, DrumClass, Piece

SAMPLE_RATE = 22_050  # Hz: clean up to 11 kHz, which is all these instruments have; half of CD's bytes
OUTPUT_GAIN = 0.8
FADE_SECONDS = 0.01
NOTE_SHARE, MIN_NOTE_SECONDS = 0.95, 0.05


def db(value: float) -> float:
    return 10 ** (value / 20)


def hz(pitch: float) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def envelope(held: float, attack: float, decay: float, sustain: float, release: float, rate: int) -> np.ndarray:
    """Tone.js's ADSR: a linear attack, an exponential fall to `sustain` over about `decay`, held
    until `held` seconds, then an exponential release over about `release`."""
    t = np.arange(int((held + release) * rate)) / rate
    level = np.where(t < attack, t / attack, sustain + (1 - sustain) * np.exp(-(t - attack) * 5 / decay))
    at_release = sustain + (1 - sustain) * np.exp(-max(held - attack, 0) * 5 / decay) if held > attack else held / attack
    return np.where(t < held, level, at_release * np.exp(-(t - held) * 5 / release))


TABLE = 2048  # samples in one period of a wavetable
BASS_CUTOFF = 600.0  # Hz
WEIGHTS = {  # a wave's odd harmonic k (at f Hz) has this amplitude
    "triangle": lambda k, f: (8 / np.pi**2) * (-1) ** ((k - 1) // 2) / k**2,
    "bass": lambda k, f: (4 / np.pi) / k / np.sqrt(1 + (f / BASS_CUTOFF) ** 4),  # a square through a 12 dB/octave low-pass
}


@functools.lru_cache(maxsize=256)
def wavetable(shape: str, freq: float, rate: int) -> np.ndarray:
    """One period of `shape` at `freq`: its odd harmonics below Nyquist (so nothing aliases)."""
    period = np.arange(TABLE + 1) / TABLE * 2 * np.pi
    table = np.zeros(TABLE + 1)
    k = 1
    while k * freq < rate / 2:
        table += WEIGHTS[shape](k, k * freq) * np.sin(k * period)
        k += 2
    return table


def oscillator(shape: str, freq: float, t: np.ndarray, rate: int) -> np.ndarray:
    """The wave at times `t`, read from its table at the phase (a sine per harmonic per sample
    would cost ten times as much)."""
    if shape == "sine":
        return np.sin(2 * np.pi * freq * t)
    return np.interp((freq * t) % 1.0 * TABLE, np.arange(TABLE + 1), wavetable(shape, freq, rate))


class Mix:
    """A buffer sounds are added into at times in seconds; longer than the piece, for tails."""

    def __init__(self, seconds: float, rate: int):
        self.rate = rate
        self.samples = np.zeros(int(seconds * rate) + 1)

    def add(self, at: float, sound: np.ndarray) -> None:
        start = int(round(at * self.rate))
        end = min(len(self.samples), start + len(sound))
        if end > start:
            self.samples[start:end] += sound[: end - start]


def _tone(shape: str, freq: float, held: float, adsr: tuple[float, float, float, float], level: float, rate: int) -> np.ndarray:
    amplitude = envelope(held, *adsr, rate)
    t = np.arange(len(amplitude)) / rate
    return level * amplitude * oscillator(shape, freq, t, rate)


@functools.lru_cache(maxsize=16)
def _membrane(freq: float, sweep: float, rate: int) -> np.ndarray:
    """Tone's MembraneSynth: a sine from ten times `freq` down to it in `sweep` seconds, decay 0.4 s."""
    t = np.arange(int(0.5 * rate)) / rate
    inst = freq * np.where(t < sweep, 10 ** (1 - t / sweep), 1.0)
    phase = 2 * np.pi * np.cumsum(inst) / rate
    return np.exp(-t * 5 / 0.4) * np.sin(phase)


@functools.lru_cache(maxsize=16)
def _noise(seconds: float, rate: int, high: bool = False) -> np.ndarray:
    """A burst of noise from a fixed seed (the same piece renders to the same samples)."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(int(seconds * 1000)).standard_normal(len(t)) * 0.5
    if high:  # hats: only the top of the spectrum (a first difference is a gentle high-pass)
        noise = np.diff(noise, prepend=0.0)
    return np.exp(-t * 5 / seconds) * noise


DRUM_VOICE = {DrumClass.KICK: "kick", DrumClass.SNARE: "snare", DrumClass.LOW_TOM: "tom", DrumClass.MID_TOM: "tom", DrumClass.HIGH_TOM: "tom"}  # else "hat"


def _drum(voice: str, level: float, rate: int) -> np.ndarray:
    """The page's four drum voices (hats, ride and crash share the one metal voice)."""
    if voice == "kick":
        return level * db(-8) * _membrane(hz(24), 0.05, rate)  # C1
    if voice == "tom":
        return level * db(-16) * _membrane(hz(43), 0.02, rate)  # G2
    if voice == "snare":
        return level * db(-18) * _noise(0.15, rate)
    return level * db(-30) * 0.6 * _noise(0.05, rate, high=True)


def render(piece: Piece, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The piece as float samples in [-1, 1], `piece.duration_seconds` long."""
    sps = piece.seconds_per_step
    length = round(piece.duration_seconds * rate)
    mix = Mix(piece.duration_seconds + 2.0, rate)
    held = lambda start, end: max(MIN_NOTE_SECONDS, (end - start) * sps * NOTE_SHARE)  # noqa: E731
    for n in piece.melody:
        mix.add(n.start * sps, _tone("triangle", hz(n.pitch), held(n.start, n.end), (0.005, 0.12, 0.35, 0.15), n.velocity / 127, rate))
    for c in piece.chords:
        for interval in CHORD_INTERVALS[c.quality]:
            mix.add(c.start * sps, _tone("sine", hz(60 + c.root + interval), held(c.start, c.end), (0.02, 0.3, 0.4, 0.4), db(-14) * 0.6, rate))
        mix.add(c.start * sps, _tone("bass", hz(36 + c.root), held(c.start, c.end), (0.01, 0.2, 0.5, 0.2), db(-16) * 0.7, rate))
    struck = set()
    for hit in piece.drums:
        voice = DRUM_VOICE.get(hit.drum, "hat")
        if (voice, hit.step) not in struck:  # one hit per voice and step, as the page plays them
            struck.add((voice, hit.step))
            mix.add(hit.step * sps, _drum(voice, hit.velocity / 127, rate))
    samples = OUTPUT_GAIN * mix.samples[:length]
    fade = min(length, int(FADE_SECONDS * rate))
    samples[length - fade :] *= np.linspace(1, 0, fade)
    peak = np.abs(samples).max(initial=0.0)
    return samples / peak * 0.98 if peak > 0.98 else samples


def to_wav(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Float samples as a 16-bit mono WAV file."""
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def render_wav(piece: Piece, rate: int = SAMPLE_RATE) -> bytes:
    return to_wav(render(piece, rate), rate)
