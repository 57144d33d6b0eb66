"""The games the server plays. A game is a folder here whose package exports `GAME` (a
games.base.Game); to add one, add its folder's name to PLAYED. Nothing else in the server names
a game (docs/architecture.md)."""

from __future__ import annotations

from importlib import import_module

from .base import Game

PLAYED = ("sort", "run", "blend")

GAMES: dict[str, Game] = {game.name: game for game in (import_module(f"{__name__}.{folder}").GAME for folder in PLAYED)}


def unchanging_types() -> tuple[type, ...]:
    """Every game's round parts that never change once a round has started (for RedisRoomStore)."""
    return tuple(t for game in GAMES.values() for t in game.unchanging)


def catalog() -> dict:
    """Every game, its ladders and their levels, for `GET /api/games`."""
    return {"games": [game.catalog() for game in GAMES.values()]}
