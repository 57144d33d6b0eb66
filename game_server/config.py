"""All configuration, read from environment variables in one place (README "Configuration").

Every setting has a default that makes `make run` work on a fresh machine; a deployment overrides
only what differs. `Config.from_env()` is what the command line uses; tests build a Config
directly (or pass overrides to `create_app`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .composer_processes import Deadlines

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"  # HOST
    port: int = 5000  # PORT
    log_level: str = "INFO"  # LOG_LEVEL
    # SECRET_KEY signs player tokens; without one a random key is made per process, so tokens do
    # not survive a restart. Set it in any deployment with more than one process.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    # DATABASE_URL: where players, rounds, moves and results last (SQLAlchemy URL).
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'melody-arcade.db'}"
    # MODEL_DIR: the composer's checkpoints (committed under models/checkpoints).
    model_dir: str = str(PROJECT_ROOT / "models" / "checkpoints")
    # GRACE_SECONDS: how long a co-op round waits for a player whose connection dropped.
    grace_seconds: float = 20.0
    # POOL_DEPTH: ready pieces kept per round shape, so starting a round never waits on the model.
    pool_depth: int = 3
    # COMPOSER_PROCESSES: child processes that compose (0: threads in the server's process).
    composer_processes: int = 1
    # COMPOSER_DEADLINE, COMPOSER_SLOW_DEADLINE: seconds a composer process may take over one
    # call (quick shapes; slow ones, proven Run levels) before it is judged frozen and replaced
    # (game_server/composer_processes.py, Deadlines, says why these defaults).
    composer_deadline: float = Deadlines.quick
    composer_slow_deadline: float = Deadlines.slow
    # REDIS_URL: when set, rooms and rounds live in Redis and Socket.IO broadcasts go through it,
    # so several server processes serve one game (docs/deploy.md). Unset: one process, in memory.
    redis_url: str = ""
    # ASYNC_MODE: how `serve` runs its websockets (docs/deploy.md): gevent (greenlets on one thread,
    # the standard library monkey-patched first) or threading (a thread for each, Werkzeug).
    async_mode: str = "gevent"
    # PING_INTERVAL, PING_TIMEOUT (seconds): Engine.IO's heartbeat. A client that has not answered
    # a ping within interval + timeout is dropped, and so is one that stops reading what it is sent.
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    # TOKEN_LIFETIME_DAYS: a player token older than this is refused (`token_expired`); every
    # hello issues a fresh one, so only a player away that long starts again as a new one. 0: never.
    token_lifetime_days: float = 30.0
    # MAX_CONNECTIONS_PER_ADDRESS: open Socket.IO connections one remote address may hold in one
    # process; the next is refused at connect. 0: no cap (the benches' hundreds of loopback players).
    max_connections_per_address: int = 50
    # JOIN_ATTEMPTS_PER_MINUTE: wrong room codes one remote address may try a minute (0: no limit).
    join_attempts_per_minute: int = 5
    # TRUSTED_PROXIES: reverse proxies in front of the server whose X-Forwarded-For is believed
    # (werkzeug's ProxyFix), so that the limits above count each client, not the proxy. 0: none.
    trusted_proxies: int = 0
    # SOUNDFONT: the General MIDI SoundFont a round's WAV and Ogg downloads are played with
    # (music/sampled.py). Empty: Debian's FluidR3_GM (fluid-soundfont-gm), which `make run` installs.
    soundfont: str = ""

    ENV_NAMES = {
        "host": "HOST",
        "port": "PORT",
        "log_level": "LOG_LEVEL",
        "secret_key": "SECRET_KEY",
        "database_url": "DATABASE_URL",
        "model_dir": "MODEL_DIR",
        "pool_depth": "POOL_DEPTH",
        "grace_seconds": "GRACE_SECONDS",
        "composer_processes": "COMPOSER_PROCESSES",
        "composer_deadline": "COMPOSER_DEADLINE",
        "composer_slow_deadline": "COMPOSER_SLOW_DEADLINE",
        "redis_url": "REDIS_URL",
        "async_mode": "ASYNC_MODE",
        "ping_interval": "PING_INTERVAL",
        "ping_timeout": "PING_TIMEOUT",
        "token_lifetime_days": "TOKEN_LIFETIME_DAYS",
        "max_connections_per_address": "MAX_CONNECTIONS_PER_ADDRESS",
        "join_attempts_per_minute": "JOIN_ATTEMPTS_PER_MINUTE",
        "trusted_proxies": "TRUSTED_PROXIES",
        "soundfont": "SOUNDFONT",
    }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(cls.ENV_NAMES[f.name])
            if raw is None or raw == "":
                continue
            if f.type in ("int", int, "float", float):
                kind = int if f.type in ("int", int) else float
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    raise SystemExit(f"{cls.ENV_NAMES[f.name]} must be a number, got {raw!r}") from None
            else:
                values[f.name] = raw
        return cls(**values)

    def with_overrides(self, **overrides) -> Config:
        return replace(self, **overrides)
