"""The studio's HTTP API (issue #23): music players steer outside any round. Describe it, choose
it, tell a story, bring a tune (played in, or a MIDI file), re-roll some bars; every answer is
pieces the page plays, and the choice (with its seed) that starts a round on the same music.

Each route validates its body (400 `bad_payload`), asks the composer through the pool's
`compose_now` (503 `composer_busy` / `composer_unavailable`), and refuses what the models cannot
do with a code: `unsupported_music` (a choice they cannot honour), `bad_piece` (a piece that is
not one), `bad_midi` (a file that cannot be read), `too_large`. docs/protocol.md, "The studio".
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from typing import Literal

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import Field, ValidationError

from models.describe import MAX_DESCRIPTION, interpret
from models.options import ComposerError, section_starts
from music import MidiError, Piece, PieceFormatError, join_sections, piece_from_dict, piece_to_dict, read_midi

from .composer import ComposerUnavailable, ComposeTimeout
from .material import PieceRequest, RegenerateRequest, StoryRequest, TuneRequest
from .protocol import MusicChoice, StoryChoice, Strict, chosen_options

studio = Blueprint("studio", __name__)

MAX_BODY = 256 * 1024  # a 16-bar piece's JSON is ~10 kB
MAX_MIDI = 64 * 1024  # a tune's MIDI file: a folk tune is 1-5 kB; anything this large is not a tune
MAX_TUNE_BARS = 8  # a tune played in or uploaded: the composer's primer is at most half its 16 bars
MAX_BARS = 16


class Describe(Strict):
    text: str = Field(max_length=MAX_DESCRIPTION)


class Compose(Strict):
    """Music from a description, a choice, or both (the choice's fields win where given)."""

    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    music: MusicChoice | None = None
    bars: int = Field(default=8, ge=2, le=MAX_BARS)


class Story(Strict):
    story: StoryChoice


class Tune(Strict):
    """A player's tune (`piece`: its melody is used, its other parts ignored) continued to `bars`
    or varied by `amount`, in the music chosen (style, groove, density, instruments)."""

    piece: dict
    how: Literal["continue", "vary"] = "continue"
    bars: int = Field(default=8, ge=2, le=MAX_BARS)
    amount: float = Field(default=0.3, ge=0.0, le=1.0)
    music: MusicChoice | None = None


class Regenerate(Strict):
    """Re-roll bars `first`..`last` (0-based, inclusive) of `piece`; the rest is kept."""

    piece: dict
    first: int = Field(ge=0, lt=MAX_BARS)
    last: int = Field(ge=0, lt=MAX_BARS)
    style: Literal["essen", "irish", "scottish", "misc"] = "irish"
    seed: int | None = Field(default=None, ge=0, le=2**53)


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _body(model):
    if (request.content_length or 0) > MAX_BODY:
        raise Refusal(400, "too_large", f"the body is over {MAX_BODY} bytes")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refusal(400, "bad_payload", "the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False)[:5])
        raise Refusal(400, "bad_payload", problems) from None


def _compose(material_request):
    pool = current_app.extensions["melody_arcade.services"].pool
    try:
        return pool.compose_now(material_request)
    except ComposeTimeout as exc:
        raise Refusal(503, "composer_busy", str(exc)) from None
    except ComposerUnavailable:
        raise Refusal(503, "composer_unavailable", "the composer is restarting: try again in a few seconds") from None
    except ComposerError as exc:
        raise Refusal(400, "unsupported_music", str(exc)) from None


def _piece(data: dict, bars: int = MAX_BARS) -> Piece:
    try:
        piece = piece_from_dict(data)
    except PieceFormatError as exc:
        raise Refusal(400, "bad_piece", str(exc)) from None
    if piece.bars > bars:
        raise Refusal(400, "bad_piece", f"the piece has {piece.bars} bars; here it may have {bars} at most")
    return piece


@studio.errorhandler(Refusal)
def _refused(exc: Refusal):
    return jsonify(error={"code": exc.code, "message": exc.message}), exc.status


@studio.get("/api/studio/choices")
def choices():
    """What a player may choose (models/options.py) and the names people read for it, so that the
    page writes none of these lists again."""
    from dataclasses import asdict

    from models.options import DENSITIES, GROOVES, METERS, MODES, STYLE_NAMES, STYLES, TEMPO_LIMITS
    from music import DRUM_KITS, GM_PROGRAMS, Instruments

    # [value, name] pairs, in order (a JSON object's keys would come sorted)
    return jsonify(styles=[[style, STYLE_NAMES[style]] for style in STYLES], moods=list(MODES), meters=list(METERS), densities=list(DENSITIES),
                   grooves=list(GROOVES), tempo=list(TEMPO_LIMITS), programs=list(GM_PROGRAMS), kits=[[n, name] for n, name in DRUM_KITS.items()],
                   instruments=asdict(Instruments()))


@studio.post("/api/studio/describe")
def describe():
    """What the words say, without composing: the page shows it as the player types."""
    return jsonify(interpret(_body(Describe).text).as_dict())


@studio.post("/api/studio/compose")
def compose():
    p = _body(Compose)
    options, heard = chosen_options(p.description, p.music)
    seed = p.music.seed if p.music is not None else None
    composed = _compose(PieceRequest(p.bars, options=options, seed=seed))
    # `music` (with the seed) starts a round on this very piece: start_round's `music`
    return jsonify(piece=piece_to_dict(composed.pieces[0]), seed=composed.seed, music={**options.as_dict(), "seed": composed.seed}, heard=heard and heard.as_dict())


@studio.post("/api/studio/story")
def story():
    p = _body(Story)
    sections, heard = p.story.story()
    composed = _compose(StoryRequest(sections, p.story.seed))
    # `piece`: the sections as one piece (each at its tempo), the file a player takes home
    return jsonify(pieces=[piece_to_dict(piece) for piece in composed.pieces], piece=piece_to_dict(join_sections(list(composed.pieces))), seed=composed.seed,
                   sections=[{**h, "bar": b} for h, b in zip(heard, section_starts(sections))], story={**json.loads(p.story.model_dump_json()), "seed": composed.seed})


@studio.post("/api/studio/tune")
def tune():
    p = _body(Tune)
    own = _piece(p.piece, MAX_TUNE_BARS)
    if not own.melody:
        raise Refusal(400, "bad_piece", "the tune has no notes")
    if p.how == "continue" and p.bars <= own.bars:
        raise Refusal(400, "bad_payload", f"bars: a continuation is longer than the tune ({own.bars} bars)")
    options, _ = chosen_options(None, p.music)
    seed = p.music.seed if p.music is not None else None
    bars = p.bars if p.how == "continue" else own.bars
    composed = _compose(TuneRequest(own, p.how, bars, p.amount, options, seed))
    return jsonify(piece=piece_to_dict(composed.pieces[0]), seed=composed.seed)


@studio.post("/api/studio/regenerate")
def regenerate():
    p = _body(Regenerate)
    piece = _piece(p.piece)
    if not p.first <= p.last < piece.bars:
        raise Refusal(400, "bad_payload", f"bars {p.first}..{p.last} are not bars of this {piece.bars}-bar piece")
    composed = _compose(RegenerateRequest(piece, tuple(range(p.first, p.last + 1)), p.style, p.seed))
    return jsonify(piece=piece_to_dict(composed.pieces[0]), seed=composed.seed)


class PieceFile(Strict):
    piece: dict
    seed: int | None = Field(default=None, ge=0, le=2**53)  # the seed the page was answered with, for the file's provenance


@studio.post("/api/studio/piece.<extension>")
def piece_file(extension: str):
    """The studio's current piece as a file to keep (MIDI, WAV, Ogg), saying what wrote it; made
    off the loop like a round's (downloads.file_of). 503 `synth_unavailable`, 413 `piece_too_long`."""
    from music.sampled import PieceTooLong, SynthUnavailable

    from . import provenance
    from .downloads import FORMATS, file_of, off_the_loop

    if extension not in FORMATS:
        raise Refusal(404, "no_such_format", f"a piece is downloaded as {', '.join(FORMATS)}")
    p = _body(PieceFile)
    piece = _piece(p.piece)
    files = current_app.extensions["melody_arcade.downloads"]
    said = functools.partial(provenance.of_studio, p.seed, files.model_dir)
    try:
        data = off_the_loop(file_of, piece, extension, said, files.soundfont) if FORMATS[extension].sampled else file_of(piece, extension, said, files.soundfont)
    except SynthUnavailable as exc:
        raise Refusal(503, "synth_unavailable", f"this server cannot render audio: {exc}") from None
    except PieceTooLong as exc:
        raise Refusal(413, "piece_too_long", str(exc)) from None
    name = f"melody-arcade-studio-{p.seed if p.seed is not None else 'piece'}.{extension}"
    return Response(data, mimetype=FORMATS[extension].media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@studio.post("/api/studio/midi")
def midi():
    """A MIDI file (the body, as it is) read as a tune: its melody line (ours, or the highest
    line of someone else's, made one note at a time), its first MAX_TUNE_BARS bars."""
    if (request.content_length or 0) > MAX_MIDI:
        raise Refusal(413, "too_large", f"a tune's MIDI file is at most {MAX_MIDI // 1024} KiB")
    data = request.get_data(cache=False)
    if len(data) > MAX_MIDI:
        raise Refusal(413, "too_large", f"a tune's MIDI file is at most {MAX_MIDI // 1024} KiB")
    try:
        read = read_midi(data)
    except MidiError as exc:
        raise Refusal(400, "bad_midi", str(exc)) from None
    if not read.melody:
        raise Refusal(400, "bad_midi", "the file has drums or chords but no melody line")
    bars = min(read.bars, MAX_TUNE_BARS)
    end = bars * read.steps_per_bar
    melody = tuple(n for n in read.melody if n.start < end)
    melody = tuple(replace(n, end=min(n.end, end)) for n in melody)
    tune_ = Piece(tempo=read.tempo, meter=read.meter, key=read.key, bars=bars, melody=melody)
    return jsonify(piece=piece_to_dict(tune_), bars_in_file=read.bars, cut=read.bars > bars)


@studio.get("/studio")
def studio_page():
    """The page, opened at the studio: main.js shows the studio's view at this address."""
    from flask import send_from_directory

    from .http import WEB_CLIENT

    return send_from_directory(WEB_CLIENT, "index.html")
