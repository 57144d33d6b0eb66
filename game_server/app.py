"""The application factory: one Flask app and its Socket.IO server, built from a Config."""

from __future__ import annotations

import logging

from flask import Flask
from flask_socketio import SocketIO

from .config import Config
from .http import http


def create_app(config: Config | None = None, **overrides) -> Flask:
    """Build the app. `config` defaults to the environment's; keyword overrides replace fields."""
    config = (config or Config.from_env()).with_overrides(**overrides)
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, static_folder=None)
    app.config["MELODY_ARCADE"] = config
    app.config["SECRET_KEY"] = config.secret_key
    app.register_blueprint(http)
    # Threading mode: the maintainer's advice now that eventlet is deprecated (DESIGN.md).
    socketio = SocketIO(app, async_mode="threading")
    app.extensions["melody_arcade.socketio"] = socketio
    return app


def socketio_of(app: Flask) -> SocketIO:
    return app.extensions["melody_arcade.socketio"]
