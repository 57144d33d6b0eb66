"""What wrote a downloaded piece: the program, the round and its seed, and the composer's
checkpoints by name and hash, so a file found later on someone's disk can be traced to the exact
models (and the round's seed reproduces it from them).

Read from the checkpoint files themselves (models/checkpoints: *.pt, *.json, *.npz), hashed once
per process; torch is never imported for it (a server process that only serves files needs no
model loaded).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PROGRAM = "Melody Arcade"
CHECKPOINT_PATTERNS = ("*.pt", "*.json", "*.npz")
SHORT_HASH = 12  # hex digits of sha256: plenty to tell checkpoints apart, short enough to read


@functools.lru_cache(maxsize=4)
def checkpoints(model_dir: str) -> tuple[tuple[str, str], ...]:
    """(file name, short sha256) of each checkpoint file in `model_dir`, by name."""
    files = sorted({path for pattern in CHECKPOINT_PATTERNS for path in Path(model_dir).glob(pattern) if path.is_file()})
    return tuple((path.name, hashlib.sha256(path.read_bytes()).hexdigest()[:SHORT_HASH]) for path in files)


@functools.lru_cache(maxsize=1)
def program() -> str:
    """'Melody Arcade 0.1.0' (the installed package's version)."""
    try:
        return f"{PROGRAM} {metadata.version('melody-arcade')}"
    except metadata.PackageNotFoundError:
        return PROGRAM


@dataclass(frozen=True)
class Provenance:
    round_id: str | None  # None: a piece made in the studio, outside any round
    game: str
    level: str
    seed: int | None
    checkpoints: tuple[tuple[str, str], ...]
    renderer: str = ""  # what made the sound (audio files only): 'FluidSynth 2.3.1, FluidR3_GM.sf2'

    @property
    def title(self) -> str:
        return f"{PROGRAM} round {self.round_id}" if self.round_id else f"{PROGRAM} studio piece"

    @property
    def software(self) -> str:
        return program()

    @property
    def comment(self) -> str:
        """One line: round, game and level, seed, the checkpoints, and the renderer if any."""
        models = ", ".join(f"{name} sha256:{digest}" for name, digest in self.checkpoints) or "none found"
        rendered = f"; rendered with {self.renderer}" if self.renderer else ""
        where = f"round {self.round_id} ({self.game}, level {self.level})" if self.round_id else "the studio"
        return f"Written by {program()}: {where}, seed {self.seed if self.seed is not None else 'not given'}; composer checkpoints: {models}{rendered}"


def of_studio(seed: int | None, model_dir: str, renderer: str = "") -> Provenance:
    """The provenance of a piece the studio made (its seed as the player's page kept it)."""
    return Provenance(None, "studio", "-", seed, checkpoints(str(model_dir)), renderer)


def of_round(stored, model_dir: str, renderer: str = "") -> Provenance:
    """The provenance of a stored round's piece (storage.StoredRound)."""
    return Provenance(stored.id, stored.game, stored.level, stored.seed, checkpoints(str(model_dir)), renderer)
