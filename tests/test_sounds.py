"""The page's sampled instruments: the samples the server renders from its SoundFont
(game_server/sounds.py, music/note_samples.py), and pieces played from them as the page plays
them (music/sampler.py), which must sound like FluidSynth's own render of the piece.

The real FluidSynth and SoundFont throughout: the tests that render skip, saying why, only where
Debian's libfluidsynth3 or fluid-soundfont-gm is not installed (`make run` installs both)."""

from __future__ import annotations

import io
import re
import wave

import numpy as np
import pytest
import soundfile

from music import Chord, DrumHit, Instruments, Key, Meter, Note, Piece, note_samples, sampled, sampler
from music.sampled import SAMPLE_RATE

from .server import ROOT, asked_at_once


def decoded(ogg: bytes) -> tuple[np.ndarray, int]:
    with soundfile.SoundFile(io.BytesIO(ogg)) as f:
        assert (f.format, f.subtype, f.channels) == ("OGG", "VORBIS", 1)
        return f.read(dtype="float32"), f.samplerate


def pitch_of(samples: np.ndarray) -> float:
    """The strongest frequency of the first half second (Hz), to a quarter of a hertz."""
    part = samples[: SAMPLE_RATE // 2] * np.hanning(SAMPLE_RATE // 2)
    spectrum = np.abs(np.fft.rfft(part, 8 * SAMPLE_RATE))
    return float(np.argmax(spectrum) * SAMPLE_RATE / (8 * SAMPLE_RATE))


# --- the endpoint -------------------------------------------------------------------------------


def test_the_server_says_what_it_samples(app, synth):
    body = app.test_client().get("/api/sounds").get_json()
    assert body["available"] is True
    assert body["grid"] == {"lowest": 24, "highest": 96, "step": 3}
    assert body["kits"] == [0, 8, 16, 24, 25, 32, 40, 48] and len(body["drums"]) == 9


def test_a_program_s_note_is_a_mono_ogg_at_its_pitch_kept_by_the_browser(app, synth):
    http = app.test_client()
    response = http.get("/api/sounds/73/69.ogg")  # the flute's A4
    assert response.status_code == 200 and response.mimetype == "audio/ogg"
    assert response.headers["Cache-Control"] == f"public, max-age={7 * 24 * 3600}, immutable"
    samples, rate = decoded(response.data)
    assert rate == SAMPLE_RATE
    assert note_samples.HOLD_SECONDS < len(samples) / rate <= note_samples.HOLD_SECONDS + note_samples.RELEASE_SECONDS
    assert abs(pitch_of(samples) - 440.0) < 2.0
    assert 0.05 < np.abs(samples).max() < 1.0 and np.abs(samples[-10:]).max() < 1e-3  # sounds, fits, ends faded
    with soundfile.SoundFile(io.BytesIO(response.data)) as f:
        assert f.title == "Flute, MIDI note 69" and "FluidSynth" in f.software
    piano = decoded(http.get("/api/sounds/0/69.ogg").data)[0]
    assert abs(pitch_of(piano) - 440.0) < 2.0 and not np.allclose(piano[:1000], samples[:1000], atol=0.01)


def test_a_kit_s_drum_rings_out_and_the_kit_is_the_one_asked_for(app, synth):
    http = app.test_client()
    standard = http.get("/api/sounds/kit/0/kick.ogg")
    assert standard.status_code == 200 and standard.mimetype == "audio/ogg"
    kick, _ = decoded(standard.data)
    eight_o_eight, _ = decoded(http.get("/api/sounds/kit/25/kick.ogg").data)
    crash, _ = decoded(http.get("/api/sounds/kit/0/crash.ogg").data)
    assert len(kick) < len(crash) <= note_samples.DRUM_SECONDS * SAMPLE_RATE  # each rings as long as it does
    assert len(eight_o_eight) != len(kick) or not np.allclose(eight_o_eight, kick, atol=0.01)


def test_a_sample_is_made_once_however_often_and_however_many_at_once_ask(app, synth):
    from game_server.sounds import cache

    with app.app_context():
        sounds = cache()
    answers = asked_at_once(app, "/api/sounds/33/36.ogg")
    assert sounds.made == 1 and len(set(answers)) == 1 and answers[0][:4] == b"OggS"
    assert app.test_client().get("/api/sounds/33/36.ogg").data == answers[0] and sounds.made == 1  # from the cache
    app.test_client().get("/api/sounds/kit/0/snare.ogg")
    assert sounds.made == 2 and sounds.kept_bytes() > len(answers[0])


@pytest.mark.parametrize("address", [
    "/api/sounds/128/60.ogg", "/api/sounds/73/61.ogg", "/api/sounds/73/21.ogg", "/api/sounds/73/99.ogg", "/api/sounds/-1/60.ogg",
    "/api/sounds/flute/60.ogg", "/api/sounds/73/60.5.ogg", "/api/sounds/0073/60.ogg",
    "/api/sounds/kit/1/kick.ogg", "/api/sounds/kit/0/cowbell.ogg", "/api/sounds/kit/x/kick.ogg", "/api/sounds/kit/0/KICK.ogg",
])  # fmt: skip
def test_a_sound_off_the_grid_is_404_and_costs_no_render(app, address):
    response = app.test_client().get(address)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "no_such_sound"
    assert "melody_arcade.sounds" not in app.extensions or app.extensions["melody_arcade.sounds"].made == 0


def test_without_a_soundfont_samples_are_503_and_the_page_is_told_to_play_its_synths(tmp_path):
    from game_server.app import services_of

    from .server import in_process_app

    app = in_process_app(tmp_path, soundfont=str(tmp_path / "missing.sf2"))
    try:
        http = app.test_client()
        for address in ("/api/sounds/73/60.ogg", "/api/sounds/kit/0/kick.ogg"):
            refused = http.get(address)
            assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "synth_unavailable"
            assert "missing.sf2" in refused.get_json()["error"]["message"]
        said = http.get("/api/sounds").get_json()
        assert said["available"] is False and "missing.sf2" in said["reason"] and said["grid"]["step"] == 3
        assert http.get("/api/sounds/73/61.ogg").status_code == 404  # off the grid is still off the grid
    finally:
        services_of(app).storage.close()


# --- the samples: the SoundFont's balance, velocity, and the page's mix ---------------------------


def test_samples_keep_the_soundfont_s_balance_whatever_render_normalises(synth):
    """The same note twice is the same sample; a soft note is quieter than a loud one by the
    velocity curve the page applies ((v / 100)²), although each render peaks at -1 dBFS."""
    level = lambda s: float(np.sqrt(np.mean(s[:SAMPLE_RATE] ** 2)))  # noqa: E731
    loud, again = note_samples.rendered_note(0, 60), note_samples.rendered_note(0, 60)
    assert abs(20 * np.log10(level(again) / level(loud))) < 0.1
    soft = note_samples.rendered_note(0, 60, velocity=50)
    assert abs(20 * np.log10(level(soft) / level(loud)) - 40 * np.log10(0.5)) < 1.0  # -12 dB


def test_a_piece_from_the_samples_sounds_like_fluidsynth_s_render_of_it(synth):
    """The page's way (music/sampler.py: the nearest grid sample repitched, the MIDI voicing, the
    velocity curve) against FluidSynth playing the whole piece, both on the samples' scale (the
    reference chord two bars before the piece): within 1 dB in level and 1.5 dB per third-octave band."""
    bars = 4
    melody = tuple(Note(b * 16 + 4 * i, b * 16 + 4 * i + 4, (62, 65, 69, 72, 70, 67, 64, 61)[(b * 4 + i) % 8], 80 + 10 * (i % 3)) for b in range(bars) for i in range(4))
    harmony = tuple(Chord(b * 16, b * 16 + 16, (2, 10, 5, 9)[b], ("min", "maj", "maj", "dom7")[b]) for b in range(bars))
    beat = tuple(DrumHit(b * 16 + s, d, 90) for b in range(bars) for s, d in [(0, "kick"), (4, "closed_hat"), (8, "snare"), (10, "open_hat"), (12, "closed_hat")])
    piece = Piece(tempo=100, meter=Meter(4, 4), key=Key(2, "minor"), bars=bars, melody=melody, chords=harmony, drums=beat, instruments=Instruments(melody=40))
    lead = Piece(tempo=100, meter=Meter(4, 4), key=Key(2, "minor"), bars=2, chords=(Chord(0, note_samples.REFERENCE_STEPS, 0, "maj"),), instruments=piece.instruments)
    from music import concatenate

    whole = note_samples.mono(sampled.render(concatenate([lead, piece])))
    start = round(lead.duration_seconds * SAMPLE_RATE)
    truth = whole[start:] * (note_samples.LEVEL / np.abs(whole[:start]).max())
    made = {job: (note_samples.note_sample if job[0] == "program" else note_samples.drum_sample)(job[1], job[2]) for job in sampler.needed(piece)}
    page = sampler.mix(piece, made.__getitem__, piece.duration_seconds + sampled.TAIL_SECONDS) / sampler.PAGE_GAIN
    n = min(len(page), len(truth))
    assert abs(20 * np.log10(np.sqrt(np.mean(page[:n] ** 2)) / np.sqrt(np.mean(truth[:n] ** 2)))) < 1.0

    def bands(x):
        power = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
        edges = 50 * 2 ** np.arange(0, 8.4, 1 / 3)
        return 10 * np.log10(np.array([power[(freqs >= a) & (freqs < b)].sum() for a, b in zip(edges, edges[1:])]) + 1e-20)

    a, b = bands(page[:n]), bands(truth[:n])
    heard = b > b.max() - 40
    assert np.abs(a - b)[heard].mean() < 1.5


# --- a heard-only clip from the same samples ----------------------------------------------------


def test_a_heard_only_clip_is_the_page_s_mix_of_the_served_samples_at_the_page_s_level(app, synth):
    from game_server.sounds import heard_only_wav

    loud = Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=2, melody=tuple(Note(4 * i, 4 * i + 4, 60 + 2 * i, 110) for i in range(8)),
                 chords=(Chord(0, 16, 0, "maj"), Chord(16, 32, 7, "maj")), drums=(DrumHit(0, "kick", 100), DrumHit(8, "snare", 100)))  # fmt: skip
    soft = Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=2, melody=tuple(Note(4 * i, 4 * i + 4, 60 + 2 * i, 40) for i in range(8)))
    with app.test_request_context():
        wavs = {name: heard_only_wav(piece) for name, piece in (("loud", loud), ("soft", soft))}
        served = {job: decoded(app.test_client().get(address(job)).data)[0] for job in sampler.needed(loud)}
    pcm = {}
    for name, wav in wavs.items():
        with wave.open(io.BytesIO(wav)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE)
            assert w.getnframes() == round(loud.duration_seconds * SAMPLE_RATE)  # its length: the next clip follows at once
            pcm[name] = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32767
    expected = sampler.mix(loud, served.__getitem__)
    assert np.abs(pcm["loud"] - expected).max() < 2 / 32767  # the same samples, the same mix
    assert np.abs(pcm["soft"]).max() < 0.5 * np.abs(pcm["loud"]).max()  # not normalised: as soft as the page plays it


