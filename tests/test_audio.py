"""The audio renderer (music/audio.py): a piece becomes mono PCM exactly its length, each part at
its pitches, loud enough and never clipped, the same every time; a WAV that the standard
library's `wave` reads back."""

from __future__ import annotations

import io
import wave

import numpy as np
from hypothesis import given, settings

from music import DRUM_CLASSES, Chord, DrumHit, Key, Meter, Note, Piece, audio
from music.audio import SAMPLE_RATE, hz, render, render_wav

from .strategies import pieces


def piece(**tracks) -> Piece:
    return Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=2, **tracks)


def drums(*hits: tuple[int, str]) -> np.ndarray:
    """Two bars at 120 (a step is 0.125 s) of these drum hits, at velocity 100."""
    return render(piece(drums=tuple(DrumHit(step, drum, 100) for step, drum in hits)))


def signature(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A sound's spectrum (power in half-octave bands, 40 Hz to 11 kHz) and its loudness over time
    (power in 50 ms frames), each in dB below its own top, floored at -60 dB."""
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    edges = 40 * 2 ** np.arange(0, 8.2, 0.5)
    bands = np.array([spectrum[(freqs >= a) & (freqs < b)].sum() for a, b in zip(edges, edges[1:])])
    n = int(0.05 * SAMPLE_RATE)
    frames = (samples[: len(samples) // n * n].reshape(-1, n) ** 2).mean(1)
    return tuple(np.maximum(10 * np.log10(v / v.max() + 1e-30), -60) for v in (bands, frames))


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


def test_each_of_the_nine_drums_sounds_and_differs_from_every_other():
    """Issue #22: all nine drum classes audible and told apart: no two alike in spectrum or in how
    they ring (the four voices of old, hats and cymbals one sound and the toms another, fail it)."""
    sounds = {drum.value: drums((0, drum))[: 2 * SAMPLE_RATE] for drum in DRUM_CLASSES}
    for drum, samples in sounds.items():
        assert np.abs(samples).max() > 0.005, drum
    signatures = {drum: signature(samples) for drum, samples in sounds.items()}
    names = list(signatures)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            apart = [np.sqrt(np.mean((x - y) ** 2)) for x, y in zip(signatures[a], signatures[b])]  # dB, RMS over bands / frames
            assert max(apart) > 4, (a, b, apart)


def test_the_toms_are_three_pitches_low_to_high():
    pitches = [peak_hz(drums((0, tom))[: SAMPLE_RATE // 2]) for tom in ("low_tom", "mid_tom", "high_tom")]
    assert [round(12 * np.log2(p / 440) + 69) for p in pitches] == [43, 48, 53]  # G2, C3, F3


def test_the_cymbals_ring_longer_than_the_hats_and_the_open_hat_longer_than_the_closed():
    def rings(drum: str) -> float:  # seconds until 30 dB below its loudest 10 ms
        n = int(0.01 * SAMPLE_RATE)
        samples = drums((0, drum))
        level = (samples[: len(samples) // n * n].reshape(-1, n) ** 2).mean(1)
        return np.nonzero(level > level.max() * 1e-3)[0][-1] * 0.01

    assert rings("closed_hat") < 0.1 < rings("open_hat") < 0.35 < min(rings("ride"), rings("crash"))


def test_a_closed_hat_chokes_the_open_hat_before_it_not_one_on_its_own_step():
    def tail(*hits) -> float:  # what sounds 0.2 .. 0.3 s: the open hat's ring (a closed hat's is over)
        return float(np.sqrt(np.mean(drums(*hits)[int(0.2 * SAMPLE_RATE) : int(0.3 * SAMPLE_RATE)] ** 2)))

    alone = tail((0, "open_hat"))
    assert alone > 1e-4
    assert tail((0, "open_hat"), (1, "closed_hat")) < alone / 100  # choked at 0.125 s
    assert tail((0, "open_hat"), (0, "closed_hat")) > alone / 2  # both sound


def test_drums_render_the_same_bytes_every_time_from_fixed_seeds():
    p = piece(drums=tuple(DrumHit(step, drum, 76 + step) for step, drum in enumerate(DRUM_CLASSES * 3)))
    first = render_wav(p)
    for name in dir(audio):  # nothing kept from the first render: the noise comes again from its seeds
        getattr(getattr(audio, name), "cache_clear", lambda: None)()
    assert render_wav(p) == first


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
