"""A Piece played on sampled instruments: FluidSynth with a General MIDI SoundFont, as 44.1 kHz
stereo, and the files a player takes home (WAV, Ogg Vorbis).

Why a second renderer beside music/audio.py: that one imitates the page's oscillators, so that a
heard-only clip sounds like its neighbours in the browser. A download is kept and played
elsewhere: it should sound like the piece's instruments (Instruments: a flute, a piano, a finger
bass, a drum kit), which only recorded samples do.

Why FluidSynth and Debian's FluidR3_GM (measured in bench/render.py and docs/protocol.md): it
renders an 8-bar piece in well under the 0.3 s budget on one core, switches General Standard drum
kits (bank 128) as the piece asks, adds the SoundFont's own reverb and chorus, and both come from
Debian (`libfluidsynth3`, `fluid-soundfont-gm`) with the `pyfluidsynth` binding from PyPI; the
C library releases the GIL while it renders, so a server thread can render while the others run.

What is played is exactly the MIDI file's content (`to_pretty_midi`: the same voicings, programs
and velocities as the `.mid` download): melody on channel 1, chords on 2, bass on 3, the drums
on channel 10 with the kit as their program (bank 128; a kit the SoundFont lacks plays as the
Standard kit: FluidR3_GM has all eight of Instruments), a story's later sounds selected where its
sections change them. Drum notes get no note-off (General MIDI percussion rings out; a closed hat
still chokes an open one, by the SoundFont's exclusive classes).

Length: the piece's own (`duration_seconds`, at its tempi) plus TAIL_SECONDS (1 s) for the last
notes' release and the reverb to die away, the last FADE_SECONDS of it faded so nothing clicks.
Loudness: peak-normalised to PEAK_DBFS (-1 dBFS), so every download plays at the same level.

The SoundFont is loaded once per process and path, on the first render, with FluidSynth's dynamic
sample loading: its presets are parsed at once (~20 ms) and a preset's samples are read when a
render first selects it, so the process holds the few instruments in use (tens of MB), not all
148 MB. Renders share that one synth and take turns (a lock); each starts from a reset synth with
its reverb emptied, so nothing of the render before is heard. Two renders of one piece are alike
to within about -60 dB, not bit for bit (a recycled voice keeps a trace of its filter's state);
the server renders a round's file once and keeps it. FluidSynth renders in blocks of 64 frames
and starts a note at the next block's edge: timing to 1.5 ms.
"""

from __future__ import annotations

import ctypes
import functools
import io
import struct
import threading
import time
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .midi import TRACKS, sound_changes, to_pretty_midi
from .piece import Piece

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"  # Debian's fluid-soundfont-gm
SAMPLE_RATE = 44_100  # Hz: CD's rate, the SoundFont's samples' own
CHANNELS = 2  # stereo: the SoundFont pans its instruments and its reverb is stereo
TAIL_SECONDS = 1.0  # after the last bar line: the release of the last notes and the reverb
FADE_SECONDS = 0.25  # the end of the tail, faded to silence
PEAK_DBFS = -1.0
MAX_SECONDS = 300.0  # a longer piece is refused (its WAV would be over 50 MB)
SYNTH_GAIN = 0.4  # FluidSynth's output gain: headroom for a full chord on the drums (normalised after)
CHANNEL_OF = {"melody": 0, "chords": 1, "bass": 2, "drums": 9}  # MIDI channels 1, 2, 3 and 10
DRUM_BANK = 128  # General Standard's percussion bank: a kit is a preset in it
BLOCK = 64  # FluidSynth renders in blocks of this many frames; an event takes effect at the next one


class SynthUnavailable(RuntimeError):
    """No FluidSynth library, or no SoundFont at the path: the message says which and what installs it."""


class PieceTooLong(ValueError):
    """A piece whose audio would be longer than MAX_SECONDS."""


@dataclass
class _Engine:
    """One FluidSynth synth with the SoundFont loaded, shared by every render in the process."""

    synth: object  # fluidsynth.Synth
    soundfont_id: int
    write_float: object  # fluid_synth_write_float, which pyfluidsynth does not wrap
    clear_effects: object | None  # fluid_synth_set_sample_rate, where the library still has it
    lock: threading.Lock
    kits: frozenset[int]  # the drum kits (bank 128 presets) the SoundFont has
    load_seconds: float


