"""The audio renderer (music/audio.py): a piece becomes mono PCM exactly its length, each part at
its pitches, loud enough and never clipped, the same every time; a WAV that the standard
library's `wave` reads back."""

from __future__ import annotations

import io
import wave

import numpy as np
from hypothesis import given, settings

from music import Chord, DrumHit, Key, Meter, Note, Piece
from music.audio import SAMPLE_RATE, hz, render, render_wav

from .strategies import pieces


def piece(**tracks) -> Piece:
    return Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=2, **tracks)


def peak_hz(samples: np.ndarray, low: float = 30.0) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    spectrum[freqs < low] = 0
    return float(freqs[spectrum.argmax()])


def test_a_melody_note_sounds_at_its_pitch_for_its_steps_and_is_silent_after():
    samples = render(piece(melody=(Note(0, 8, 69),)))  # A4 for 8 steps = 1 s at 120
    assert len(samples) == round(2.0 * 2 * SAMPLE_RATE)  # two bars of 4/4 at 120: 4 s
    sounding = samples[: SAMPLE_RATE]
    assert abs(peak_hz(sounding) - 440) < 2
    assert np.sqrt(np.mean(sounding**2)) > 0.05  # audible
    assert np.abs(samples[int(1.6 * SAMPLE_RATE) :]).max() < 1e-3  # released: silence after the tail


def test_chords_sound_their_tones_and_the_bass_its_root():
    samples = render(piece(chords=(Chord(0, 32, 9, "min"),)))  # A minor: A4 C5 E5 over A2
    spectrum = np.abs(np.fft.rfft(samples[: 2 * SAMPLE_RATE]))
    freqs = np.fft.rfftfreq(2 * SAMPLE_RATE, 1 / SAMPLE_RATE)

    def level(f: float) -> float:
        return spectrum[np.abs(freqs - f) < 3].max()

    for tone in (hz(69), hz(72), hz(76), hz(45)):
        assert level(tone) > 20 * level(hz(70.5)), tone  # each tone stands far above a pitch between


def test_drums_make_sound_and_each_voice_differs():
    kick = render(piece(drums=(DrumHit(0, "kick"),)))
    hat = render(piece(drums=(DrumHit(0, "closed_hat"),)))
    assert np.abs(kick).max() > 0.1 and np.abs(hat).max() > 0.005
    assert peak_hz(kick[: SAMPLE_RATE // 2]) < 200 < peak_hz(hat[: SAMPLE_RATE // 4], low=1000)


@settings(max_examples=25)
@given(pieces(max_bars=4))
def test_any_piece_renders_to_its_length_in_range_and_the_same_every_time(p):
    samples = render(p)
    assert len(samples) == round(p.duration_seconds * SAMPLE_RATE)
    assert np.all(np.abs(samples) <= 0.98 + 1e-9)
    assert np.array_equal(samples, render(p))


def test_the_wav_is_16_bit_mono_and_reads_back_with_the_pieces_duration():
    p = piece(melody=(Note(0, 4, 60), Note(4, 40, 67)), chords=(Chord(0, 16, 0), Chord(16, 32, 7)), drums=(DrumHit(0, "kick"), DrumHit(4, "snare")))
    data = render_wav(p)
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE)
        assert abs(w.getnframes() / w.getframerate() - p.duration_seconds) < 1 / SAMPLE_RATE
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert abs(int(pcm[-1])) < 50  # the note ringing past the end is faded out, not cut with a click
