"""What Beat Hunt asks of the composer: an n x n grid of drum beats blended between four corners.

`GridRequest(n, contrast, meter, style).compose(composer, seed)` -> `(BeatGrid,)`, made in a
composer child process (where the models are imported) and pickled back; a BeatGrid is ~35 kB
at 11 x 11 (n*n*T*9 bytes).

How a grid is made, every choice from one numpy Generator seeded by `seed` (a seed gives the
same grid):
    candidates  CANDIDATES beats drawn from the drum model in one call; repeats and near-silent
                ones (models.composer.MIN_DRUM_HITS) are dropped
    corners     "contrasting": farthest-point on Hamming distance from a random candidate, so the
                four are as far apart as the draw allows;
                "similar": the same spreading, but only among the random candidate's nearest
                SIMILAR_POOL (itself included): close together, yet not the four nearest, whose
                grids often held fewer distinct beats than a side has cells (see below)
    grid        one batched `DrumComposer.blend` call (bilinear in latent space, corners exact)
    target      a random cell, never a corner (a corner is one of four known places, too easy
                a guess), and one whose beat no other cell shares where the grid has one (a
                beat heard on several cells cannot be told apart by ear)
    tempo       TEMPO_RANGE, inclusive
A player's piece (the studio's "play this as Beat Hunt"): its first two bars of drums are corner
(0, 0), the other three are spread from it as above, in its meter and at its tempo (at most
MAX_TEMPO).

Why SIMILAR_POOL = 16 (half the candidates): over 20 seeds, the four nearest neighbours gave
11x11 grids of as few as 5 distinct beats (6/8 jazz); spreading among the nearest 8 or 12 still
fell under n (3/4 jazz, 6/8 ballad); among the nearest 16 no 9x9 or 11x11 grid fell under n
(4/4 jazz and rock, 3/4 jazz and waltz, 6/8 jazz and ballad; the worst, 6/8 ballad, 11 of 121),
while the corners stay about 0.6 as far apart as contrasting ones (mean pairwise Hamming in
jazz: 4/4 26 against 41, 3/4 11 against 18, 6/8 12 against 19). `python -m bench.blend` prints
the counts per ladder rung.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from models.grooves import METERS, STYLES  # constants only: models.grooves loads no torch
from music import DRUM_CLASSES, Key, Meter, Piece, drum_hits

from .rules import CONTRASTS, Cell

CANDIDATES = 32  # one sampling call; up to 32 the drum decoder steps in numpy (models/drums.py)
SIMILAR_POOL = 16
TEMPO_RANGE = (90, 130)  # bpm: moderate; 2 bars last 2.8 s or more, well over rules.MIN_SECONDS
# Of the drum styles trained in every meter (ballad, country, jazz, latin, rock), the one with the
# most training patterns in 3/4 and 6/8 (15 and 34; 111 in 4/4): one default good in every meter.
DEFAULT_STYLE = "jazz"
MAX_TEMPO = 240  # a player's piece faster than this is hunted at it: rules.MIN_SECONDS holds
BARS = 2  # a drum pattern is 2 bars
NO_KEY = Key(0, "major")  # a Piece must name a key; a drums-only beat has no pitch, so C major is nominal


@dataclass(frozen=True, eq=False)
class BeatGrid:
    """A Beat Hunt grid: `grid[x, y]` is cell (x, y)'s 2-bar beat [T, 9] (uint8 multi-hot in the
    9 drum classes), corners at (0, 0), (n-1, 0), (0, n-1), (n-1, n-1); `target` the hidden cell.
    The array is read-only, so the grid stays frozen; equality compares the beats."""

    meter: str
    style: str
    tempo: int
    n: int
    grid: np.ndarray = field(repr=False)
    target: Cell

    def __post_init__(self) -> None:
        grid = np.array(self.grid, dtype=np.uint8)  # a copy: the caller's array cannot change ours
        shape = (self.n, self.n, steps_of(self.meter), len(DRUM_CLASSES))
        if grid.shape != shape:
            raise ValueError(f"a {self.n}x{self.n} grid in {self.meter} has shape {shape}, not {grid.shape}")
        grid.setflags(write=False)
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "target", self._cell(self.target))

    def __reduce__(self):
        """Pickled through the constructor, so an unpickled grid is checked and read-only too."""
        return (BeatGrid, (self.meter, self.style, self.tempo, self.n, self.grid, self.target))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BeatGrid):
            return NotImplemented
        return self._scalars() == other._scalars() and np.array_equal(self.grid, other.grid)

    def __hash__(self) -> int:
        return hash((self._scalars(), self.grid.tobytes()))

    def _scalars(self) -> tuple:
        return (self.meter, self.style, self.tempo, self.n, self.target)

    def _cell(self, cell) -> Cell:
        """(x, y) as ints, or ValueError for anything that is not a cell of this grid."""
        whole = (int, np.integer)
        if not (isinstance(cell, tuple | list) and len(cell) == 2 and all(isinstance(v, whole) and not isinstance(v, bool) and 0 <= v < self.n for v in cell)):
            raise ValueError(f"{cell!r} is not a cell of a {self.n}x{self.n} grid")
        return (int(cell[0]), int(cell[1]))

    def corners(self) -> tuple[Cell, Cell, Cell, Cell]:
        last = self.n - 1
        return ((0, 0), (last, 0), (0, last), (last, last))

    def beat(self, cell: Cell) -> np.ndarray:
        """The cell's pattern [T, 9] (read-only)."""
        x, y = self._cell(cell)
        return self.grid[x, y]

    @cached_property
    def packed(self) -> str:
        """Every cell's beat, x-major (cell (x, y) is beat x * n + y), as `pack_beats` packs them:
        the round's view and its stored setup (made once a grid, not per view)."""
        return pack_beats(self.grid)

    def piece(self, cell: Cell) -> Piece:
        """The cell's beat as a drums-only 2-bar Piece at the grid's tempo (to play or render)."""
        return beat_piece(self.beat(cell), self.meter, self.tempo)


