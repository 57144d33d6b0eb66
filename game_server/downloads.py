"""A finished round's piece as files to take home: MIDI, WAV and Ogg Vorbis, each saying what
wrote it (game_server/provenance.py).

Why it is more than a function: a sampled render takes a tenth of a second of CPU, too long for
the socket handlers' loop (under gevent every player waits while a greenlet computes), so it runs
on a native thread of a pool of its own (FluidSynth and libsndfile release the GIL while they
work). A result screen offers the files to every player of a round at once, so each file is made
once per round and format: requests that come while it is being made wait for that one, and the
made files are kept in a least-recently-used cache bounded in bytes.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from . import provenance
from .gevent_mode import gevent_patched

CACHE_BYTES = 64 * 1024 * 1024  # ~20 WAVs of 8 bars, hundreds of OGGs


@dataclass(frozen=True)
class Format:
    extension: str
    media_type: str
    sampled: bool  # rendered by the SoundFont synth (music/sampled.py)


FORMATS = {
    "mid": Format("mid", "audio/midi", sampled=False),
    "wav": Format("wav", "audio/wav", sampled=True),
    "ogg": Format("ogg", "audio/ogg", sampled=True),
}


def piece_of(stored):
    """The round's piece: a stored list of pieces (Sort's morph rounds) played one after another."""
    from music import concatenate, piece_from_dict

    data = json.loads(stored.piece)
    return concatenate([piece_from_dict(p) for p in data]) if isinstance(data, list) else piece_from_dict(data)


def filename(stored, extension: str) -> str:
    """'melody-arcade-sort-r_abc123.wav': the program, the game and the round, safe on any disk."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{stored.game}-{stored.id}")
    return f"melody-arcade-{safe}.{extension}"


def with_midi_text(midi: bytes, text: str) -> bytes:
    """A MIDI file with a text meta event at the start of its first track (music/midi.py writes
    the file; what wrote it is said here, where the round is known)."""
    import mido

    song = mido.MidiFile(file=io.BytesIO(midi))
    song.tracks[0].insert(0, mido.MetaMessage("text", text=text, time=0))
    out = io.BytesIO()
    song.save(file=out)
    return out.getvalue()


def make(stored, extension: str, model_dir: str, soundfont: str) -> bytes:
    """The file itself, from the stored round. music.sampled's SynthUnavailable and PieceTooLong pass through."""
    return file_of(piece_of(stored), extension, lambda renderer: provenance.of_round(stored, model_dir, renderer), soundfont)


def file_of(piece, extension: str, said, soundfont: str) -> bytes:
    """A piece as a file of this format saying what wrote it (`said(renderer)` -> Provenance)."""
    from music import sampled, to_midi_bytes

    if not FORMATS[extension].sampled:
        return with_midi_text(to_midi_bytes(piece), said("").comment)
    written = said(sampled.engine_name(soundfont))
    tags = sampled.Tags(title=written.title, software=written.software, comment=written.comment)
    samples = sampled.render(piece, soundfont)
    return sampled.to_wav(samples, tags) if extension == "wav" else sampled.to_ogg(samples, tags)


class MadeOnce:
    """Files made once per key and kept in a least-recently-used cache bounded in bytes; a request
    that comes while its file is being made waits for that one. `made` counts the files made rather
    than found in the cache. (A round's files here; the page's samples, game_server/sounds.py.)"""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.made = 0
        self._kept: OrderedDict[tuple, bytes] = OrderedDict()
        self._kept_bytes = 0
        self._making: dict[tuple, Future] = {}
        self._lock = threading.Lock()

    def _made_once(self, key: tuple, make: Callable[[], bytes]) -> bytes:
        """The file under `key`, from the cache or from `make()`; make's exception passes to every waiter."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            making = self._making.get(key)
            first = making is None
            if first:
                making = self._making[key] = Future()
        if not first:
            return making.result()
        try:
            data = make()
        except BaseException as exc:
            with self._lock:
                del self._making[key]
            making.set_exception(exc)
            raise
        with self._lock:
            self.made += 1
            self._keep(key, data)
            del self._making[key]
        making.set_result(data)
        return data

    def _keep(self, key: tuple, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        self._kept[key] = data
        self._kept_bytes += len(data)
        while self._kept_bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._kept_bytes -= len(dropped)

    def kept_bytes(self) -> int:
        return self._kept_bytes


class PieceFiles(MadeOnce):
    """The files of finished rounds, each made once (see the module's docstring)."""

    def __init__(self, model_dir: str, soundfont: str, max_bytes: int = CACHE_BYTES):
        super().__init__(max_bytes)
        self.model_dir, self.soundfont = model_dir, soundfont

    def get(self, stored, extension: str) -> bytes:
        """The round's file in this format, from the cache or made now (a sound off the loop; a
        MIDI file takes milliseconds: it waits behind no render)."""
        if FORMATS[extension].sampled:
            return self._made_once((stored.id, extension), lambda: off_the_loop(make, stored, extension, self.model_dir, self.soundfont))
        return self._made_once((stored.id, extension), lambda: make(stored, extension, self.model_dir, self.soundfont))

_pool = None


def off_the_loop(work, *args):
    """`work(*args)` where it stops no other player: under gevent (`serve`'s default), on the one
    native thread of a pool kept for it (one: renders share one synth and take turns anyway, and
    gevent's own hub pool is left to its resolver); with threads (ASYNC_MODE=threading, the tests'
    in-process app), in the request's own thread."""
    global _pool
    if not gevent_patched():
        return work(*args)
    if _pool is None:
        from gevent.threadpool import ThreadPool

        _pool = ThreadPool(1)
    return _pool.apply(work, args)
