"""The samples the page plays pieces with (web_client/src/audio.js), rendered from the server's
SoundFont (music/note_samples.py): `GET /api/sounds/<program>/<note>.ogg` (a General MIDI
program's note, on the grid the page asks for) and `GET /api/sounds/kit/<kit>/<drum>.ogg` (one
drum class of a General Standard kit), and `GET /api/sounds` (the grid, and whether this server
can render them at all); and heard-only clips made of the same samples (`heard_only_wav`, for
game_server/http.py's clip address).

Why rendered here and not shipped: the SoundFont is Debian's (fluid-soundfont-gm), 148 MB; the
128 programs and 8 kits make 3,272 samples (79 MiB of Ogg), of which an 8-bar piece needs about
20 (490 KiB, docs/performance.md). Each is rendered on its first request (~40 ms: render and
encode, off the gevent loop on downloads.py's render thread), kept in a least-recently-used
cache bounded in bytes, and sent immutable: the browser asks once. Requests that come while a
sample is being made wait for that one. 404 `no_such_sound` off the grid; 503 `synth_unavailable`
without FluidSynth or the SoundFont (the page then plays its own synths).
"""

from __future__ import annotations

import io
import re

from flask import Blueprint, Response, current_app, jsonify

from .downloads import MadeOnce, off_the_loop

sounds = Blueprint("sounds", __name__)

CACHE_BYTES = 32 * 1024 * 1024  # ~1,300 samples: the instruments of some 70 different pieces
MAX_AGE = 7 * 24 * 3600  # a sample never changes while the SoundFont and music/note_samples.py do not
NUMBER = re.compile(r"[0-9]{1,3}")


class SoundCache(MadeOnce):
    """Samples as Ogg files, each made once (see the module's docstring)."""

    def __init__(self, soundfont: str, max_bytes: int = CACHE_BYTES):
        super().__init__(max_bytes)
        self.soundfont = soundfont

    def get(self, job: tuple) -> bytes:
        """The Ogg file of ("program", program, note) or ("kit", kit, drum): from the cache, or
        made now (off the loop). NoSuchSound for one off the grid; SynthUnavailable passes through."""
        return self._made_once(job, lambda: off_the_loop(make, job, self.soundfont))


def make(job: tuple, soundfont: str) -> bytes:
    """Render and encode one sample (on the render thread); its tags name the instrument and the synth."""
    from music import DRUM_KITS, GM_PROGRAMS, note_samples, sampled

    kind, number, which = job
    if kind == "program":
        samples = note_samples.note_sample(number, which, soundfont)
        title = f"{GM_PROGRAMS[number]}, MIDI note {which}"
    else:
        samples = note_samples.drum_sample(number, which, soundfont)
        title = f"{DRUM_KITS[number]} kit, {which.replace('_', ' ')}"
    return sampled.to_ogg(samples, sampled.Tags(title=title, software=sampled.engine_name(soundfont)))


def cache() -> SoundCache:
    """This app's samples (made on the first request: the SoundFont is the one downloads use)."""
    from music.sampled import SOUNDFONT

    extensions = current_app.extensions
    if "melody_arcade.sounds" not in extensions:
        extensions.setdefault("melody_arcade.sounds", SoundCache(current_app.config["MELODY_ARCADE"].soundfont or SOUNDFONT))
    return extensions["melody_arcade.sounds"]


@sounds.get("/api/sounds")
def sound_bank():
    """What the page may ask for: `grid` (the notes a program is sampled at: every `step`
    semitones from `lowest` to `highest`), `kits`, `drums`; `available` false, with the `reason`,
    where this server cannot render them (the page then asks for none and plays its synths)."""
    from music import DRUM_KITS, note_samples, sampled

    body = {
        "grid": {"lowest": note_samples.LOWEST_NOTE, "highest": note_samples.HIGHEST_NOTE, "step": note_samples.GRID_STEP},
        "kits": list(DRUM_KITS), "drums": list(note_samples.DRUMS),
    }  # fmt: skip
    try:
        off_the_loop(_can_render, cache().soundfont)
    except sampled.SynthUnavailable as exc:
        return jsonify(available=False, reason=str(exc), **body)
    return jsonify(available=True, **body)


def _can_render(soundfont: str) -> None:
    """SynthUnavailable unless FluidSynth, the SoundFont and the Ogg encoder are all here (the
    SoundFont is loaded now if it was not: ~20 ms, once a process)."""
    from music import sampled

    sampled.load(soundfont)
    try:
        import soundfile  # noqa: F401
    except (ImportError, OSError) as exc:
        raise sampled.SynthUnavailable(f"no Ogg Vorbis encoder ({exc})") from None


@sounds.get("/api/sounds/<program>/<note>.ogg")
def program_note(program: str, note: str):
    """A pitched program's grid note: 0..127, and a note of music.note_samples.GRID_NOTES."""
    if not (NUMBER.fullmatch(program) and NUMBER.fullmatch(note)):
        return _no_such_sound(f"no sound at {program}/{note}")
    return _sample(("program", int(program), int(note)))


@sounds.get("/api/sounds/kit/<kit>/<drum>.ogg")
def kit_drum(kit: str, drum: str):
    """A drum class (music.DrumClass's value) of a General MIDI kit (music.DRUM_KITS)."""
    if not NUMBER.fullmatch(kit):
        return _no_such_sound(f"no kit {kit!r}")
    return _sample(("kit", int(kit), drum))


def _sample(job: tuple):
    from music.note_samples import NoSuchSound, check
    from music.sampled import SynthUnavailable

    try:
        check(*job)  # before the render thread: a refusal costs nothing
        data = cache().get(job)
    except NoSuchSound as exc:
        return _no_such_sound(str(exc))
    except SynthUnavailable as exc:
        return jsonify(error={"code": "synth_unavailable", "message": f"this server cannot render samples: {exc}"}), 503
    return Response(data, mimetype="audio/ogg", headers={"Cache-Control": f"public, max-age={MAX_AGE}, immutable"})


def _no_such_sound(message: str):
    return jsonify(error={"code": "no_such_sound", "message": message}), 404


def heard_only_wav(piece) -> bytes:
    """A heard-only clip as the page's sampler would play it (music/sampler.py), from the very
    samples the page downloads: a 16-bit mono WAV at 44.1 kHz, the piece's length. Called in a
    request; the samples come from the cache (made off the loop if missing), the mix is made off
    the loop too. SynthUnavailable without the synth (the caller then sends music/audio.py's sound,
    as the page then plays its synths)."""
    from music import sampler

    samples = {job: cache().get(job) for job in sorted(sampler.needed(piece), key=str)}
    return off_the_loop(_mixed_wav, piece, samples)


def _mixed_wav(piece, oggs: dict[tuple, bytes]) -> bytes:
    import soundfile

    from music import sampled, sampler

    decoded = {job: soundfile.read(io.BytesIO(data), dtype="float32")[0] for job, data in oggs.items()}
    return sampled.to_wav(sampler.mix(piece, decoded.__getitem__))
