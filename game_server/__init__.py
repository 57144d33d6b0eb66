"""Melody Arcade's game server: Flask + Flask-SocketIO around pure game rules."""

from .app import create_app
from .config import Config

__all__ = ["Config", "create_app"]
