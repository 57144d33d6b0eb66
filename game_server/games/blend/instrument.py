"""Beat Blender's instrument: Beat Hunt's grid as a free instrument, outside any round. Its three
tools (games.base.Tool, served at `POST /api/games/blend/<tool>` by game_server/http.py):

    grid     {corners?, seed?, n = 11, meter = "4/4", style = "jazz"} -> {n, meter, style, seed,
             corners, beats, steps, steps_per_bar, beat_steps, drums}: the n x n grid blended
             between four corner beats (one batched DrumComposer.blend in the composer process,
             BlendRequest). Without `corners` the four are sampled from the drum model with the
             seed (contrasting, as Beat Hunt's material picks them: material.py); with them,
             exactly those. `beats[x][y]` is cell (x, y)'s beat, the corners at (0, 0), (n-1, 0),
             (0, n-1), (n-1, n-1) in the order `corners` lists them, and always exactly them.
    presets  {} -> presets.json: 24 named 2-bar beats drawn from the training grooves (presets.py),
             and the styles the drum model was trained on in each meter.
    midi     {beats, tempo, meter} -> a MIDI file (audio/midi) of those beats one after another,
             2 bars each (the current beat: one; a path: the beats the puck passed, in order).

A beat, in and out, is what Beat Hunt's view sends: T hit masks, one per 16th step of 2 bars
(T = 32 in 4/4, 24 in 3/4 and 6/8), bit d set when DRUM_CLASSES[d] hits. Nothing is stored: a
grid is rebuilt from its corners and settings (the page's share link carries them).
"""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from models.grooves import STYLES
from music import DRUM_CLASSES, concatenate, to_midi_bytes

from ...protocol import Strict
from ..base import Tool
from .material import DEFAULT_STYLE, beat_format, beat_piece, candidates, contrasting_corners, hamming, masks, patterns, steps_of

PRESETS = Path(__file__).resolve().parent / "presets.json"
MeterName = Literal["4/4", "3/4", "6/8"]
Mask = Annotated[int, Field(ge=0, le=2 ** len(DRUM_CLASSES) - 1)]
Beat = Annotated[list[Mask], Field(min_length=24, max_length=32)]
MAX_PATH = 64  # beats in one MIDI export (a path of 64 cells, 128 bars)


@functools.lru_cache(maxsize=1)
def presets() -> dict:
    return json.loads(PRESETS.read_text())


def _check_beats(beats: list[list[int]], meter: str, what: str) -> None:
    steps = steps_of(meter)
    for i, beat in enumerate(beats):
        if len(beat) != steps:
            raise ValueError(f"{what} {i} has {len(beat)} steps; a 2-bar beat in {meter} has {steps}")


class GridAsk(Strict):
    corners: list[Beat] | None = Field(default=None, min_length=4, max_length=4)
    seed: int | None = Field(default=None, ge=0, le=2**53)  # 2**53: a number JavaScript keeps exact
    n: int = Field(default=11, ge=5, le=11)
    meter: MeterName = "4/4"
    style: Literal[STYLES] = DEFAULT_STYLE  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _fits(self) -> GridAsk:
        if self.style not in presets()["styles"].get(self.meter, []):
            raise ValueError(f"the drum model was never trained on {self.style} in {self.meter}: one of {', '.join(presets()['styles'][self.meter])}")
        if self.corners is not None:
            _check_beats(self.corners, self.meter, "corner")
        return self


class PresetsAsk(Strict):
    pass


class MidiAsk(Strict):
    beats: list[Beat] = Field(min_length=1, max_length=MAX_PATH)
    tempo: int = Field(ge=40, le=240)
    meter: MeterName = "4/4"

    @model_validator(mode="after")
    def _fits(self) -> MidiAsk:
        _check_beats(self.beats, self.meter, "beat")
        return self


@dataclass(frozen=True)
class BlendRequest:
    """An instrument's grid, made in a composer process: `corners` (4 beats as tuples of T hit
    masks: top-left, top-right, bottom-left, bottom-right) or None to sample four contrasting ones
    from `seed`. compose -> ([n, n, T, 9] uint8, indexed [x, y], corners as given)."""

    n: int
    meter: str
    style: str
    seed: int
    corners: tuple[tuple[int, ...], ...] | None = None

    def compose(self, composer, seed: int) -> tuple[np.ndarray]:
        drums = composer.drums
        if drums is None:
            raise RuntimeError("the instrument needs the drum model (models/checkpoints/drums.pt)")
        if self.corners is None:
            rng = np.random.default_rng(self.seed)  # the request's seed, not the pool's: a seed gives the same grid
            pool = candidates(drums, self.meter, self.style, rng)
            corners = pool[contrasting_corners(hamming(pool), rng)]
        else:
            corners = patterns(self.corners)
        blended = drums.blend(corners, self.n, self.meter, self.style)  # [row = y, column = x, T, 9]
        return (blended.transpose(1, 0, 2, 3).copy(),)


def grid(ask: GridAsk, compose) -> dict:
    seed = secrets.randbits(31) if ask.seed is None else ask.seed
    corners = None if ask.corners is None else tuple(tuple(beat) for beat in ask.corners)
    cells = compose(BlendRequest(ask.n, ask.meter, ask.style, seed, corners)).pieces[0]
    beats = masks(cells)
    last = ask.n - 1
    return {"n": ask.n, "meter": ask.meter, "style": ask.style, "seed": seed,
            "corners": [beats[0][0], beats[last][0], beats[0][last], beats[last][last]], "beats": beats, **beat_format(ask.meter)}


def midi(ask: MidiAsk, compose) -> bytes:
    return to_midi_bytes(concatenate([beat_piece(pattern, ask.meter, ask.tempo) for pattern in patterns(ask.beats)]))


def preset_list(ask: PresetsAsk, compose) -> dict:
    return presets()


TOOLS = {
    "grid": Tool(GridAsk, grid),
    "presets": Tool(PresetsAsk, preset_list),
    "midi": Tool(MidiAsk, midi, "audio/midi"),
}


