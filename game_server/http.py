"""REST endpoints: health, leaderboards, rounds, their piece as files (MIDI, WAV, Ogg) and the sound of their hidden clips, the
games' tools (`POST /api/games/<game>/<tool>`: requests a game answers outside any round), and the
browser client at `/` (and at `/<game>`, where the page shows a game's roundless view, if it has one)."""

from __future__ import annotations

import functools
import platform
import re
from importlib import metadata
from pathlib import Path

from flask import Blueprint, abort, jsonify, send_from_directory

http = Blueprint("http", __name__)

WEB_CLIENT = Path(__file__).resolve().parent.parent / "web_client"
# The only files served from node_modules: the two browser builds the page loads.
VENDOR = {"socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js", "Tone.js": "tone/build/Tone.js"}


@http.get("/")
def index():
    return send_from_directory(WEB_CLIENT, "index.html")


@http.get("/<game>")
def game_page(game: str):
    """The page, opened at a game's own address (`/blend`: Beat Blender's instrument); the page
    (main.js) shows the game's roundless view there when its page module has one."""
    from .games import GAMES

    if game not in GAMES:
        abort(404)
    return send_from_directory(WEB_CLIENT, "index.html")


@http.get("/static/<path:path>")
def static_file(path: str):
    return send_from_directory(WEB_CLIENT / "src", path)


@http.get("/vendor/<name>")
def vendor(name: str):
    if name not in VENDOR:
        abort(404)
    if not (WEB_CLIENT / "node_modules" / VENDOR[name]).exists():
        return jsonify(error={"code": "client_not_installed", "message": "run `make run`: it installs the page's npm packages"}), 503
    return send_from_directory(WEB_CLIENT / "node_modules", VENDOR[name])

_VERSIONED = ("melody-arcade", "flask", "flask-socketio", "python-socketio", "torch", "numpy", "pretty_midi")


@functools.cache
def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


@http.get("/healthz")
def healthz():
    """Liveness, the versions and async mode that matter when a bug report comes in, and the
    composer pool's ready pieces per round shape (`ready`: every shape has one, so round starts
    are instant), and each composer line's processes (`composers`: up, pids, replacements)."""
    from flask import current_app

    pool = current_app.extensions["melody_arcade.services"].pool
    async_mode = current_app.extensions["melody_arcade.socketio"].async_mode
    return jsonify(status="ok", versions=_versions(), async_mode=async_mode, pool=pool.sizes(), ready=pool.warmed(), composers=pool.composers())


@http.get("/readyz")
def readyz():
    """Readiness, for a load balancer: 200 when this process can play a round now (its database
    answers, its room store answers, every composer process works, none being replaced or still
    loading, and the composer has a piece ready for every round shape), else 503 and which of
    them cannot. /healthz is liveness: the process answers at all."""
    from flask import current_app

    services = current_app.extensions["melody_arcade.services"]
    checks = {
        "database": services.storage.unreachable(),
        "rooms": services.store.unreachable(),
        "composer": services.pool.unavailable() or (None if services.pool.warmed() else "a round shape has no piece ready yet"),
    }
    ready = all(problem is None for problem in checks.values())
    return jsonify(ready=ready, checks={name: problem or "ok" for name, problem in checks.items()}), 200 if ready else 503


def _storage():
    from flask import current_app

    return current_app.extensions["melody_arcade.services"].storage


@http.get("/api/games")
def games():
    """The games, their ladders and levels as people read them (the lobby is built from this)."""
    from .games import catalog

    return jsonify(catalog())


MAX_TOOL_BODY = 64 * 1024  # bytes: a tool's JSON (a 64-beat path of 4/4 beats is ~10 kB)


@http.post("/api/games/<game>/<tool>")
def game_tool(game: str, tool: str):
    """A game's tool (games.base.Tool), for every game alike: the JSON body validated by the tool's
    model (400 `bad_payload`), its answer as JSON or as the tool's media type; a rule of the
    tool's own refuses with its code (400); the composer behind (503 `composer_busy`) or down
    (503 `composer_unavailable`); an unknown game or tool is 404."""
    from flask import Response, current_app, request
    from pydantic import ValidationError

    from .composer import ComposerUnavailable, ComposeTimeout
    from .games import GAMES
    from .games.base import Refused

    found = GAMES.get(game)
    if found is None or tool not in found.tools:
        return jsonify(error={"code": "unknown_tool", "message": f"no tool {tool!r} for game {game!r}"}), 404
    spec = found.tools[tool]
    if (request.content_length or 0) > MAX_TOOL_BODY:
        return jsonify(error={"code": "bad_payload", "message": f"the body is over {MAX_TOOL_BODY} bytes"}), 400
    body = request.get_json(silent=True)
    if body is None:
        return jsonify(error={"code": "bad_payload", "message": "the body must be a JSON object"}), 400
    try:
        payload = spec.model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False)[:5])
        return jsonify(error={"code": "bad_payload", "message": problems}), 400
    pool = current_app.extensions["melody_arcade.services"].pool
    try:
        answer = spec.answer(payload, pool.compose_now)
    except Refused as exc:
        return jsonify(error={"code": exc.code, "message": exc.reason}), 400
    except ComposeTimeout as exc:
        return jsonify(error={"code": "composer_busy", "message": str(exc)}), 503
    except ComposerUnavailable:
        return jsonify(error={"code": "composer_unavailable", "message": "the composer is restarting: try again in a few seconds"}), 503
    if isinstance(answer, bytes):
        return Response(answer, mimetype=spec.media_type)
    return jsonify(answer)


