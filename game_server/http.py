"""REST endpoints: health now; MIDI downloads, leaderboards and the static client as they come."""

from __future__ import annotations

import platform
from importlib import metadata

from flask import Blueprint, jsonify

http = Blueprint("http", __name__)

_VERSIONED = ("melody-arcade", "flask", "flask-socketio", "python-socketio", "torch", "numpy", "pretty_midi")


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
    """Liveness plus the versions that matter when a bug report comes in."""
    return jsonify(status="ok", versions=_versions())
