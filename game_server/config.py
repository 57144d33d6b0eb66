"""All configuration, read from environment variables in one place (README "Configuration").

Every setting has a default that makes `make run` work on a fresh machine; a deployment overrides
only what differs. `Config.from_env()` is what the command line uses; tests build a Config
directly (or pass overrides to `create_app`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"  # HOST
    port: int = 5000  # PORT
    log_level: str = "INFO"  # LOG_LEVEL
    # SECRET_KEY signs player tokens; without one a random key is made per process, so tokens do
    # not survive a restart. Set it in any deployment with more than one process.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    ENV_NAMES = {
        "host": "HOST",
        "port": "PORT",
        "log_level": "LOG_LEVEL",
        "secret_key": "SECRET_KEY",
    }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(cls.ENV_NAMES[f.name])
            if raw is None or raw == "":
                continue
            if f.name == "port":
                try:
                    values["port"] = int(raw)
                except ValueError:
                    raise SystemExit(f"PORT must be an integer, got {raw!r}") from None
            else:
                values[f.name] = raw
        return cls(**values)

    def with_overrides(self, **overrides) -> Config:
        return replace(self, **overrides)