@http.get("/api/leaderboard")
def leaderboard():
    """Best results for a game (and level): ?game=sort&level=slices-0&limit=20."""
    from flask import request

    from .games import GAMES

    game = request.args.get("game", next(iter(GAMES)))
    if game not in GAMES:
        return jsonify(error={"code": "unknown_game", "message": f"game must be one of {', '.join(GAMES)}"}), 400
    try:
        limit = max(1, min(100, int(request.args.get("limit", 20))))
    except ValueError:
        return jsonify(error={"code": "bad_limit", "message": "limit must be an integer"}), 400
    return jsonify(game=game, level=request.args.get("level"), results=_storage().leaderboard(game, request.args.get("level"), limit))


@http.get("/api/rounds/<round_id>")
def get_round(round_id: str):
    """A round, its moves and its result. The answer and the piece are shown once it has ended."""
    stored = _storage().get_round(round_id)
    if stored is None:
        return jsonify(error={"code": "no_such_round", "message": "no round has that id"}), 404
    body = {
        "id": stored.id, "game": stored.game, "level": stored.level, "players": stored.players,
        "started_at": stored.started_at, "ended_at": stored.ended_at, "result": stored.result,
        "moves": stored.moves if stored.ended_at else len(stored.moves),
    }
    if stored.ended_at:
        piece = f"/api/rounds/{round_id}/piece"
        body.update(seed=stored.seed, answer=stored.setup.get("answer"), piece_midi=f"{piece}.mid", piece_wav=f"{piece}.wav", piece_ogg=f"{piece}.ogg")
    return jsonify(body)


@http.get("/api/rounds/<round_id>/piece.mid")
def round_midi(round_id: str):
    """The round's piece as MIDI, only once the round has ended (it would give the answer away)."""
    return _round_file(round_id, "mid")


@http.get("/api/rounds/<round_id>/piece.wav")
def round_wav(round_id: str):
    """The round's piece played on the SoundFont's instruments: 16-bit stereo WAV at 44.1 kHz."""
    return _round_file(round_id, "wav")


@http.get("/api/rounds/<round_id>/piece.ogg")
def round_ogg(round_id: str):
    """The same sound as Ogg Vorbis, a tenth of the WAV's size."""
    return _round_file(round_id, "ogg")


def _round_file(round_id: str, extension: str):
    """A finished round's piece as a file to keep (game_server/downloads.py: made once per round
    and format, off the loop), saying what wrote it; 404 `no_such_round`, 403 `round_not_over`,
    503 `synth_unavailable` (no FluidSynth or SoundFont here), 413 `piece_too_long`."""
    from flask import Response, current_app

    from music.sampled import PieceTooLong, SynthUnavailable

    from .downloads import FORMATS, filename

    stored = _storage().get_round(round_id)
    if stored is None:
        return jsonify(error={"code": "no_such_round", "message": "no round has that id"}), 404
    if stored.ended_at is None:
        return jsonify(error={"code": "round_not_over", "message": "the piece is available once the round has ended"}), 403
    try:
        data = current_app.extensions["melody_arcade.downloads"].get(stored, extension)
    except SynthUnavailable as exc:
        return jsonify(error={"code": "synth_unavailable", "message": f"this server cannot render audio: {exc}"}), 503
    except PieceTooLong as exc:
        return jsonify(error={"code": "piece_too_long", "message": str(exc)}), 413
    # an ended round's piece never changes: the browser may keep it
    headers = {"Content-Disposition": f'attachment; filename="{filename(stored, extension)}"', "Cache-Control": "private, max-age=86400, immutable"}
    return Response(data, mimetype=FORMATS[extension].media_type, headers=headers)


TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@http.get("/api/rounds/<round_id>/clips/<token>.wav")
def clip_audio(round_id: str, token: str):
    """A clip its players may hear but not read (a hidden Sort clip, Beat Hunt's target), as a
    16-bit mono WAV (44.1 kHz from the SoundFont's samples, 22.05 kHz from the synths). The address is given by the reply to a listen, and only there: its token is 128
    random bits kept in the round's stored setup (so any server process serves it), tied to that
    round and clip, and saying nothing of the order. Any other token, or another round's, is 404."""
    from flask import Response

    if not TOKEN.fullmatch(token):
        return _no_such_clip()
    try:
        wav = _clip_wav(_storage(), round_id, token)
    except LookupError:
        return _no_such_clip()
    # the same address is always the same sound: the browser may keep it for the round
    return Response(wav, mimetype="audio/wav", headers={"Cache-Control": "private, max-age=3600, immutable"})


def _no_such_clip():
    return jsonify(error={"code": "no_such_clip", "message": "no clip is heard at that address"}), 404


@functools.lru_cache(maxsize=32)
def _clip_wav(storage, round_id: str, token: str) -> bytes:
    """The WAV of a heard-only clip (a few recent ones kept: a player listens to a clip more than
    once), played as the page plays its pieces, since players compare it by ear with them: from the
    SoundFont's samples (game_server/sounds.py) where this server has them, with music/audio.py's
    synths where not (the page then plays its synths too). LookupError when the round has no clip
    with that token (not kept, nor cached)."""
    from music.audio import render_wav
    from music.sampled import SynthUnavailable

    from .games import GAMES
    from .sounds import heard_only_wav

    stored = storage.get_round(round_id)
    game = None if stored is None else GAMES.get(stored.game)
    piece = None if game is None else game.heard_only(stored.setup, token)
    if piece is None:
        raise LookupError(token)
    try:
        return heard_only_wav(piece)  # 16-bit mono 44.1 kHz, the piece's length
    except SynthUnavailable:
        return render_wav(piece)
