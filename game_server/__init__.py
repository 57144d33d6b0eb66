"""Melody Arcade's game server: Flask + Flask-SocketIO around pure game rules."""

from .config import Config

__all__ = ["Config", "create_app"]


def __getattr__(name: str):
    # The app (Flask, Socket.IO, SQLAlchemy, their threads and sockets) loads on first use, not
    # with the package: `python -m game_server serve` monkey-patches the standard library for
    # gevent before any of it loads.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