def steps_of(meter: str) -> int:
    """The steps of a 2-bar beat in `meter`: 32 in 4/4, 24 in 3/4 and 6/8."""
    return BARS * Meter.parse(meter).steps_per_bar


def beat_of(piece: Piece) -> np.ndarray:
    """A piece's first two bars of drums as a beat [T, 9] (uint8 multi-hot)."""
    beat = np.zeros((BARS * piece.steps_per_bar, len(DRUM_CLASSES)), dtype=np.uint8)
    for hit in piece.drums:
        if hit.step < len(beat):
            beat[hit.step, DRUM_CLASSES.index(hit.drum)] = 1
    return beat


def beat_piece(beat: np.ndarray, meter: str, tempo: int) -> Piece:
    """A 2-bar beat [T, 9] as a drums-only Piece."""
    the_meter = Meter.parse(meter)
    return Piece(tempo=tempo, meter=the_meter, key=NO_KEY, bars=BARS, drums=drum_hits(beat, the_meter))


BITS = np.arange(len(DRUM_CLASSES))  # a drum class's bit in a step's hit mask


def masks(patterns: np.ndarray) -> list:
    """[..., T, 9] multi-hot -> [..., T] hit masks, bit d = DRUM_CLASSES[d]: the beats as the page
    plays them and sends them back (Beat Hunt's view, the instrument's tools)."""
    return (patterns.astype(np.int64) << BITS).sum(axis=-1).tolist()


def patterns(beats) -> np.ndarray:
    """The inverse of `masks`: [..., T] hit masks -> [..., T, 9] uint8 multi-hot."""
    return ((np.array(beats, dtype=np.int64)[..., None] >> BITS) & 1).astype(np.uint8)


def pack_beats(beats: np.ndarray) -> str:
    """[..., T, 9] multi-hot -> the beats, in order, packed bit by bit as base64url (no padding):
    per step its 9-bit hit mask, bit 8 first, as the page packs a share link's corners (blend_grid.js
    `packBeats`). 48 characters a 4/4 beat: one short string to send and store, where the masks
    as numbers were 3,872 to encode at 11 x 11."""
    bits = np.asarray(beats, dtype=np.uint8)[..., ::-1]  # [..., T, 9], bit 8 (the last class) first
    return base64.urlsafe_b64encode(np.packbits(bits.ravel()).tobytes()).decode("ascii").rstrip("=")


def unpack_beats(text: str, count: int, steps: int) -> np.ndarray:
    """The inverse of `pack_beats`: `count` beats of `steps` steps [count, steps, 9], or
    ValueError for text that does not hold exactly that many."""
    need = count * steps * len(DRUM_CLASSES)
    size = -(-need // 8)  # bytes
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise ValueError(f"packed beats are base64url text: {exc}") from None
    if len(raw) != size:
        raise ValueError(f"{count} beats of {steps} steps pack into {size} bytes, not {len(raw)}")
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8))[:need]
    return bits.reshape(count, steps, len(DRUM_CLASSES))[..., ::-1].copy()


def beat_format(meter: str) -> dict:
    """How the page reads a beat of `meter`: its steps, bars and beats, and the drums its bits name."""
    the_meter = Meter.parse(meter)
    return {"steps": steps_of(meter), "steps_per_bar": the_meter.steps_per_bar, "beat_steps": the_meter.beat_steps,
            "drums": [drum.value for drum in DRUM_CLASSES]}


