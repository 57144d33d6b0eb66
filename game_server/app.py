"""The application factory: one Flask app, its Socket.IO server and the services they share."""

from __future__ import annotations

import errno
import logging
import socket
import sys
from functools import partial
from pathlib import Path

from flask import Flask
from flask_socketio import SocketIO

from .composer import MorphRequest, PiecePool, PieceRequest, RunRequest
from .config import Config
from .http import http
from .protocol import JsonPacket
from .realtime import Services, register
from .rooms import RoomStore, Tokens
from .storage import Storage


def create_app(config: Config | None = None, compose=None, **overrides) -> Flask:
    """Build the app. `config` defaults to the environment's; keyword overrides replace fields.
    `compose(request, seed)` makes a round's pieces; by default the committed models do."""
    config = (config or Config.from_env()).with_overrides(**overrides)
    configure_logging(config.log_level)
    app = Flask(__name__, static_folder=None)
    app.config["MELODY_ARCADE"] = config
    app.config["SECRET_KEY"] = config.secret_key
    if config.database_url.startswith("sqlite:///"):
        Path(config.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if config.redis_url:
        from .redis_store import RedisRoomStore

        store = RedisRoomStore(config.redis_url)
    else:
        store = RoomStore()
    services = Services(
        store=store,
        storage=Storage(config.database_url),
        tokens=Tokens(config.secret_key),
        pool=PiecePool(compose or partial(compose_with_models, config.model_dir), depth=partial(pool_depth, config.pool_depth),
                       compose_batch=None if compose else partial(compose_batch_with_models, config.model_dir),
                       processes=0 if compose else config.composer_processes),
        grace=config.grace_seconds,
    )
    app.extensions["melody_arcade.services"] = services
    app.register_blueprint(http)
    # gevent when `serve` monkey-patched this process for it, threading otherwise (tests that
    # build the app in-process; ASYNC_MODE=threading): docs/deploy.md. Events are capped well
    # above our own 16 KB limit so that an oversized one reaches the handler and is refused with
    # a code instead of dropping the connection.
    # With REDIS_URL, Flask-SocketIO's message queue carries emits to clients on other processes.
    queue = {}
    if config.redis_url:
        from socketio import RedisManager

        from .redis_store import MAX_CONNECTIONS

        queue = {"client_manager": RedisManager(config.redis_url, channel="flask-socketio", redis_options={"max_connections": MAX_CONNECTIONS})}
    socketio = SocketIO(app, async_mode="gevent" if gevent_patched() else "threading", max_http_buffer_size=8 * 1024 * 1024, async_handlers=False, serializer=JsonPacket, **queue)
    register(socketio, services)
    app.wsgi_app = no_delay(app.wsgi_app)
    app.extensions["melody_arcade.socketio"] = socketio
    services.pool.warm(PieceRequest(bars=8), PieceRequest(bars=16), MorphRequest(n=5), MorphRequest(n=7), MorphRequest(n=10), RunRequest(0), RunRequest(1))
    return app


def configure_logging(level: str) -> None:
    """LOG_LEVEL for the whole process, to stderr. A name in any case ('info' too); an unknown one
    raises ValueError. Where logging is set up already (pytest, an embedding program), this
    leaves it alone."""
    name = level.strip().upper()
    if not isinstance(logging.getLevelName(name), int):
        raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}")
    logging.basicConfig(level=name, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def gevent_patched() -> bool:
    """Whether this process runs on gevent: the standard library's threads were monkey-patched
    into greenlets before anything started one (`python -m game_server serve` does it first)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def serve_forever(app: Flask, socketio: SocketIO, host: str, port: int, log_output: bool = False, sock: socket.socket | None = None) -> None:
    """Serve the app on `sock` (from `listener`; opened here if not given) with gevent's pywsgi
    where this process was patched for gevent, else with Werkzeug's threads. `log_output`:
    Werkzeug's line for every HTTP request, off by default as pywsgi's always is (a long-polling
    client makes a request per move; the operator's lines are realtime.py's). Both servers take
    the app as it is (Flask-SocketIO's middleware is in it), so `socketio` is not needed here."""
    sock = sock or listener(host, port)
    if gevent_patched():
        from gevent.pywsgi import WSGIServer

        WSGIServer(sock, app, log=None).serve_forever()
    else:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args) -> None:
                pass

        handler = WSGIRequestHandler if log_output else QuietHandler
        make_server(host, port, app, threaded=True, request_handler=handler, fd=sock.fileno()).serve_forever()


class PortInUse(OSError):
    """Another process listens on the port (most likely another server)."""


def listener(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is announced so that a busy port is one clear
    error (PortInUse). With TCP_NODELAY, which Linux passes on to every connection it accepts:
    gevent's pywsgi does not set it (see `no_delay`)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(exc.errno, f"port {port} on {host} is already in use") from None
        raise
    return sock


def no_delay(wsgi_app):
    """Set TCP_NODELAY on every connection: Werkzeug does not, and a push followed by an ack on
    the same socket then waits ~40 ms for the peer's delayed ACK (Nagle; DESIGN.md)."""

    def app(environ, start_response):
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        return wsgi_app(environ, start_response)

    return app


def socketio_of(app: Flask) -> SocketIO:
    return app.extensions["melody_arcade.socketio"]


def services_of(app: Flask) -> Services:
    return app.extensions["melody_arcade.services"]


def compose_with_models(model_dir: str, request, seed: int):
    """A round's pieces from the committed models (imported on first use: torch loads once)."""
    import random

    from models.composer import default_composer

    from .games import run
    from .games.sort import is_steady_path

    composer = default_composer(Path(model_dir))
    if isinstance(request, PieceRequest):
        return (composer.compose(bars=request.bars, meter=request.meter, style=request.style, seed=seed),)
    draws = random.Random(seed)
    if isinstance(request, RunRequest):  # a level the bot cannot finish is recomposed
        spec = run.LADDER[request.level]
        candidates = (composer.compose(bars=spec.bars, meter="4/4", style=spec.style, seed=draws.getrandbits(62)) for _ in range(RUN_DRAWS))
        return (run.first_playable(candidates, spec),)
    for _ in range(MORPH_DRAWS):  # a path that is not steady has no single right order: redraw
        path = composer.morph(request.n, request.meter, request.style, seed=draws.getrandbits(62))
        if len(path) == request.n and is_steady_path(path):
            return tuple(path)
    raise RuntimeError(f"no steady morph path of {request.n} clips in {MORPH_DRAWS} draws")


def pool_depth(depth: int, request) -> int:
    """Whole pieces (Sort's slices) are composed in batches, cheaply: keep WHOLE_PIECE_DEPTH times
    more of them ready, so that a rush of round starts is served from the pool; Run levels, the
    next most asked for, RUN_LEVEL_DEPTH times."""
    if isinstance(request, PieceRequest):
        return depth * WHOLE_PIECE_DEPTH
    return depth * RUN_LEVEL_DEPTH if isinstance(request, RunRequest) else depth


WHOLE_PIECE_DEPTH, RUN_LEVEL_DEPTH = 8, 4
# Run levels a batch proves at most: a proof costs 0.3-0.9 s of CPU, and a start waiting for a
# level gets it only when its whole batch is back (a batch of 12 took longer than the 10 s limit)
RUN_BATCH = 2


def compose_batch_with_models(model_dir: str, request, count: int, seed: int):
    """Up to `count` whole pieces, or up to RUN_BATCH Run levels, composed in one batch (None for
    morph paths). A Run batch draws extra candidates for the ones that fail the rung's density,
    leap or playability checks (1 to 2 of every 3 since levels are proven for human timing); it
    may come back short, and the pool asks again."""
    if not isinstance(request, (PieceRequest, RunRequest)):
        return None
    from models.composer import default_composer

    from .games import run

    composer = default_composer(Path(model_dir))
    if isinstance(request, PieceRequest):
        pieces = composer.compose_many(count, bars=request.bars, meter=request.meter, style=request.style, seed=seed)
        return [(piece,) for piece in pieces]
    spec = run.LADDER[request.level]
    count = min(count, RUN_BATCH)
    draws = count * (8 if spec.min_notes_per_bar else 5)  # drawing is cheap; only the proofs stop at `count`
    drawn = composer.compose_many(draws, bars=spec.bars, meter="4/4", style=spec.style, seed=seed)
    levels = []
    for piece in drawn:  # proven one by one, and no more than needed
        if (level := run.for_rung(piece, spec)) is not None:
            levels.append((level,))
            if len(levels) == count:
                break
    return levels


MORPH_DRAWS = 40
RUN_DRAWS = 40
