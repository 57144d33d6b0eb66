"""Sound worth keeping, and taking home: the SoundFont renderer (music/sampled.py) plays a piece on
its own instruments for its own length, and a finished round's piece downloads as MIDI, WAV and
Ogg Vorbis (game_server/http.py, game_server/downloads.py), each saying what wrote it, each made
once, never before the round has ended.

The real FluidSynth and SoundFont throughout: the tests skip, saying why, only where Debian's
libfluidsynth3 or fluid-soundfont-gm is not installed (`make run` installs both)."""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from dataclasses import replace

import mido
import numpy as np
import pytest
import soundfile

from music import DRUM_KITS, Chord, DrumHit, Instruments, Key, Meter, Note, Piece, join_sections, piece_to_json, read_midi, sampled
from music.sampled import CHANNELS, SAMPLE_RATE, TAIL_SECONDS, SynthUnavailable, Tags, wav_info

from .server import ROOT, asked_at_once


def tune(bars: int = 8, tempo: int = 120, instruments: Instruments = Instruments(), melody=True, chords=True, drums=True) -> Piece:
    """Eighth notes up and down a scale over a chord a bar and a rock beat."""
    notes = tuple(Note(b * 16 + 2 * i, b * 16 + 2 * i + 2, 60 + (0, 2, 4, 5, 7, 5, 4, 2)[i] + (b % 2) * 2, 90) for b in range(bars) for i in range(8))
    harmony = tuple(Chord(b * 16, b * 16 + 16, (0, 5, 7, 9)[b % 4], "min" if b % 4 == 3 else "maj") for b in range(bars))
    beat = tuple(
        DrumHit(b * 16 + s, drum, 100)
        for b in range(bars)
        for s, drum in [(0, "kick"), (4, "snare"), (8, "kick"), (12, "snare"), *((s, "closed_hat") for s in range(0, 16, 2))]
    )
    return Piece(tempo=tempo, meter=Meter(4, 4), key=Key(0, "major"), bars=bars, melody=notes if melody else (), chords=harmony if chords else (),
                 drums=beat if drums else (), instruments=instruments)  # fmt: skip


def spectrum(samples: np.ndarray) -> np.ndarray:
    """Power in third-octave bands from 50 Hz to 16 kHz, in dB below the loudest band."""
    mono = samples.mean(axis=1)
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE)
    edges = 50 * 2 ** np.arange(0, 8.4, 1 / 3)
    bands = np.array([power[(freqs >= a) & (freqs < b)].sum() for a, b in zip(edges, edges[1:])])
    return 10 * np.log10(bands / bands.max() + 1e-12)


# --- the renderer -------------------------------------------------------------------------------


