"""The committed composer: every checkpoint loads, pieces are valid and reproducible, the
memorization filter holds, and bad requests are refused. No training here."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from models import checkpoint
from models.composer import DEFAULT_DRUM_STYLES, DRUM_STYLES, MAX_COPIED_BARS, MIN_DRUM_HITS, Composer, default_composer, fullest, notes_of, piece_with_melody
from models.drum_evaluation import second_beat_share
from models.drums import DrumComposer
from models.grooves import STYLES as DRUM_STYLE_NAMES
from models.melody import ComposerError, MelodyComposer
from models.metrics import BarWindowIndex
from music import Key, Meter, Piece, read_midi

ROOT = checkpoint.CHECKPOINT_DIR.parent.parent


@pytest.fixture(scope="module")
def composer() -> Composer:
    return default_composer()


def test_every_committed_checkpoint_loads_and_says_where_it_came_from():
    melody = MelodyComposer.load()
    assert melody.meta["kind"] == "melody_vae" and melody.meta["code"]["git_commit"]
    assert melody.meta["corpus_version"] and melody.meta["environment"]["torch"]
    assert not list(checkpoint.CHECKPOINT_DIR.glob("drums_*.pt")), "drums.pt replaced the per-grid drum checkpoints"
    drums = DrumComposer.load(checkpoint.CHECKPOINT_DIR / "drums.pt")
    assert drums.meta["kind"] == "drum_vae" and drums.meta["code"]["git_commit"] and drums.meta["held_out_files"]
    assert set(drums.meta["held_out"]["meters"]) == {"4/4", "3/4", "6/8"} and drums.styles == DRUM_STYLE_NAMES
    assert (checkpoint.CHECKPOINT_DIR / "drums.pt").stat().st_size <= 2e6
    assert len(BarWindowIndex.load(checkpoint.CHECKPOINT_DIR / "train_windows.npz")) > 0
    provenance = json.loads((checkpoint.CHECKPOINT_DIR / "provenance.json").read_text())
    assert set(provenance["collections"]) == {"essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs", "miscFolk"}
    total_bytes = sum(p.stat().st_size for p in checkpoint.CHECKPOINT_DIR.iterdir())
    assert total_bytes < 20e6


@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8", "2/4"])
def test_composed_piece_is_whole_and_valid(composer, meter):
    piece = composer.compose(bars=8, meter=meter, style="irish", seed=11)
    assert isinstance(piece, Piece) and piece.bars == 8 and piece.meter == Meter.parse(meter)
    assert len(piece.melody) >= 8 and piece.chords and piece.drums
    assert piece.chords[0].start == 0 and piece.chords[-1].end == piece.total_steps
    assert composer.train_windows.longest_copied_bars(np.array([(n.pitch, n.start, n.end) for n in piece.melody]), piece.steps_per_bar) <= MAX_COPIED_BARS


def test_same_seed_same_piece_and_seeds_differ(composer):
    a = composer.compose(bars=8, meter="4/4", style="essen", seed=3)
    assert composer.compose(bars=8, meter="4/4", style="essen", seed=3) == a
    assert composer.compose(bars=8, meter="4/4", style="essen", seed=4) != a
    assert composer.compose(bars=8) != composer.compose(bars=8)  # no seed: fresh every call


def test_requested_key_and_tempo_are_kept(composer):
    piece = composer.compose(bars=4, meter="6/8", key=Key(2, "minor"), tempo=132, seed=5)
    assert piece.key == Key(2, "minor") and piece.tempo == 132


def test_piece_level_interpolation_keeps_the_ends(composer):
    path = composer.morph(7, "4/4", "irish", seed=2)
    assert len(path) == 7 and all(p.bars == 2 for p in path)
    again = composer.interpolate(path[0], path[-1], 7)
    assert again[0] == path[0] and again[-1] == path[-1]


def test_interpolation_of_different_meters_is_refused(composer):
    a = composer.compose(bars=2, meter="4/4", seed=1)
    b = composer.compose(bars=2, meter="3/4", seed=1)
    with pytest.raises(ComposerError, match="meters 4/4 and 3/4"):
        composer.interpolate(a, b, 5)


def test_continuation_keeps_the_primer_exactly(composer):
    for seed in range(4):
        primer = composer.compose(bars=2, meter=("4/4", "6/8")[seed % 2], seed=8 + seed)
        longer = composer.continue_piece(primer, 8, seed=seed)
        assert longer.bars == 8 and longer.melody[: len(primer.melody)] == primer.melody
        assert longer.melody[-1].start >= 2 * primer.steps_per_bar  # and it goes on


def step_grid(piece: Piece) -> np.ndarray:
    """The sounding pitch at every step (-1 = silence)."""
    grid = np.full(piece.total_steps, -1)
    for note in piece.melody:
        grid[note.start : note.end] = note.pitch
    return grid


def test_vary_amount_zero_is_the_piece_and_the_change_grows_with_amount(composer):
    piece = composer.compose(bars=8, seed=12)
    assert composer.vary(piece, 0, seed=1).melody == piece.melody
    changed = [np.mean([(step_grid(composer.vary(piece, amount, seed=s)) != step_grid(piece)).mean() for s in range(6)])
               for amount in (0, 0.25, 0.5, 0.75, 1)]
    assert changed[0] == 0 and all(a < b for a, b in zip(changed, changed[1:])), changed
    with pytest.raises(ComposerError, match="amount"):
        composer.vary(piece, 1.5)


def test_regenerate_keeps_every_other_bar(composer):
    piece = composer.compose(bars=4, meter="3/4", seed=3)
    steps = piece.steps_per_bar
    for seed in range(3):
        notes = composer.melody.regenerate(notes_of(piece), [2], 4, "3/4", "irish", piece.key.tonic, piece.key.mode, seed=seed)
        again = step_grid(piece_with_melody(piece, notes))
        assert (again[: 2 * steps] == step_grid(piece)[: 2 * steps]).all() and (again[3 * steps :] == step_grid(piece)[3 * steps :]).all()


def test_keys_are_drawn_as_the_styles_tunes_are(composer):
    """Irish tunes sit mostly in G and D major (the corpus: 62 %), not evenly in seven keys."""
    keys = [p.key for p in composer.compose_many(64, bars=2, style="irish", seed=5)]
    assert sum(k in (Key(7, "major"), Key(2, "major")) for k in keys) >= 28


def test_loading_the_composer_pins_one_thread_each():
    import torch
    from threadpoolctl import threadpool_info

    Composer.load()
    assert torch.get_num_threads() == 1 and all(pool["num_threads"] == 1 for pool in threadpool_info())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(bars=0), "bars must be"),
        (dict(bars=1000), "bars must be"),
        (dict(meter="7/8"), "unknown meter"),
        (dict(style="polka"), "unknown style"),
        (dict(temperature=0), "temperature"),
    ],
)
def test_bad_requests_are_refused(composer, kwargs, message):
    with pytest.raises(ComposerError, match=message):
        composer.compose(**kwargs)


def test_batched_pieces(composer):
    pieces = composer.compose_many(6, bars=8, meter="6/8", seed=1)
    assert len(pieces) == 6 and len({p.melody for p in pieces}) == 6


@pytest.mark.parametrize("meter, steps", [("4/4", 32), ("3/4", 24), ("6/8", 24)])
def test_drum_blend_keeps_the_corners(composer, meter, steps):
    drums = composer.drums
    corners = drums.sample(meter, "jazz", seed=1, count=4)
    grid = drums.blend(corners, 4, meter, "jazz")
    assert grid.shape == (4, 4, steps, 9) and grid.dtype == np.uint8
    assert (grid[0, 0] == corners[0]).all() and (grid[0, 3] == corners[1]).all()
    assert (grid[3, 0] == corners[2]).all() and (grid[3, 3] == corners[3]).all()
    assert drums.vary(corners[0], meter, "jazz", 0.5, seed=2).shape == (steps, 9)
    with pytest.raises(ValueError, match="shape"):
        drums.blend(corners[:, :16], 4, meter, "jazz")
    with pytest.raises(ValueError, match="unknown drum style"):
        drums.sample(meter, "klezmer")


def test_drum_decoding_paths_agree(composer):
    """The composer's numpy step loop (small batches), the torch LSTM loop (large batches) and
    the teacher-forced training pass compute the same decoder."""
    model = composer.drums.model
    z, meters, styles = torch.randn(48, model.config.z_dim), torch.full((48,), 2), torch.full((48,), 3)
    whole = model.generate(z, meters, styles, 24)  # one batch of 48: torch
    parts = np.concatenate([model.generate(z[i : i + 16], meters[i : i + 16], styles[i : i + 16], 24) for i in range(0, 48, 16)])  # numpy
    with torch.no_grad():
        forced = model.decode(z, meters, styles, targets=torch.from_numpy(whole).float())
    assert (whole == parts).all() and ((forced > 0).numpy() == whole.astype(bool)).all()


@pytest.mark.parametrize("style", ["jazz", "country", "waltz", "march"])
def test_drum_samples_follow_their_meter(composer, style):
    """3/4 and 6/8 both have 12-step bars; a 3/4 bar accents steps 4 and 8 (beats 2 and 3), a 6/8
    bar step 6 (its second beat). The training grooves: 0.05 in 3/4, 0.63 in 6/8 (waltz has no 6/8
    grooves and march no 3/4 ones: the meter must carry over to a style it never saw in it)."""
    waltz = composer.drums.sample("3/4", style, seed=7, count=64)
    jig = composer.drums.sample("6/8", style, seed=7, count=64)
    assert waltz.shape == jig.shape == (64, 24, 9) and (waltz != jig).any()
    assert second_beat_share(waltz) < 0.25 < 0.5 < second_beat_share(jig)


def test_drum_samples_differ_by_drum_style(composer):
    samples = {style: composer.drums.sample("4/4", style, seed=3, count=16) for style in composer.drums.styles}
    assert len({s.tobytes() for s in samples.values()}) == len(samples)
    assert (samples["march"] != samples["folk"]).any(axis=(1, 2)).all()


@pytest.mark.parametrize("meter", ["4/4", "6/8", "3/4"])
def test_drums_differ_by_melody_style_for_the_same_seed(composer, meter):
    for seed in range(4):
        irish = composer.compose(bars=4, meter=meter, style="irish", seed=seed).drums
        scottish = composer.compose(bars=4, meter=meter, style="scottish", seed=seed).drums
        assert irish and scottish and irish != scottish


def test_served_grooves_are_not_near_silence(composer):
    sparse, full = np.zeros((24, 9), np.uint8), np.eye(24, 9, dtype=np.uint8)
    assert [p.sum() for p in fullest(np.stack([sparse, full, sparse, full]), 2)] == [9, 9]
    assert fullest(np.stack([sparse, sparse]), 1)[0].sum() == 0  # none full: still a pattern
    for seed in range(12):  # irish 6/8 draws from the thinnest styles (country, folk)
        piece = composer.compose(bars=2, meter="6/8", style="irish", seed=seed)
        assert len([h for h in piece.drums if h.step > 0 or h.drum.value != "crash"]) >= MIN_DRUM_HITS


def test_drum_style_table_names_real_styles(composer):
    for table in [*DRUM_STYLES.values(), DEFAULT_DRUM_STYLES]:
        assert set(table) == {"4/4", "3/4", "6/8"}
        for choices in table.values():
            assert choices and all(style in DRUM_STYLE_NAMES and weight > 0 for style, weight in choices)
    for meter in ("4/4", "3/4", "6/8"):  # the melody styles' drum styles never overlap in a meter
        sets = [{s for s, _ in DRUM_STYLES[m][meter]} for m in DRUM_STYLES]
        assert sum(len(s) for s in sets) == len(set().union(*sets))
    assert composer._drum_choice(Meter(4, 4), "klezmer", seed=1)[1] in ("pop", "rock")  # a future style
    assert composer._drum_choice(Meter(2, 4), "irish", seed=1)[0] == "4/4"


def run_generate(*args):
    return subprocess.run([sys.executable, "-m", "game_server", "generate", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # the CLI in a process of its own
def test_generate_command(tmp_path):
    out = tmp_path / "piece.mid"
    result = run_generate("--bars", "8", "--meter", "4/4", "--style", "irish", "--seed", "3", "-o", str(out))
    assert result.returncode == 0, result.stderr
    piece = read_midi(out)
    assert piece.bars == 8 and piece.melody
    again = run_generate("--bars", "8", "--meter", "4/4", "--style", "irish", "--seed", "3", "--json", "-o", "-")
    other = run_generate("--bars", "8", "--meter", "4/4", "--style", "irish", "--seed", "4", "--json", "-o", "-")
    assert json.loads(again.stdout)["melody"] == [
        {"pitch": n.pitch, "start": n.start, "end": n.end, "velocity": n.velocity} for n in piece.melody
    ]
    assert json.loads(other.stdout)["melody"] != json.loads(again.stdout)["melody"]
    bad = run_generate("--bars", "0")
    assert bad.returncode == 2 and "bars must be" in bad.stderr


def test_memorization_filter_refuses_copies(composer, monkeypatch):
    """A candidate that copies 4 bars of a training tune is never served: with an index that
    finds every candidate copied, composing fails instead of serving one."""
    monkeypatch.setattr(composer.train_windows, "longest_copied_bars", lambda notes, spb: 4)
    with pytest.raises(ComposerError, match="fresh"):
        composer.compose(bars=8, seed=1)
    monkeypatch.setattr(composer.train_windows, "longest_copied_bars", lambda notes, spb: MAX_COPIED_BARS)
    assert composer.compose(bars=8, seed=1).bars == 8