def render(piece: Piece, soundfont: str | Path = SOUNDFONT) -> np.ndarray:
    """The piece as float32 samples, shape (frames, 2) in [-1, 1]: `duration_seconds +
    TAIL_SECONDS` long at SAMPLE_RATE. SynthUnavailable without FluidSynth or the SoundFont;
    PieceTooLong past MAX_SECONDS."""
    if piece.duration_seconds > MAX_SECONDS:
        raise PieceTooLong(f"the piece lasts {piece.duration_seconds:.0f} s; at most {MAX_SECONDS:.0f} s are rendered")
    engine = _engine(str(soundfont))
    frames = rendered_frames(piece)
    blocks = -(-frames // BLOCK) * BLOCK  # whole blocks: the next render starts on a block's edge
    events = _events(piece)
    out = np.zeros((blocks, CHANNELS), dtype=np.float32)
    with engine.lock:
        synth = engine.synth
        synth.system_reset()  # no note or controller of the render before
        if engine.clear_effects is not None:  # nor its reverb's tail (system_reset leaves the reverb ringing)
            engine.clear_effects(synth.synth, float(SAMPLE_RATE))

        def select(part: str, program: int) -> None:
            if part == "drums":  # a kit the SoundFont lacks plays as the Standard kit
                synth.program_select(CHANNEL_OF[part], engine.soundfont_id, DRUM_BANK, program if program in engine.kits else 0)
            else:
                synth.program_select(CHANNEL_OF[part], engine.soundfont_id, 0, program)

        for part in TRACKS:
            select(part, getattr(piece.instruments, part))
        done = 0
        for at, kind, part, pitch, velocity in events:
            at = min(at, frames)
            if at > done:
                _write(engine, out, done, at)
                done = at
            if kind == PROGRAM:
                select(part, pitch)
            elif kind == NOTE_ON:
                synth.noteon(CHANNEL_OF[part], pitch, velocity)
            else:
                synth.noteoff(CHANNEL_OF[part], pitch)
        _write(engine, out, done, blocks)
    out = out[:frames]
    fade = int(FADE_SECONDS * SAMPLE_RATE)
    out[frames - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    peak = float(np.abs(out).max(initial=0.0))
    if peak > 0:
        out *= np.float32(10 ** (PEAK_DBFS / 20) / peak)
    return out


def rendered_frames(piece: Piece) -> int:
    """How many frames `render` gives for the piece: its length plus the tail."""
    return round((piece.duration_seconds + TAIL_SECONDS) * SAMPLE_RATE)


NOTE_OFF, PROGRAM, NOTE_ON = 0, 1, 2  # at one frame, in this order: a repeated pitch is struck again, not cut; a section's new sound is there for its first notes


def _events(piece: Piece) -> list[tuple[int, int, str, int, int]]:
    """(frame, kind, track, pitch or program, velocity) of the MIDI file's notes and a story's
    program changes (music.midi.sound_changes), in time order."""
    events = [(round(piece.seconds_at(step) * SAMPLE_RATE), PROGRAM, part, program, 0) for step, part, program in sound_changes(piece)]
    for instrument in to_pretty_midi(piece).instruments:
        for note in instrument.notes:
            events.append((round(note.start * SAMPLE_RATE), NOTE_ON, instrument.name, note.pitch, note.velocity))
            if not instrument.is_drum:
                events.append((round(note.end * SAMPLE_RATE), NOTE_OFF, instrument.name, note.pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def _write(engine: _Engine, out: np.ndarray, start: int, end: int) -> None:
    """Frames start..end of the synth's output, straight into `out` (interleaved left/right)."""
    pointer = out.ctypes.data
    engine.write_float(engine.synth.synth, end - start, pointer, 2 * start, 2, pointer, 2 * start + 1, 2)


_LOADING = threading.Lock()  # two first renders at once load the SoundFont once


def _engine(soundfont: str) -> _Engine:
    """The synth for `soundfont`, loaded on first use (an error is not kept: the next call tries again)."""
    with _LOADING:
        return _load(soundfont)


@functools.lru_cache(maxsize=2)
def _load(soundfont: str) -> _Engine:
    if not Path(soundfont).is_file():
        raise SynthUnavailable(f"no SoundFont at {soundfont} (Debian's fluid-soundfont-gm installs it; `make run` does)")
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:  # the binding, or the C library it loads (Debian's libfluidsynth3)
        raise SynthUnavailable(f"FluidSynth is not installed ({exc}): `make run` installs libfluidsynth3 and pyfluidsynth") from None
    started = time.perf_counter()
    # dynamic sample loading: only the samples of the presets a render selects are read
    # (bench/render.py: the same render times as with all 148 MB read at once)
    settings = {"synth.cpu-cores": 1, "synth.dynamic-sample-loading": 1}
    synth = fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=float(SAMPLE_RATE), channels=16, **settings)
    soundfont_id = synth.sfload(soundfont)
    if soundfont_id < 0:
        synth.delete()
        raise SynthUnavailable(f"FluidSynth could not load the SoundFont {soundfont}")
    write_float = fluidsynth.cfunc(
        "fluid_synth_write_float", ctypes.c_int, ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
        ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
        ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1),
    )  # fmt: skip
    # Setting the sample rate (to the same rate) rebuilds the reverb and chorus: the one call that
    # empties the reverb's delay lines (deprecated in FluidSynth 2.1, there in Debian's 2.3; where
    # it is gone, a render may begin with the last one's reverb tail, some 60 dB down).
    clear_effects = fluidsynth.cfunc("fluid_synth_set_sample_rate", None, ("synth", ctypes.c_void_p, 1), ("sample_rate", ctypes.c_float, 1))
    kits = frozenset(kit for kit in range(128) if synth.sfpreset_name(soundfont_id, DRUM_BANK, kit) is not None)
    return _Engine(synth, soundfont_id, write_float, clear_effects, threading.Lock(), kits, time.perf_counter() - started)


def kits(soundfont: str | Path = SOUNDFONT) -> frozenset[int]:
    """The drum kits (General Standard numbers) the SoundFont has; a piece's kit it lacks plays as Standard (0)."""
    return _engine(str(soundfont)).kits


def load(soundfont: str | Path = SOUNDFONT) -> float:
    """Load the SoundFont now (a server may, before its first download); returns the seconds the
    first load took. SynthUnavailable as `render`."""
    return _engine(str(soundfont)).load_seconds


def engine_name(soundfont: str | Path = SOUNDFONT) -> str:
    """What renders, for a file's provenance: 'FluidSynth 2.3.1, FluidR3_GM.sf2'."""
    try:
        import fluidsynth

        parts = [ctypes.c_int(), ctypes.c_int(), ctypes.c_int()]
        fluidsynth.fluid_version(*parts)
        version = ".".join(str(p.value) for p in parts)
    except (ImportError, AttributeError):
        version = "(not installed)"
    return f"FluidSynth {version}, {Path(soundfont).name}"


# --- files ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tags:
    """What a file says of itself: its title, what wrote it, and a free comment (provenance)."""

    title: str = ""
    software: str = ""
    comment: str = ""

    def riff_info(self) -> dict[bytes, str]:
        """As a WAV's LIST/INFO chunk names them."""
        return {k: v for k, v in ((b"INAM", self.title), (b"ISFT", self.software), (b"ICMT", self.comment)) if v}


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit integers (rounded, clipped)."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")


def to_wav(samples: np.ndarray, tags: Tags = Tags(), rate: int = SAMPLE_RATE) -> bytes:
    """Samples (frames, channels) as a 16-bit PCM WAV, with a LIST/INFO chunk after the data for
    `tags` (readers that know no INFO, the standard library's `wave` among them, skip it)."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm16(samples).tobytes())
    return _with_info(out.getvalue(), tags.riff_info())


def _with_info(wav: bytes, info: Mapping[bytes, str]) -> bytes:
    """A RIFF file with a LIST/INFO chunk appended and the RIFF size fixed up."""
    if not info:
        return wav
    fields = b""
    for key, text in info.items():
        value = text.encode("utf-8") + b"\0"
        fields += key + struct.pack("<I", len(value)) + value + (b"\0" if len(value) % 2 else b"")
    chunk = b"LIST" + struct.pack("<I", 4 + len(fields)) + b"INFO" + fields
    body = wav[8:] + (b"\0" if len(wav) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body) + len(chunk)) + body + chunk


def wav_info(wav: bytes) -> dict[str, str]:
    """The LIST/INFO fields of a WAV file ({"ISFT": ..., "ICMT": ...}), for reading a download back."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    found, at = {}, 12
    while at + 8 <= len(wav):
        kind, size = wav[at : at + 4], struct.unpack("<I", wav[at + 4 : at + 8])[0]
        if kind == b"LIST" and wav[at + 8 : at + 12] == b"INFO":
            inner, end = at + 12, at + 8 + size
            while inner + 8 <= end:
                key, length = wav[inner : inner + 4], struct.unpack("<I", wav[inner + 4 : inner + 8])[0]
                found[key.decode("ascii")] = wav[inner + 8 : inner + 8 + length].rstrip(b"\0").decode("utf-8")
                inner += 8 + length + length % 2
        at += 8 + size + size % 2
    return found


OGG_QUALITY = 0.5  # Vorbis quality 0..1 (libsndfile's scale; ~145 kb/s for this music in stereo)


def to_ogg(samples: np.ndarray, tags: Tags = Tags(), rate: int = SAMPLE_RATE) -> bytes:
    """Samples (frames, channels) as Ogg Vorbis, `tags` as Vorbis comments (TITLE, SOFTWARE,
    COMMENT). The encoder is libsndfile's (the `soundfile` wheel brings it with libvorbis)."""
    try:
        import soundfile
    except (ImportError, OSError) as exc:
        raise SynthUnavailable(f"no Ogg Vorbis encoder ({exc}): `make run` installs soundfile") from None
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    out = io.BytesIO()
    with soundfile.SoundFile(out, "w", samplerate=rate, channels=channels, format="OGG", subtype="VORBIS", compression_level=1.0 - OGG_QUALITY) as f:
        for name in ("title", "software", "comment"):
            if getattr(tags, name):
                setattr(f, name, getattr(tags, name))
        f.write(samples)
    return out.getvalue()


def render_wav(piece: Piece, tags: Tags = Tags(), soundfont: str | Path = SOUNDFONT) -> bytes:
    return to_wav(render(piece, soundfont), tags)


def render_ogg(piece: Piece, tags: Tags = Tags(), soundfont: str | Path = SOUNDFONT) -> bytes:
    return to_ogg(render(piece, soundfont), tags)