@pytest.mark.parametrize("tempo", [120, 84])
def test_an_8_bar_piece_is_a_wav_of_its_length_at_its_tempo_and_not_silence(synth, tempo):
    piece = tune(tempo=tempo)
    with wave.open(io.BytesIO(sampled.render_wav(piece))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (CHANNELS, 2, SAMPLE_RATE)
        frames = w.getnframes()
        pcm = np.frombuffer(w.readframes(frames), dtype="<i2").reshape(-1, CHANNELS) / 32768
    # 8 bars of 4/4 = 128 sixteenths of 60 / (4 * tempo) s: 16 s at 120, 22.86 s at 84; plus the 1 s tail
    assert frames == round((128 * 60 / (4 * tempo) + TAIL_SECONDS) * SAMPLE_RATE)
    music = pcm[: round(piece.duration_seconds * SAMPLE_RATE)]
    seconds = music[: len(music) // SAMPLE_RATE * SAMPLE_RATE].reshape(-1, SAMPLE_RATE, CHANNELS)
    assert (np.sqrt((seconds**2).mean(axis=(1, 2))) > 0.02).all()  # every second of it sounds
    assert 0.8 < np.abs(pcm).max() < 0.95  # normalised to -1 dBFS, never clipped
    assert np.abs(pcm[-100:]).max() < 0.01  # faded out at the end of the tail


def test_the_melody_program_is_the_instrument_heard(synth):
    """Piano (0) and flute (73) play the same line: the same pitches, differently coloured, and
    a piano note dies away where a flute holds it."""
    line = {program: tune(instruments=Instruments(melody=program), chords=False, drums=False) for program in (0, 73)}
    piano, flute = (sampled.render(piece) for piece in line.values())
    assert piano.shape == flute.shape
    assert np.abs(spectrum(piano) - spectrum(flute)).max() > 6  # some third-octave band at least 6 dB apart
    step = round(line[0].seconds_per_step * SAMPLE_RATE)  # each note lasts 2 steps

    def held(samples: np.ndarray) -> float:
        """The level of a note's second half against its first, the median over the notes."""
        def level(a: int, b: int) -> float:
            return float(np.sqrt((samples[a:b] ** 2).mean()))

        return float(np.median([level(n + step, n + 2 * step) / level(n, n + step) for n in range(0, 64 * 2 * step, 2 * step)]))

    assert held(piano) < held(flute)


def test_the_drum_kit_is_the_one_the_piece_names(synth):
    """Channel 10 switches kits: the TR-808 kit (25) is not the Standard kit (0)."""
    standard, tr808 = (sampled.render(tune(instruments=Instruments(drums=kit), melody=False, chords=False)) for kit in (0, 25))
    assert np.abs(spectrum(standard) - spectrum(tr808)).max() > 6
    assert set(DRUM_KITS) <= sampled.kits()  # every kit a piece may name is in FluidR3_GM


def test_a_story_section_is_heard_with_its_own_instruments(synth):
    """The same line in two sections, flute then violin (a change on bar 4): the second half of
    the render is the violin's, as violin alone plays it, not the flute's."""
    flute, violin = Instruments(melody=73), Instruments(melody=40)
    half = tune(bars=4, instruments=flute, chords=False, drums=False)
    story = join_sections([half, replace(half, instruments=violin)])
    assert story.instrument_changes == ((4, violin),)
    heard = sampled.render(story)[round(half.duration_seconds * SAMPLE_RATE) :]
    alone = {name: sampled.render(replace(half, instruments=sounds))[: len(heard)] for name, sounds in (("flute", flute), ("violin", violin))}
    gap = {name: np.abs(spectrum(heard[: len(alone[name])]) - spectrum(sound)).max() for name, sound in alone.items()}
    assert gap["violin"] < 3 < gap["flute"], gap


def test_nothing_of_the_render_before_leaks_into_the_next(synth):
    """One synth serves every render: no note, reverb tail or program of the render before is heard
    in the next. (Not bit for bit the same: FluidSynth's reverb modulates its delay lines with LFOs
    whose phase runs on from render to render, a difference about 40 dB under the music.)"""
    loud = tune(bars=2, tempo=200, instruments=Instruments(melody=30, chords=48, bass=38, drums=25))
    late_start = Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=2, melody=(Note(16, 24, 72),))  # silent for a bar (2 s)
    alone = sampled.render(tune(bars=2))
    sampled.render(loud)
    assert np.abs(sampled.render(late_start)[: int(1.9 * SAMPLE_RATE)]).max() < 1e-5  # no ring of the loud piece: silence (-100 dB)
    sampled.render(loud)
    after = sampled.render(tune(bars=2))
    assert np.abs(spectrum(after) - spectrum(alone)).max() < 1.5  # the same instruments, not the loud piece's
    assert np.sqrt(((after - alone) ** 2).mean()) < 0.05 * np.sqrt((alone**2).mean())  # the same notes: under -26 dB


def test_a_wav_says_what_wrote_it_and_stays_a_wav(synth):
    tags = Tags(title="Melody Arcade round r_1", software="Melody Arcade 0.1.0", comment="seed 7; melody_vae.pt sha256:0123456789ab")
    wav = sampled.render_wav(tune(bars=1), tags)
    assert wav_info(wav) == {"INAM": tags.title, "ISFT": tags.software, "ICMT": tags.comment}
    with wave.open(io.BytesIO(wav)) as w:  # readers that know no INFO chunk still read it
        assert w.getnframes() == sampled.rendered_frames(tune(bars=1))
    assert soundfile.info(io.BytesIO(wav)).frames == sampled.rendered_frames(tune(bars=1))


def test_an_ogg_is_vorbis_of_the_same_sound_with_its_comments(synth):
    piece = tune()
    tags = Tags(title="Melody Arcade round r_1", software="Melody Arcade 0.1.0", comment="seed 7")
    ogg = sampled.render_ogg(piece, tags)
    assert ogg[:4] == b"OggS" and b"vorbis" in ogg[:64]
    with soundfile.SoundFile(io.BytesIO(ogg)) as f:
        assert (f.samplerate, f.channels, f.frames) == (SAMPLE_RATE, CHANNELS, sampled.rendered_frames(piece))
        assert (f.title, f.comment) == (tags.title, tags.comment)
        assert f.software.startswith(tags.software)  # libsndfile adds its own name: "(libsndfile-1.2.2)"
        decoded = f.read()
    assert len(ogg) < len(sampled.to_wav(decoded)) / 5
    assert np.sqrt((decoded**2).mean()) > 0.02


def test_without_the_soundfont_the_error_says_what_is_missing(tmp_path):
    with pytest.raises(SynthUnavailable, match="no SoundFont at .*fluid-soundfont-gm"):
        sampled.render(tune(bars=1), tmp_path / "missing.sf2")


def test_a_piece_too_long_to_render_is_refused_before_any_work():
    with pytest.raises(sampled.PieceTooLong):
        sampled.render(Piece(tempo=20, meter=Meter(4, 4), key=Key(0, "major"), bars=64))


# --- the downloads ------------------------------------------------------------------------------


def stored_round(app, round_id: str, piece_json: str, ended: bool = True) -> None:
    from game_server.app import services_of

    storage = services_of(app).storage
    storage.add_round(round_id, "sort", "slices-0", "ROOM", 4242, [], piece_json, {"answer": [1, 0]})
    if ended:
        storage.finish_round(round_id, "sort", "slices-0", [], "Ada", 700, {})


def test_a_round_s_files_wait_for_its_end_and_an_unknown_round_has_none(app):
    http = app.test_client()
    stored_round(app, "r_playing", piece_to_json(tune(bars=1)), ended=False)
    for extension in ("mid", "wav", "ogg"):
        missing = http.get(f"/api/rounds/r_nope/piece.{extension}")
        assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "no_such_round"
        early = http.get(f"/api/rounds/r_playing/piece.{extension}")
        assert early.status_code == 403 and early.get_json()["error"]["code"] == "round_not_over"
    assert "piece_wav" not in http.get("/api/rounds/r_playing").get_json()


def test_a_piece_too_long_to_render_is_413_and_its_midi_still_downloads(app):
    stored_round(app, "r_long", piece_to_json(Piece(tempo=20, meter=Meter(4, 4), key=Key(0, "major"), bars=64, melody=(Note(0, 4, 60),))))
    refused = app.test_client().get("/api/rounds/r_long/piece.wav")
    assert refused.status_code == 413 and refused.get_json()["error"]["code"] == "piece_too_long"
    assert app.test_client().get("/api/rounds/r_long/piece.mid").data[:4] == b"MThd"


def test_a_finished_round_downloads_as_midi_wav_and_ogg_each_saying_what_wrote_it(app, synth):
    from game_server.provenance import checkpoints

    http = app.test_client()
    piece = tune()
    stored_round(app, "r_done", piece_to_json(piece))
    body = http.get("/api/rounds/r_done").get_json()
    assert (body["piece_midi"], body["piece_wav"], body["piece_ogg"]) == ("/api/rounds/r_done/piece.mid", "/api/rounds/r_done/piece.wav", "/api/rounds/r_done/piece.ogg")
    models = checkpoints(app.config["MELODY_ARCADE"].model_dir)
    assert {"melody_vae.pt", "drums.pt"} <= {name for name, _ in models}

    def says_what_wrote_it(text: str) -> None:
        assert "Melody Arcade" in text and "round r_done (sort, level slices-0)" in text and "seed 4242" in text
        for name, digest in models:
            assert f"{name} sha256:{digest}" in text

    files = {}
    for extension, media_type in (("mid", "audio/midi"), ("wav", "audio/wav"), ("ogg", "audio/ogg")):
        response = http.get(body[f"piece_{'midi' if extension == 'mid' else extension}"])
        assert response.status_code == 200 and response.mimetype == media_type
        assert response.headers["Content-Disposition"] == f'attachment; filename="melody-arcade-sort-r_done.{extension}"'
        files[extension] = response.data

    texts = [m.text for m in mido.MidiFile(file=io.BytesIO(files["mid"])).tracks[0] if m.type == "text"]
    assert any("seed 4242" in t for t in texts)
    says_what_wrote_it(next(t for t in texts if "seed 4242" in t))
    assert read_midi(files["mid"]) == piece  # the text changes nothing of the music

    info = wav_info(files["wav"])
    assert info["ISFT"].startswith("Melody Arcade") and info["INAM"] == "Melody Arcade round r_done"
    says_what_wrote_it(info["ICMT"])
    assert "FluidSynth" in info["ICMT"] and "FluidR3_GM.sf2" in info["ICMT"]
    with wave.open(io.BytesIO(files["wav"])) as w:
        assert w.getnframes() == sampled.rendered_frames(piece)

    with soundfile.SoundFile(io.BytesIO(files["ogg"])) as f:
        assert f.frames == sampled.rendered_frames(piece)
        says_what_wrote_it(f.comment)


def test_each_file_is_made_once_however_often_and_however_many_at_once_ask(app, synth):
    downloads = app.extensions["melody_arcade.downloads"]
    stored_round(app, "r_cached", piece_to_json(tune(bars=2)))
    answers = asked_at_once(app, "/api/rounds/r_cached/piece.ogg")
    assert downloads.made == 1 and len(set(answers)) == 1 and answers[0][:4] == b"OggS"
    again = app.test_client().get("/api/rounds/r_cached/piece.ogg")
    assert again.data == answers[0] and downloads.made == 1  # from the cache
    wav = app.test_client().get("/api/rounds/r_cached/piece.wav").data  # another format is another file
    assert downloads.made == 2 and downloads.kept_bytes() == len(answers[0]) + len(wav)


def test_a_morph_round_s_clips_download_as_one_piece(app, synth):
    """Sort's morph rounds store their clips as a list: the file plays them one after another."""
    clips = [tune(bars=2), tune(bars=2, instruments=Instruments())]
    stored_round(app, "r_morph", "[" + ",".join(piece_to_json(c) for c in clips) + "]")
    with wave.open(io.BytesIO(app.test_client().get("/api/rounds/r_morph/piece.wav").data)) as w:
        assert w.getnframes() == round((2 * clips[0].duration_seconds + TAIL_SECONDS) * SAMPLE_RATE)


def test_without_a_soundfont_the_sound_is_503_and_the_midi_still_downloads(tmp_path):
    from game_server.app import services_of

    from .server import in_process_app

    app = in_process_app(tmp_path, soundfont=str(tmp_path / "missing.sf2"))
    try:
        stored_round(app, "r_quiet", piece_to_json(tune(bars=1)))
        http = app.test_client()
        for extension in ("wav", "ogg"):
            refused = http.get(f"/api/rounds/r_quiet/piece.{extension}")
            assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "synth_unavailable"
            assert "missing.sf2" in refused.get_json()["error"]["message"]
        assert http.get("/api/rounds/r_quiet/piece.mid").data[:4] == b"MThd"
    finally:
        services_of(app).storage.close()


GEVENT_RENDER = """
from gevent import monkey
monkey.patch_all()
import time, gevent
from game_server.downloads import off_the_loop
from music import sampled
from tests.test_sampled_audio import tune

sampled.load()
ticks = []
def tick():
    while True:
        ticks.append(time.perf_counter())
        gevent.sleep(0.005)
ticker = gevent.spawn(tick)
gevent.sleep(0.05)
started = time.perf_counter()
samples = off_the_loop(sampled.render, tune(bars=16, tempo=60))
took = time.perf_counter() - started
during = [t for t in ticks if started <= t <= started + took]
ticker.kill()
print(round(took, 3), len(during), max(b - a for a, b in zip(during, during[1:])))
"""


@pytest.mark.slow  # a process of its own, patched for gevent as `serve` is
def test_under_gevent_a_render_stops_no_other_greenlet(synth):
    """`serve` runs on gevent: a render on the socket handlers' loop would stop every player for
    its whole length. Off the loop, a greenlet ticking every 5 ms keeps ticking while it renders."""
    result = subprocess.run([sys.executable, "-c", GEVENT_RENDER], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    took, ticks, longest_gap = result.stdout.split()
    assert float(took) > 0.1  # a render long enough to tell
    assert int(ticks) >= float(took) / 0.005 / 4  # the loop went on (a quarter of the ticks at least, on 2 busy cores)
    assert float(longest_gap) < 0.1