def address(job) -> str:
    kind, number, which = job
    return f"/api/sounds/{number}/{which}.ogg" if kind == "program" else f"/api/sounds/kit/{number}/{which}.ogg"


# --- the page and the server agree ----------------------------------------------------------------


def test_the_page_plays_samples_as_the_server_mixes_them():
    """web_client/src/sample_grid.js's constants are music's (the grid itself the page reads from GET /api/sounds)."""
    from music.instruments import Instruments as Defaults
    from music.midi import BASS_BASE, BASS_VELOCITY, CHORD_BASE, CHORD_VELOCITY

    js = (ROOT / "web_client" / "src" / "sample_grid.js").read_text()
    number = lambda name: float(re.search(rf"\b{name} = ([0-9.]+)", js).group(1))  # noqa: E731
    assert number("VELOCITY") == note_samples.VELOCITY
    assert number("SAMPLE_RELEASE") == sampler.RELEASE_SECONDS
    assert number("SAMPLED_GAIN") * 0.8 == pytest.approx(sampler.PAGE_GAIN)
    assert (number("CHORD_BASE"), number("CHORD_VELOCITY"), number("BASS_BASE"), number("BASS_VELOCITY")) == (CHORD_BASE, CHORD_VELOCITY, BASS_BASE, BASS_VELOCITY)
    d = Defaults()
    assert f"DEFAULT_INSTRUMENTS = {{ melody: {d.melody}, chords: {d.chords}, bass: {d.bass}, drums: {d.drums} }}" in js
    assert "new Tone.Gain(0.8)" in (ROOT / "web_client" / "src" / "audio.js").read_text()
