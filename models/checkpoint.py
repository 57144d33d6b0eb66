"""Checkpoints: weights in float16 plus what made them (data version, code version, settings).

A checkpoint must say where it came from, so every file here carries a `meta` dict with the
corpus version, the music21 version, the git commit and a hash of the models/ source at training
time. Weights are stored as float16 (half the bytes; the loss of precision does not change
sampled tokens measurably) and cast back to float32 on load.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from importlib import metadata
from pathlib import Path

import torch

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
MODELS_DIR = Path(__file__).resolve().parent


def code_version() -> dict:
    """The git commit (if any) and a hash of every models/*.py file as it is now."""
    digest = hashlib.sha256()
    for path in sorted(MODELS_DIR.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=MODELS_DIR, capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return {"git_commit": commit or "unknown", "models_source_sha256": digest.hexdigest()[:16]}


def environment_version() -> dict:
    versions = {}
    for name in ("torch", "numpy", "music21", "symusic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def save(path: Path, model: torch.nn.Module, config: dict, meta: dict) -> None:
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    meta = {**meta, "code": code_version(), "environment": environment_version(), "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": config, "state_dict": state, "meta": meta}, path)


def load(path: Path, model_class, config_class):
    """-> (model in eval mode, meta). Raises FileNotFoundError with the path if it is missing."""
    if not Path(path).exists():
        raise FileNotFoundError(f"checkpoint {path} is missing: run `python -m models.train` to make it")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = model_class(config_class(**blob["config"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
    model.eval()
    return model, blob["meta"]
