"""The application factory: one Flask app, its Socket.IO server and the services they share."""

from __future__ import annotations

import errno
import logging
import socket
from functools import partial
from pathlib import Path

from flask import Flask
from flask_socketio import SocketIO

from music.sampled import SOUNDFONT

from .composer import Deadlines, PiecePool
from .config import Config
from .downloads import PieceFiles
from .games import GAMES, unchanging_types
from .gevent_mode import gevent_patched
from .http import http
from .rooms import AttemptLimiter, ConnectionsPerAddress, RoomStore, Tokens
from .services import Services
from .sounds import sounds
from .storage import Storage
from .studio import studio
from .transport import JsonPacket, register


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

        store = RedisRoomStore(config.redis_url, unchanging_types())
    else:
        store = RoomStore()
    storage = Storage(config.database_url)
    if not store.outlives_process and (cut_off := storage.abandon_unfinished()):
        logging.getLogger("melody_arcade.rounds").info("rounds cut off by the last stop ended unscored: %d", cut_off)
    services = Services(
        store=store,
        storage=storage,
        tokens=Tokens(config.secret_key, lifetime=config.token_lifetime_days * 86400),
        pool=PiecePool(compose or partial(compose_with_models, config.model_dir), depth=partial(pool_depth, config.pool_depth),
                       compose_batch=None if compose else partial(compose_batch_with_models, config.model_dir),
                       processes=0 if compose else config.composer_processes,
                       deadlines=Deadlines(quick=config.composer_deadline, slow=config.composer_slow_deadline),
                       prepare=None if compose else partial(load_models, config.model_dir)),
        grace=config.grace_seconds,
        join_limiter=AttemptLimiter(config.join_attempts_per_minute, 60.0),
        addresses=ConnectionsPerAddress(config.max_connections_per_address),
    )
    app.extensions["melody_arcade.services"] = services
    app.extensions["melody_arcade.downloads"] = PieceFiles(config.model_dir, config.soundfont or SOUNDFONT)
    app.register_blueprint(http)
    app.register_blueprint(studio)
    app.register_blueprint(sounds)
    # gevent when `serve` monkey-patched this process for it, threading otherwise (tests that
    # build the app in-process; ASYNC_MODE=threading): docs/deploy.md. Events are capped well
    # above our own 16 KB limit so that an oversized one reaches the handler and is refused with
    # a code instead of dropping the connection.
    # With REDIS_URL, Flask-SocketIO's message queue carries emits to clients on other processes
    # (game_server/message_queue.py).
    # When the queue is back after losing Redis, the players seated on this process get `resync`.
    queue = None
    if config.redis_url:
        from .message_queue import MessageQueue
        from .redis_store import MAX_CONNECTIONS

        queue = MessageQueue(config.redis_url, channel="flask-socketio", redis_options={"max_connections": MAX_CONNECTIONS})
    socketio = SocketIO(app, async_mode="gevent" if gevent_patched() else "threading", max_http_buffer_size=8 * 1024 * 1024, async_handlers=False,
                        ping_interval=config.ping_interval, ping_timeout=config.ping_timeout, serializer=JsonPacket,
                        **({"client_manager": queue} if queue is not None else {}))
    lobby = register(socketio, services)
    if queue is not None:
        queue.on_back = lambda gap: socketio.start_background_task(lobby.resync_everyone)
    app.wsgi_app = no_delay(behind_proxies(app.wsgi_app, config.trusted_proxies))
    app.extensions["melody_arcade.socketio"] = socketio
    services.pool.warm(*(request for game in GAMES.values() for request in game.materials()))
    return app


def configure_logging(level: str) -> None:
    """LOG_LEVEL for the whole process, to stderr. A name in any case ('info' too); an unknown one
    raises ValueError. Where logging is set up already (pytest, an embedding program), this
    leaves it alone."""
    name = level.strip().upper()
    if not isinstance(logging.getLevelName(name), int):
        raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}")
    logging.basicConfig(level=name, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve_forever(app: Flask, socketio: SocketIO, host: str, port: int, log_output: bool = False, sock: socket.socket | None = None) -> None:
    """Serve the app on `sock` (from `listener`; opened here if not given) with gevent's pywsgi
    where this process was patched for gevent, else with Werkzeug's threads. `log_output`:
    Werkzeug's line for every HTTP request, off by default as pywsgi's always is (a long-polling
    client makes a request per move; the operator's lines are the lobby's and the round path's). Both servers take
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
    the same socket then waits ~40 ms for the peer's delayed ACK (Nagle's algorithm)."""

    def app(environ, start_response):
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        return wsgi_app(environ, start_response)

    return app


def behind_proxies(wsgi_app, trusted: int):
    """With `trusted` reverse proxies in front (TRUSTED_PROXIES), the client's address is the one
    they add to X-Forwarded-For (werkzeug's ProxyFix): the per-address limits then count each
    client, not the proxy. Outside Socket.IO's middleware, so its connections see it too. Only
    for a server that nothing but those proxies can reach: anyone else could send the header."""
    if not trusted:
        return wsgi_app
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(wsgi_app, x_for=trusted, x_proto=0, x_host=0, x_port=0, x_prefix=0)


def socketio_of(app: Flask) -> SocketIO:
    return app.extensions["melody_arcade.socketio"]


def services_of(app: Flask) -> Services:
    return app.extensions["melody_arcade.services"]


def load_models(model_dir: str) -> None:
    """In a new composer process: torch and the checkpoints, loaded before a round needs them."""
    from models.composer import default_composer

    default_composer(Path(model_dir))


def compose_with_models(model_dir: str, request, seed: int):
    """A round's pieces from the committed models (imported on first use: torch loads once)."""
    from models.composer import default_composer

    return request.compose(default_composer(Path(model_dir)), seed)


def compose_batch_with_models(model_dir: str, request, count: int, seed: int):
    """Up to `count` of a request's pieces in one batch; None for a request that cannot batch."""
    if not hasattr(request, "compose_batch"):
        return None
    from models.composer import default_composer

    return request.compose_batch(default_composer(Path(model_dir)), count, seed)


def pool_depth(depth: int, request) -> int:
    """Pieces kept ready for a request shape: the pool's depth times the request's factor; none
    for a request a player steered (its options or seed): that one is composed when asked."""
    if any(getattr(request, field, None) is not None for field in ("options", "story", "sections", "seed", "piece")):
        return 0
    return depth * getattr(request, "depth_factor", 1)
