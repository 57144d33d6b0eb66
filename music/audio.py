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
- drums: nine voices, one per drum class, each one synth (a hit cuts the ring of the one before),
  at the page's levels: kick (C1) and three toms (G2, C3, F3) as a sine swept down from 8 octaves
  above its pitch in 50 and 20 ms, decay 0.4 s, at -8 and -16 dB; snare, 150 ms of noise at
  -18 dB; closed hat, 50 ms of high noise (the page's bright metal voice) at -30 dB; open hat,
  the same for 0.4 s at -34 dB, choked (a 50 ms release) by a closed hat on a later step; crash,
  white noise through a 3 kHz high-pass for 1.5 s at -28 dB; ride, the page's metal voice
  unmodulated (six square waves at 400 Hz times the TR-808 ratios, through a 2.5 kHz high-pass)
  for 1.2 s at -38 dB. Those of the page that are plain (crash, ride) are computed as the page
  computes them; the hats' FM metal is stood in for by noise of its loudness and length.

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


def tone_decay(seconds: float, t: np.ndarray) -> np.ndarray:
    """Tone.js's exponential decay to 0 over `seconds` (Param.exponentialApproachValueAtTime): time
    constant ln(1 + seconds) / ln(200), a straight line to 0 over the last 10 %, then 0. (The
    voices above use exp(-5 t / decay), whose time constant is within ~15 % of Tone's up to
    0.2 s; the long drums below need the exact curve: at 1.5 s that one would be 70 % longer.)"""
    constant = np.log(1 + seconds) / np.log(200)
    knee = 0.9 * seconds
    level = np.exp(-np.minimum(t, knee) / constant)
    tail = np.exp(-knee / constant) * np.clip((seconds - t) / (seconds - knee), 0.0, 1.0)
    return np.where(t < knee, level, tail)


def _struck(decay: float, rate: int, attack: float = 0.001) -> np.ndarray:
    """The envelope of a Tone synth with sustain 0 (MetalSynth, NoiseSynth): a linear attack,
    Tone's decay to 0, silent after (the synth stops its sources at attack + decay)."""
    t = np.arange(int((attack + decay) * rate) + 1) / rate
    return np.where(t < attack, t / attack, tone_decay(decay, t - attack))


def highpass_response(freq, cutoff: float, q_db: float = 0.0):
    """A Web Audio high-pass biquad's response at `freq` Hz (12 dB/octave, Q in dB as Tone.Filter
    and the MetalSynth give it): the analog filter the biquad is made from."""
    s = 1j * np.asarray(freq, dtype=float) / cutoff
    return s**2 / (s**2 + s / 10 ** (q_db / 20) + 1)


def highpass(sound: np.ndarray, cutoff: float, rate: int, q_db: float = 0.0) -> np.ndarray:
    """`sound` through that high-pass, in the frequency domain (padded so the ring does not wrap)."""
    n = len(sound) + 2048
    return np.fft.irfft(np.fft.rfft(sound, n) * highpass_response(np.fft.rfftfreq(n, 1 / rate), cutoff, q_db), n)[: len(sound)]


@functools.lru_cache(maxsize=16)
def _membrane(freq: float, sweep: float, rate: int) -> np.ndarray:
    """Tone's MembraneSynth: a sine swept down from 8 octaves above `freq` (its `octaves`; Web Audio
    holds a frequency at Nyquist, so the sweep starts there) to `freq` in `sweep` seconds, decay 0.4 s."""
    t = np.arange(int(0.5 * rate)) / rate
    inst = np.minimum(freq * np.where(t < sweep, 2 ** (8 * (1 - t / sweep)), 1.0), rate / 2)
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


# The drums: the page's nine voices (audio.js, DRUMS), one synth per drum class.
DRUM_VOICE = {drum: drum.value for drum in DrumClass}  # drum class -> its voice: each has its own
TOMS = {"low_tom": 43, "mid_tom": 48, "high_tom": 53}  # G2, C3, F3
OPEN_HAT_DECAY = 0.4  # s
CRASH_DECAY, CRASH_CUTOFF = 1.5, 3000.0  # s, Hz
RIDE_HZ, RIDE_DECAY, RIDE_CUTOFF = 400.0, 1.2, 2500.0  # Hz, s, Hz
CHOKE_RELEASE = 0.05  # s: the open hat's release when a closed hat cuts it
METAL_RATIOS = (1.0, 1.483, 1.932, 2.546, 2.63, 3.897)  # Tone's MetalSynth: its six oscillators (a TR-808 cymbal's ratios)
SQUARE_PEAK = 1.179  # Web Audio scales a periodic wave to peak 1; a square's Fourier series overshoots to 1.179


@functools.lru_cache(maxsize=4)
def _open_hat(rate: int) -> np.ndarray:
    """The open hat: the closed hat's noise (the metal voice's top of the spectrum), decay 0.4 s."""
    envelope = _struck(OPEN_HAT_DECAY, rate)
    noise = np.random.default_rng(400).standard_normal(len(envelope)) * 0.5
    return envelope * np.diff(noise, prepend=0.0)


@functools.lru_cache(maxsize=4)
def _crash(rate: int) -> np.ndarray:
    """The crash: Tone's white noise (uniform in [-1, 1]), decay 1.5 s, through a high-pass at 3 kHz."""
    envelope = _struck(CRASH_DECAY, rate)
    return highpass(envelope * np.random.default_rng(1500).uniform(-1, 1, len(envelope)), CRASH_CUTOFF, rate)


@functools.lru_cache(maxsize=4)
def _ride(rate: int) -> np.ndarray:
    """The ride: Tone's MetalSynth at 400 Hz with no modulation (modulationIndex 0), that is six
    square waves at the TR-808 ratios, through a fixed high-pass at 2.5 kHz (octaves 0), decay
    1.2 s: each harmonic below Nyquist as the filter passes it."""
    envelope = _struck(RIDE_DECAY, rate)
    t = np.arange(len(envelope)) / rate
    sound = np.zeros(len(envelope))
    for ratio in METAL_RATIOS:
        f = RIDE_HZ * ratio
        for k in range(1, int(rate / 2 / f) + 1, 2):
            h = highpass_response(k * f, RIDE_CUTOFF)
            sound += 4 / (np.pi * k) / SQUARE_PEAK * np.abs(h) * np.sin(2 * np.pi * k * f * t + np.angle(h))
    return envelope * sound


def _drum(voice: str, level: float, rate: int) -> np.ndarray:
    """One hit of a drum voice at velocity `level` (0..1), at the page's level in dB."""
    if voice == "kick":
        return level * db(-8) * _membrane(hz(24), 0.05, rate)  # C1
    if voice in TOMS:
        return level * db(-16) * _membrane(hz(TOMS[voice]), 0.02, rate)
    if voice == "snare":
        return level * db(-18) * _noise(0.15, rate)
    if voice == "closed_hat":
        return level * db(-30) * 0.6 * _noise(0.05, rate, high=True)
    if voice == "open_hat":
        return level * db(-34) * 0.6 * _open_hat(rate)
    if voice == "crash":
        return level * db(-28) * _crash(rate)
    if voice == "ride":
        return level * db(-38) * _ride(rate)
    raise ValueError(f"no drum voice {voice!r}")


def _drum_track(piece: Piece, rate: int) -> list[tuple[float, np.ndarray]]:
    """The drum hits as (time, sound), as the page plays them: one hit per voice and step; each
    voice is one synth, so a hit cuts the ring of the voice's hit before (over 1 ms, the attack);
    a closed hat after an open hat chokes it (a release of 50 ms), as a real hi-hat does."""
    at = piece.seconds_at
    hits: dict[str, dict[int, int]] = {}
    for hit in piece.drums:  # one hit per voice and step (the first)
        hits.setdefault(DRUM_VOICE[hit.drum], {}).setdefault(hit.step, hit.velocity)
    closed = sorted(hits.get("closed_hat", ()))
    out = []
    for voice, by_step in hits.items():
        struck = sorted(by_step.items())
        for i, (step, velocity) in enumerate(struck):
            sound = _drum(voice, velocity / 127, rate)
            ends = [at(struck[i + 1][0]) - at(step)] if i + 1 < len(struck) else []
            cut = int(min(ends, default=len(sound) / rate) * rate)
            if voice == "open_hat":
                choke = next((c for c in closed if c > step), None)
                if choke is not None and at(choke) - at(step) < len(sound) / rate:
                    cut_at = int((at(choke) - at(step)) * rate)
                    t = np.arange(len(sound) - cut_at) / rate
                    sound = np.concatenate([sound[:cut_at], sound[cut_at:] * tone_decay(CHOKE_RELEASE, t)])
            if cut < len(sound):
                fade = min(cut, int(0.001 * rate))
                sound = np.concatenate([sound[: cut - fade], sound[cut - fade : cut] * np.linspace(1, 0, fade)])
            out.append((at(step), sound))
    return out


def render(piece: Piece, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The piece as float samples in [-1, 1], `piece.duration_seconds` long."""
    at = piece.seconds_at
    length = round(piece.duration_seconds * rate)
    mix = Mix(piece.duration_seconds + 2.0, rate)
    held = lambda start, end: max(MIN_NOTE_SECONDS, (at(end) - at(start)) * NOTE_SHARE)  # noqa: E731
    for n in piece.melody:
        mix.add(at(n.start), _tone("triangle", hz(n.pitch), held(n.start, n.end), (0.005, 0.12, 0.35, 0.15), n.velocity / 127, rate))
    for c in piece.chords:
        for interval in CHORD_INTERVALS[c.quality]:
            mix.add(at(c.start), _tone("sine", hz(60 + c.root + interval), held(c.start, c.end), (0.02, 0.3, 0.4, 0.4), db(-14) * 0.6, rate))
        mix.add(at(c.start), _tone("bass", hz(36 + c.root), held(c.start, c.end), (0.01, 0.2, 0.5, 0.2), db(-16) * 0.7, rate))
    for at, sound in _drum_track(piece, rate):
        mix.add(at, sound)
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
