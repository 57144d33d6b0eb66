"""Beat Hunt's material (game_server/games/blend/material.py) from the committed drum model:
grids are reproducible, their corners are the blend's, the target is a fair cell, the corners'
contrast holds, every meter has its length, a cell's piece plays its beat, bad requests are
refused and a grid pickles."""

from __future__ import annotations

import itertools
import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from game_server.games.blend.material import BeatGrid, GridRequest, hamming, masks, pack_beats, patterns, unpack_beats
from game_server.games.blend.rules import LADDER
from models.drums import DrumComposer
from models.threads import one_thread_each
from music import DRUM_CLASSES, DrumClass, Meter

STEPS = {"4/4": 32, "3/4": 24, "6/8": 24}  # 2 bars of 16ths


class Recording:
    """The real drum model, keeping what each blend call was given and gave back."""

    def __init__(self, drums: DrumComposer):
        self.drums, self.blends = drums, []

    def __getattr__(self, name):
        return getattr(self.drums, name)

    def blend(self, corners, n, meter, style):
        grid = self.drums.blend(corners, n, meter, style)
        self.blends.append((corners.copy(), grid.copy()))
        return grid


@pytest.fixture(scope="module")
def drums() -> DrumComposer:
    one_thread_each()  # as in a composer process
    return DrumComposer.load()


@pytest.fixture(scope="module")
def composer(drums) -> SimpleNamespace:
    """What a GridRequest uses of the composer: its drum model (the melody models are not loaded)."""
    return SimpleNamespace(drums=drums)


def grid_of(composer, seed: int, n: int = 7, contrast: str = "contrasting", meter: str = "4/4") -> BeatGrid:
    (grid,) = GridRequest(n, contrast, meter).compose(composer, seed)
    return grid


def pattern_of(piece, steps: int) -> np.ndarray:
    """A drums-only piece's hits back as a [T, 9] pattern."""
    pattern = np.zeros((steps, len(DRUM_CLASSES)), dtype=np.uint8)
    for hit in piece.drums:
        pattern[hit.step, DRUM_CLASSES.index(hit.drum)] = 1
    return pattern


def mean_apart(grid: BeatGrid) -> float:
    corners = np.stack([grid.beat(cell) for cell in grid.corners()])
    return float(hamming(corners)[np.triu_indices(4, 1)].mean())


def test_a_seed_gives_the_same_grid_and_another_seed_another(composer):
    for contrast in ("contrasting", "similar"):
        first = grid_of(composer, 5, 9, contrast)
        assert grid_of(composer, 5, 9, contrast) == first
        assert grid_of(composer, 6, 9, contrast) != first
    assert 90 <= first.tempo <= 130 and first.meter == "4/4" and first.style == "jazz" and first.n == 9


def test_the_corners_are_the_blends_corners_and_the_grid_is_the_blend_indexed_x_y(drums):
    recording = Recording(drums)
    grid = grid_of(SimpleNamespace(drums=recording), 3, 9, "similar")
    [(corners, blended)] = recording.blends  # one batched blend call
    for cell, corner in zip(grid.corners(), corners):  # top-left, top-right, bottom-left, bottom-right
        assert np.array_equal(grid.beat(cell), corner)
    assert len({c.tobytes() for c in corners}) == 4  # similar, yet four distinct beats
    for x, y in itertools.product(range(9), repeat=2):
        assert np.array_equal(grid.beat((x, y)), blended[y, x])  # blend's rows are y


def test_the_target_is_on_the_grid_never_a_corner_and_a_beat_no_other_cell_has(composer):
    for rung, seed in itertools.product(LADDER, range(4)):
        grid = grid_of(composer, seed, rung.grid, rung.contrast)
        x, y = grid.target
        assert 0 <= x < grid.n and 0 <= y < grid.n and grid.target not in grid.corners()
        cells = grid.grid.reshape(grid.n * grid.n, -1)
        assert (cells == grid.beat(grid.target).reshape(-1)).all(axis=1).sum() == 1


def test_contrasting_corners_are_farther_apart_than_similar_ones(composer):
    for meter in STEPS:
        contrasting = np.mean([mean_apart(grid_of(composer, seed, 9, "contrasting", meter)) for seed in range(6)])
        similar = np.mean([mean_apart(grid_of(composer, seed, 9, "similar", meter)) for seed in range(6)])
        assert contrasting > 1.3 * similar > 0, (meter, contrasting, similar)


def test_similar_grids_still_hold_at_least_a_side_of_distinct_beats(composer):
    """The four nearest beats as corners gave 11x11 grids of 5 distinct beats; the corner choice
    spreads them within a neighbourhood so that a hunt has something to tell apart."""
    for meter, seed in itertools.product(STEPS, range(4)):
        grid = grid_of(composer, seed, 11, "similar", meter)
        assert len(np.unique(grid.grid.reshape(121, -1), axis=0)) >= 11, (meter, seed)


def test_every_meter_gives_patterns_of_its_length(composer):
    for meter, steps in STEPS.items():
        grid = grid_of(composer, 1, 5, "contrasting", meter)
        assert grid.grid.shape == (5, 5, steps, 9) and grid.grid.dtype == np.uint8
        assert grid.beat((2, 3)).shape == (steps, 9) and grid.meter == meter