@dataclass(frozen=True)
class GridRequest:
    """A Beat Hunt grid of n x n cells (5..11, as rules.Level) with contrasting or similar corners;
    with `piece` (a player's), from its beat, in its meter and at its tempo (composed when asked)."""

    n: int
    contrast: str
    meter: str = "4/4"
    style: str = DEFAULT_STYLE
    piece: Piece | None = None
    # A round is ~30 s and a refill waits behind Run levels in a busy composer: at the pool's depth
    # (3) four of five levels' grids ran out under bench/realtime.py's mixed load. A grid is ~35 KB.
    depth_factor: ClassVar[int] = 3

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or isinstance(self.n, bool) or not 5 <= self.n <= 11:
            raise ValueError(f"a Beat Hunt grid has 5..11 cells a side, not {self.n!r}")
        if self.contrast not in CONTRASTS:
            raise ValueError(f"contrast must be one of {CONTRASTS}, not {self.contrast!r}")
        if self.meter not in METERS:
            raise ValueError(f"drum meter must be one of {METERS}, not {self.meter!r}")
        if self.style not in STYLES:
            raise ValueError(f"drum style must be one of {STYLES}, not {self.style!r}")

    def compose(self, composer, seed: int) -> tuple[BeatGrid]:
        drums = composer.drums
        if drums is None:
            raise RuntimeError("Beat Hunt needs the drum model (models/checkpoints/drums.pt)")
        if drums.patterns_seen(self.meter, self.style) == 0:  # known only once the checkpoint is loaded
            raise ValueError(f"the drum model was never trained on {self.style} in {self.meter}")
        rng = np.random.default_rng(seed)
        pool = candidates(drums, self.meter, self.style, rng)
        if self.piece is None:
            chosen = (contrasting_corners if self.contrast == "contrasting" else similar_corners)(hamming(pool), rng)
            tempo = int(rng.integers(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1))
        else:  # the player's beat first, then spread from it
            own = beat_of(self.piece)
            pool = np.concatenate([own[None], pool[(pool != own).any(axis=(1, 2))]])
            chosen = corners_from(hamming(pool), self.contrast, 0)
            tempo = min(self.piece.tempo, MAX_TEMPO)
        blended = drums.blend(pool[chosen], self.n, self.meter, self.style)  # [row = y, column = x, T, 9]
        grid = blended.transpose(1, 0, 2, 3)
        return (BeatGrid(self.meter, self.style, tempo, self.n, grid, target_cell(grid, rng)),)


def candidates(drums, meter: str, style: str, rng: np.random.Generator) -> np.ndarray:
    """[K, T, 9] distinct beats, none near silence, from one sampling call (sorted: np.unique)."""
    from models.composer import MIN_DRUM_HITS

    drawn = np.unique(drums.sample(meter, style, seed=int(rng.integers(2**63)), count=CANDIDATES), axis=0)
    full = drawn[drawn.sum(axis=(1, 2)) >= MIN_DRUM_HITS]
    if len(full) < 4:
        raise RuntimeError(f"only {len(full)} distinct full beats in {CANDIDATES} draws of {style} in {meter}")
    return full


def hamming(patterns: np.ndarray) -> np.ndarray:
    """[K, K] hits that differ between each two patterns."""
    flat = patterns.reshape(len(patterns), -1)
    return (flat[:, None] != flat[None]).sum(axis=-1)


def contrasting_corners(distance: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Four indices far apart, from a random one (`corners_from`)."""
    return corners_from(distance, "contrasting", int(rng.integers(len(distance))))


def similar_corners(distance: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Four indices close together, from a random one (`corners_from`)."""
    return corners_from(distance, "similar", int(rng.integers(len(distance))))


def corners_from(distance: np.ndarray, contrast: str, start: int) -> list[int]:
    """Four indices, `start` first: "contrasting", spread over every candidate; "similar", spread
    over the SIMILAR_POOL nearest to `start` (itself first, at distance 0; all distinct, since the
    candidates are)."""
    pool = range(len(distance)) if contrast == "contrasting" else np.argsort(distance[start], kind="stable")[:SIMILAR_POOL]
    return spread(distance, pool, start)


def spread(distance: np.ndarray, pool, start: int) -> list[int]:
    """Greedy farthest-point: from `start`, three more of `pool`, each the farthest from those
    chosen (by its nearest chosen one; the first of equals in pool order)."""
    chosen = [start]
    while len(chosen) < 4:
        rest = [int(i) for i in pool if i not in chosen]
        chosen.append(max(rest, key=lambda i: distance[i, chosen].min()))
    return chosen


def target_cell(grid: np.ndarray, rng: np.random.Generator) -> Cell:
    """A random cell that is no corner, among those whose beat is on no other cell if any are."""
    n = grid.shape[0]
    _, where, count = np.unique(grid.reshape(n * n, -1), axis=0, return_inverse=True, return_counts=True)
    where = where.ravel()  # numpy 2.0.0 shaped it like the input
    corners = {0, n - 1, n * (n - 1), n * n - 1}  # flat index x * n + y
    cells = [i for i in range(n * n) if i not in corners]
    unique = [i for i in cells if count[where[i]] == 1]
    pick = (unique or cells)[int(rng.integers(len(unique or cells)))]
    return (pick // n, pick % n)