def test_a_cells_piece_plays_exactly_its_beat(composer):
    for meter, steps in STEPS.items():
        grid = grid_of(composer, 2, 5, "similar", meter)
        for cell in itertools.product(range(5), repeat=2):
            piece = grid.piece(cell)
            assert piece.bars == 2 and piece.tempo == grid.tempo and piece.meter == Meter.parse(meter)
            assert not piece.melody and not piece.chords and piece.total_steps == steps
            assert np.array_equal(pattern_of(piece, steps), grid.beat(cell)), (meter, cell)


def test_a_crash_on_the_first_step_is_kept_only_where_the_beat_has_one():
    crash = DRUM_CLASSES.index(DrumClass.CRASH)
    grid = np.zeros((5, 5, 32, 9), dtype=np.uint8)
    grid[..., ::4, 0] = 1  # kicks on the beats everywhere
    grid[1, 1, 0, crash] = 1
    beats = BeatGrid("4/4", "rock", 100, 5, grid, (2, 2))
    for cell in ((1, 1), (2, 2)):
        assert np.array_equal(pattern_of(beats.piece(cell), 32), grid[cell])


@pytest.mark.parametrize("args", [(4, "similar"), (12, "contrasting"), (7.0, "similar"), (True, "similar"), ("7", "similar"),
                                  (7, "hard"), (7, "similar", "2/4"), (7, "similar", "5/4"), (7, "similar", "4/4", "disco")])
def test_bad_requests_are_refused_when_made(args):
    with pytest.raises(ValueError):
        GridRequest(*args)


def test_a_style_the_model_never_heard_in_that_meter_is_refused(composer, drums):
    assert drums.patterns_seen("4/4", "waltz") == 0
    with pytest.raises(ValueError, match="never trained"):
        GridRequest(5, "similar", "4/4", "waltz").compose(composer, 0)


def test_a_beat_grid_checks_itself_and_stays_frozen():
    grid = np.zeros((5, 5, 24, 9), dtype=np.uint8)
    with pytest.raises(ValueError):
        BeatGrid("3/4", "waltz", 100, 6, grid, (1, 1))  # n says 6, the grid has 5
    with pytest.raises(ValueError):
        BeatGrid("4/4", "waltz", 100, 5, grid, (1, 1))  # 24 steps are 2 bars of 3/4, not 4/4
    for target in ((5, 1), (1, -1), (True, 1), (1, 2, 3), 7):
        with pytest.raises(ValueError):
            BeatGrid("3/4", "waltz", 100, 5, grid, target)
    beats = BeatGrid("3/4", "waltz", 100, 5, grid, (np.int64(1), 2))
    grid[0, 0, 0, 0] = 1  # the caller's array is not the grid's
    assert beats.grid.sum() == 0 and not beats.grid.flags.writeable and beats.target == (1, 2)
    with pytest.raises(ValueError):
        beats.beat((0, 5))


def test_a_beat_grid_pickles_and_unpickles_equal(composer):
    grid = grid_of(composer, 8, 11, "similar", "6/8")
    again = pickle.loads(pickle.dumps(grid))
    assert again == grid and hash(again) == hash(grid) and again.target == grid.target
    assert not again.grid.flags.writeable and len(pickle.dumps(grid)) < 40_000


def test_beats_pack_bit_by_bit_as_the_page_reads_them_and_back(composer):
    """A mask's 9 bits, bit 8 first, 6 bits a base64url character: the page's packBeats
    (web_client/test/blend_grid.test.mjs unpacks the same text)."""
    beat = [0] * 32
    beat[0], beat[4], beat[6], beat[31] = 1 | 1 << 8, 1 << 1, 1 << 2, 1 << 6
    assert pack_beats(patterns([beat])) == "gIAAAAAQAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABA"
    bits = "".join(format(mask, "09b") for mask in beat)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert pack_beats(patterns([beat])) == "".join(alphabet[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))

    for meter in ("4/4", "6/8"):
        grid = grid_of(composer, 3, 11, "similar", meter)
        steps = grid.grid.shape[2]
        assert len(grid.packed) == 121 * steps * 9 // 6  # 5,808 characters in 4/4
        flat = unpack_beats(grid.packed, 121, steps)
        assert np.array_equal(flat.reshape(grid.grid.shape), grid.grid)
        assert masks(flat[3 * 11 + 7]) == masks(grid.beat((3, 7)))  # cell (x, y) is beat x * n + y
    for text, count in ((grid.packed[:-4], 121), (grid.packed, 120), (grid.packed[:-1] + "!", 121)):
        with pytest.raises(ValueError):
            unpack_beats(text, count, steps)


def test_a_stored_round_reads_its_grid_packed_and_as_rows_before_packing_kept_it(composer):
    """Rounds stored from 2026-12-06 keep `packed_beats`; older rows nested masks `beats[x][y]`."""
    from game_server.games.blend.game import grid_of as stored_grid

    grid = grid_of(composer, 5, 9, "similar", "3/4")
    setup = {"meter": grid.meter, "style": grid.style, "tempo": grid.tempo, "grid": grid.n, "target": list(grid.target)}
    assert stored_grid({**setup, "packed_beats": grid.packed}) == grid
    assert stored_grid({**setup, "beats": masks(grid.grid)}) == grid
