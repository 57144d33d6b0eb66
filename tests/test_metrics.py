"""Worked examples for models/metrics.py and the baselines in models/markov.py."""

import math

import numpy as np
import pytest

from models.markov import PITCH_MAX, PITCH_MIN, MarkovMelody, _reflect, random_melody
from models.metrics import (
    BarWindowIndex,
    approached_by_step,
    bar_rhythms,
    beat_steps,
    dominant_rhythm_share,
    duration_histogram,
    ends_long,
    ends_on_tonic,
    histogram_overlap,
    in_scale_rate,
    interval_histogram,
    onset_position_histogram,
    pitch_class_histogram,
    pitch_range,
    pooled_histograms,
    repetition_share,
    spread,
    summarize,
    window_hashes,
)


def legato(pitches, durations, start=0):
    """Notes back to back from ``start``."""
    rows, t = [], start
    for p, d in zip(pitches, durations):
        rows.append((p, t, t + d))
        t += d
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


C_MAJOR_SCALE = legato([60, 62, 64, 65, 67, 69, 71, 72], [2] * 8)


# --- tonality and histograms ---------------------------------------------------------------


def test_in_scale_rate_worked_examples():
    assert in_scale_rate(C_MAJOR_SCALE, (0, "major")) == 1.0
    # C major scale heard in D major: C (60, 72) and F (65) are out -> 5/8
    assert in_scale_rate(C_MAJOR_SCALE, (2, "major")) == 0.625
    # A minor: A B C G# F# -> degrees 0 2 3 11 9; the raised 7th (G#) is accepted, F# (6th raised) is not
    notes = legato([69, 71, 72, 68, 66], [4] * 5)
    assert in_scale_rate(notes, (9, "minor")) == 0.8
    # chromatic scale: 7 of 12 in major, 8 of 12 in (natural + harmonic) minor
    chromatic = legato(list(range(60, 72)), [1] * 12)
    assert in_scale_rate(chromatic, (0, "major")) == 7 / 12
    assert in_scale_rate(chromatic, (0, "minor")) == 8 / 12
    assert math.isnan(in_scale_rate(np.zeros((0, 3), int), (0, "major")))
    with pytest.raises(ValueError):
        in_scale_rate(C_MAJOR_SCALE, (0, "dorian"))


def test_pitch_class_histogram_is_relative_to_tonic():
    notes = legato([60, 64, 67, 72], [4] * 4)
    h = pitch_class_histogram(notes, (0, "major"))
    assert h.shape == (12,) and h.sum() == 1.0
    assert h[0] == 0.5 and h[4] == 0.25 and h[7] == 0.25
    g = pitch_class_histogram(notes, (7, "major"))  # in G: C is degree 5, E 9, G 0
    assert g[5] == 0.5 and g[9] == 0.25 and g[0] == 0.25


def test_interval_histogram_clips_to_an_octave():
    notes = legato([60, 64, 67, 72, 40], [1] * 5)  # +4 +3 +5 -32 (clipped to -12)
    h = interval_histogram(notes)
    assert h.shape == (25,)
    expected = np.zeros(25)
    expected[[16, 15, 17, 0]] = 0.25
    np.testing.assert_array_equal(h, expected)
    assert interval_histogram(legato([60], [4])).sum() == 0.0


def test_duration_histogram_clips_at_16():
    notes = np.array([(60, 0, 1), (62, 1, 3), (64, 3, 23), (65, 30, 32)])  # lengths 1, 2, 20 -> 16, 2
    h = duration_histogram(notes)
    assert h.shape == (16,)
    assert h[0] == 0.25 and h[1] == 0.5 and h[15] == 0.25


def test_histogram_overlap():
    p = np.array([0.5, 0.5, 0.0])
    assert histogram_overlap(p, p) == 1.0
    assert histogram_overlap(p, np.array([0.0, 0.0, 1.0])) == 0.0
    assert histogram_overlap(p, np.array([0.0, 0.5, 0.5])) == 0.5
    with pytest.raises(ValueError):
        histogram_overlap(p, np.ones(4) / 4)


def test_onset_position_histogram_folds_onto_the_bar():
    # 3/4 (12 steps): onsets at 0, 4, 8, then 12 (= 0 of bar 1), 18 (= 6) -> bins 0 (2), 4, 8, 6
    notes = legato([60, 62, 64, 65, 67], [4, 4, 4, 6, 6])
    h = onset_position_histogram(notes, 12)
    assert h.shape == (12,) and h.sum() == pytest.approx(1.0)
    assert h[0] == 0.4 and h[4] == 0.2 and h[8] == 0.2 and h[6] == 0.2
    assert onset_position_histogram(np.zeros((0, 3), int), 8).sum() == 0.0


def test_pooled_onset_positions_keep_3_4_and_6_8_apart():
    three_four = legato([60, 62, 64] * 2, [4] * 6)  # beats of 3/4: steps 0, 4, 8
    six_eight = legato([60, 62] * 2, [6] * 4)  # beats of 6/8: steps 0, 6
    keys = [(0, "major")] * 2
    one = pooled_histograms([three_four, six_eight], keys, ["3/4", "6/8"])["onset_position"]
    assert one.shape == (48,) and one.sum() == pytest.approx(1.0)
    # blocks in order 2/4 (0..7), 3/4 (8..19), 4/4 (20..35), 6/8 (36..47); each meter half the weight
    assert one[8] == one[12] == one[16] == pytest.approx(1 / 6)
    assert one[36] == one[42] == pytest.approx(1 / 4)
    # the same 12-step rhythms under swapped meter labels: pooled by steps_per_bar (12 for both)
    # the two sets would look identical; kept apart, only the downbeats agree
    swapped = pooled_histograms([three_four, six_eight], keys, ["6/8", "3/4"])["onset_position"]
    assert histogram_overlap(one, swapped) == pytest.approx(1 / 6 + 1 / 6)
    # a meter weighs by melodies, not notes: twice the notes in 6/8 change nothing
    busier = legato([60, 62] * 4, [3] * 8)  # onsets 0, 3, 6, 9 per bar
    h = pooled_histograms([three_four, busier], keys, ["3/4", "6/8"])["onset_position"]
    assert h[36:48].sum() == pytest.approx(0.5)
    assert "onset_position" not in pooled_histograms([three_four], keys[:1])
    with pytest.raises(ValueError):
        pooled_histograms([three_four], keys[:1], ["5/4"])


def test_beat_steps_tell_3_4_from_6_8():
    assert beat_steps("3/4") == 4 and beat_steps("6/8") == 6 and beat_steps("2/4") == beat_steps("4/4") == 4
    with pytest.raises(ValueError):
        beat_steps("12")


# --- repetition ----------------------------------------------------------------------------


def test_repetition_share_worked_example():
    spb = 8
    bar0 = [(60, 0, 2), (62, 2, 4), (64, 4, 8)]
    bar1 = [(65, 8, 12), (67, 12, 16)]
    bar2 = [(p, s + 16, e + 16) for p, s, e in bar0]  # bar 0 again
    bar3 = [(p + 2, s + 24, e + 24) for p, s, e in bar0]  # bar 0 a tone higher
    notes = np.array(bar0 + bar1 + bar2 + bar3)
    # bars judged: 1, 2, 3; bar 2 repeats bar 0 exactly; bar 3 only up to transposition
    assert repetition_share(notes, spb) == 1 / 3
    assert repetition_share(notes, spb, transposed=True) == 2 / 3


def test_repetition_share_skips_empty_bars_and_cuts_at_bar_lines():
    spb = 4
    notes = np.array(
        [
            (60, 0, 2), (62, 2, 4),  # bar 0
            # bar 1 empty (not judged)
            (60, 8, 10), (62, 10, 14),  # bar 2: the 62 rings into bar 3 but is cut at the bar line -> same as bar 0
            (70, 16, 20),  # bar 4: new (bar 3 has no onset)
        ]
    )
    assert repetition_share(notes, spb) == 1 / 2
    assert math.isnan(repetition_share(legato([60, 62], [2, 2]), 4))  # one bar: nothing to judge


# --- rhythm variety, range, endings ----------------------------------------------------


def test_dominant_rhythm_share_worked_example():
    spb = 8
    quarters = [(60, 0, 4), (62, 4, 8)]  # onsets (0, 4)
    eighths = [(64, 0, 2), (65, 2, 4), (67, 4, 6), (65, 6, 8)]  # onsets (0, 2, 4, 6)
    bars = [quarters, eighths, [(p + 5, s, e) for p, s, e in quarters], [(72, 0, 8)], quarters]
    notes = np.array([(p, s + i * spb, e + i * spb) for i, bar in enumerate(bars) for p, s, e in bar])
    assert bar_rhythms(notes, spb) == [(0, 4), (0, 2, 4, 6), (0, 4), (0,), (0, 4)]
    assert dominant_rhythm_share(notes, spb) == 3 / 5  # pitches do not matter, only onsets
    # a whole note held over the next bar: that bar's rhythm is the empty one
    held = np.array([(60, 0, 16), (62, 16, 20), (64, 20, 24)])
    assert bar_rhythms(held, spb) == [(0,), (), (0, 4)]
    assert dominant_rhythm_share(held, spb) == 1 / 3
    assert dominant_rhythm_share(legato([60] * 8, [2] * 8), spb) == 1.0  # running eighths
    assert dominant_rhythm_share(held, spb, bars=6) == 4 / 6  # bars 1, 3, 4, 5 empty: the empty rhythm wins
    assert math.isnan(dominant_rhythm_share(np.zeros((0, 3), int), spb))


def test_pitch_range():
    assert pitch_range(C_MAJOR_SCALE) == 12.0
    assert pitch_range(legato([67, 55, 76], [2] * 3)) == 21.0
    assert pitch_range(legato([60], [4])) == 0.0
    assert math.isnan(pitch_range(np.zeros((0, 3), int)))


def test_endings_tonic_and_length():
    # ... E D C: ends on C, a quarter (4 steps) long
    notes = legato([64, 62, 60], [2, 2, 4])
    assert ends_on_tonic(notes, (0, "major")) == 1.0
    assert ends_on_tonic(notes, (9, "minor")) == 0.0  # C in A minor is the third
    assert ends_on_tonic(notes + [12, 0, 0], (0, "minor")) == 1.0  # any octave
    assert ends_long(notes, beat_steps("3/4")) == 1.0
    assert ends_long(notes, beat_steps("6/8")) == 0.0  # a quarter is short of a dotted quarter
    # a rest after the last note does not lengthen it
    assert ends_long(np.array([(60, 0, 2), (62, 10, 12)]), 4) == 0.0
    assert math.isnan(ends_on_tonic(np.zeros((0, 3), int), (0, "major")))
    assert math.isnan(ends_long(np.zeros((0, 3), int), 4))


def test_approached_by_step():
    assert approached_by_step(legato([67, 62, 60], [2] * 3)) == 1.0  # D C: falls a tone
    assert approached_by_step(legato([62, 71, 72], [2] * 3)) == 1.0  # B C: rises a semitone
    assert approached_by_step(legato([62, 67, 60], [2] * 3)) == 0.0  # G C: a leap
    assert approached_by_step(legato([62, 60, 60, 60], [2] * 4)) == 1.0  # repeated final notes skipped
    assert approached_by_step(legato([55, 60, 60], [2] * 3)) == 0.0
    assert math.isnan(approached_by_step(legato([60, 60], [2, 2])))
    assert math.isnan(approached_by_step(np.zeros((0, 3), int)))


def test_spread_is_the_10th_to_90th_percentile():
    assert spread(np.arange(101.0)) == (10.0, 90.0)
    assert spread([1.0, float("nan"), 1.0]) == (1.0, 1.0)
    low, high = spread([float("nan")])
    assert math.isnan(low) and math.isnan(high)


# --- memorization --------------------------------------------------------------------------

SPB = 8
TRAIN_BARS = [
    [(60, 0, 2), (62, 2, 4), (64, 4, 8)],
    [(65, 0, 3), (64, 3, 4), (62, 4, 6), (60, 6, 8)],
    [(67, 0, 4), (69, 4, 6), (71, 6, 8)],
    [(72, 0, 2), (71, 2, 4), (69, 4, 5), (67, 5, 8)],
    [(65, 0, 2), (67, 2, 4), (64, 4, 6), (62, 6, 8)],
    [(60, 0, 8)],
]


def bars_to_notes(bars, first_bar=0, transpose=0):
    return np.array(
        [(p + transpose, s + (first_bar + i) * SPB, e + (first_bar + i) * SPB) for i, bar in enumerate(bars) for p, s, e in bar],
        dtype=np.int64,
    )


TRAIN = bars_to_notes(TRAIN_BARS)
OTHER = [[(50, 0, 1), (75, 1, 2), (53, 2, 5), (77, 5, 8)], [(49, 0, 3), (80, 3, 4), (55, 4, 8)]]


def test_window_hashes_are_bar_aligned_and_skip_sparse_windows():
    bars, hashes = window_hashes(TRAIN, SPB, 2)
    assert bars.tolist() == [0, 1, 2, 3, 4]  # 6 bars -> windows at 0..4, all with >= 3 notes
    assert hashes.dtype == np.uint64 and len(set(hashes.tolist())) == 5
    whole_notes = legato([60, 62, 64, 65], [SPB] * 4)
    assert len(window_hashes(whole_notes, SPB, 2)[1]) == 0  # 2 notes per 2-bar window
    again = window_hashes(TRAIN, SPB, 2)[1]
    np.testing.assert_array_equal(hashes, again)  # stable across calls


def test_bar_window_index_finds_a_transposed_copy_not_a_modified_one():
    index = BarWindowIndex.build([TRAIN], [SPB])
    assert index.ks == (2, 4)
    # training bars 1..4, a fourth higher, placed at bars 2..5 of a sample between unrelated bars
    copy = np.concatenate([bars_to_notes(OTHER, 0), bars_to_notes(TRAIN_BARS[1:5], 2, transpose=5), bars_to_notes(OTHER, 6)])
    assert index.contains(copy, SPB, 4)
    assert index.matches(copy, SPB, 4).tolist() == [2]
    assert index.longest_copied_bars(copy, SPB) == 4
    # one pitch changed in the third copied bar: no 4-bar copy, but bars 2..3 still copy 2 bars
    changed = copy.copy()
    changed[(changed[:, 1] == 4 * SPB + 4), 0] += 1
    assert not index.contains(changed, SPB, 4)
    assert index.longest_copied_bars(changed, SPB) == 2
    # same pitches, one duration changed (rhythm counts)
    rhythm = copy.copy()
    i = int(np.flatnonzero(rhythm[:, 1] == 2 * SPB + 3)[0])  # 65 (3 steps) 64 (1) -> 2 + 2 steps
    rhythm[i, 1] -= 1
    rhythm[i - 1, 2] -= 1
    assert not index.contains(rhythm, SPB, 4)
    # the copy shifted off the bar grid by one step is not a bar-aligned copy
    shifted = np.concatenate([bars_to_notes(OTHER, 0), bars_to_notes(TRAIN_BARS[1:5], 2, transpose=5) + [0, 1, 1]])
    assert index.longest_copied_bars(shifted, SPB) == 0
    with pytest.raises(ValueError):
        index.contains(copy, SPB, 3)


def test_bar_window_index_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    melodies = [legato(rng.integers(55, 80, 24), rng.integers(1, 5, 24)) for _ in range(20)] + [TRAIN]
    index = BarWindowIndex.build(melodies, SPB)
    path = tmp_path / "index.npz"
    index.save(path)
    loaded = BarWindowIndex.load(path)
    assert loaded.ks == index.ks and len(loaded) == len(index) > 0
    for k in index.ks:
        np.testing.assert_array_equal(loaded.hashes[k], index.hashes[k])
        assert loaded.hashes[k].dtype == np.uint64
    assert loaded.longest_copied_bars(bars_to_notes(TRAIN_BARS[:4], transpose=-3), SPB) == 4
    serving = index.restricted([4])
    serving.save(path)
    assert BarWindowIndex.load(path).ks == (4,)


# --- summary -------------------------------------------------------------------------------


def test_summarize_averages_and_compares():
    melodies = [C_MAJOR_SCALE, legato([69, 71, 72, 68, 66], [4] * 5)]
    keys = [(0, "major"), (9, "minor")]
    ref = pooled_histograms(melodies, keys)
    index = BarWindowIndex.build([TRAIN], SPB)
    out = summarize(melodies + [TRAIN], keys + [(0, "major")], [16, 16, SPB], reference_hists=ref, index=index)
    assert out["n"] == 3
    assert out["in_scale_rate"] == pytest.approx((1.0 + 0.8 + 1.0) / 3)
    assert out["copied_share_k4"] == pytest.approx(1 / 3) and out["copied_share_k2"] == pytest.approx(1 / 3)
    same = summarize(melodies, keys, [16, 16], reference_hists=ref)
    assert same["overlap_pitch_class"] == pytest.approx(1.0)
    assert same["overlap_interval"] == pytest.approx(1.0) and same["overlap_duration"] == pytest.approx(1.0)
    assert same["repetition_share"] == 0.0  # the scale spans 1 bar (nan, skipped), the minor line 2


def test_summarize_with_meters_adds_onsets_and_endings():
    # both end on C; the first with a quarter (long in 3/4), approached by step; the second with
    # an eighth (short in 6/8), approached by a leap
    first = legato([64, 62, 60] * 2 + [62, 60], [4] * 8)  # 3/4: 32 steps
    second = legato([60, 67, 60] * 4, [2] * 12)  # 6/8: 24 steps
    melodies, keys, spbs, meters = [first, second], [(0, "major")] * 2, [12, 12], ["3/4", "6/8"]
    ref = pooled_histograms(melodies, keys, meters)
    out = summarize(melodies, keys, spbs, reference_hists=ref, meters=meters)
    assert out["overlap_onset_position"] == pytest.approx(1.0)
    assert out["ends_on_tonic"] == 1.0 and out["ends_long"] == 0.5 and out["approached_by_step"] == 0.5
    assert out["pitch_range"] == pytest.approx((4 + 7) / 2) and out["pitch_range_median"] == pytest.approx(5.5)
    assert out["pitch_range_p10"] == pytest.approx(4.3) and out["pitch_range_p90"] == pytest.approx(6.7)
    # 3/4 bars: (0,4,8) (0,4,8) (0,4); 6/8: every bar (0,2,4,6,8,10)
    assert out["rhythm_variety"] == pytest.approx((2 / 3 + 1.0) / 2)
    swapped = summarize(melodies, keys, spbs, reference_hists=ref, meters=["6/8", "3/4"])
    assert swapped["overlap_onset_position"] < 0.6
    plain = summarize(melodies, keys, spbs, reference_hists=ref)
    assert "ends_on_tonic" not in plain and "overlap_onset_position" not in plain
    with pytest.raises(ValueError):
        summarize(melodies, keys, spbs, meters=["3/4"])


# --- baselines -----------------------------------------------------------------------------


def toy_corpus():
    rng = np.random.default_rng(1)
    tunes = []
    for i in range(30):
        pitches = 60 + np.cumsum(rng.integers(-2, 3, 40))
        tunes.append((legato(pitches, rng.choice([2, 4, 6], 40)), (i % 12, "minor" if i % 3 == 0 else "major")))
    return tunes


@pytest.mark.parametrize("bars,spb", [(8, 16), (4, 12), (3, 8), (1, 16)])
def test_markov_sample_fills_exact_bars_and_is_seeded(bars, spb):
    model = MarkovMelody.fit(toy_corpus())
    notes = model.sample(bars, spb, (2, "major"), np.random.default_rng(7))
    assert notes.shape[1] == 3 and notes[0, 1] == 0 and notes[-1, 2] == bars * spb
    assert np.all(notes[1:, 1] == notes[:-1, 2]) and np.all(notes[:, 2] > notes[:, 1])
    assert notes[:, 0].min() >= PITCH_MIN and notes[:, 0].max() <= PITCH_MAX
    np.testing.assert_array_equal(notes, model.sample(bars, spb, (2, "major"), np.random.default_rng(7)))
    np.testing.assert_array_equal(notes, model.sample(bars, spb, (2, "major"), 7))


def test_markov_learns_the_transitions():
    # one tune alternating +2/-2 in quarter notes: with tiny smoothing samples alternate too
    line = legato([60, 62] * 16, [4] * 32)
    model = MarkovMelody.fit([(line, (0, "major"))], k=1e-9)
    notes = model.sample(4, 16, (0, "major"), 3)
    assert notes[0, 0] == 60 and np.all(notes[:, 2] - notes[:, 1] == 4)
    assert set(np.diff(notes[:, 0]).tolist()) == {2, -2}
    assert model.sample(4, 16, (5, "major"), 3)[0, 0] == 65  # first pitch follows the tonic


def test_pitches_reflect_at_the_range_boundaries():
    assert _reflect(100) == 90 and _reflect(40) == 56 and _reflect(60) == 60
    assert PITCH_MIN <= _reflect(200) <= PITCH_MAX


def test_random_melody():
    notes = random_melody(8, 12, (7, "minor"), 5)
    assert notes[0, 1] == 0 and notes[-1, 2] == 96 and np.all(notes[1:, 1] == notes[:-1, 2])
    assert np.all((notes[:-1, 2] - notes[:-1, 1] >= 1) & (notes[:-1, 2] - notes[:-1, 1] <= 8))
    assert notes[:, 0].min() >= 67 - 12 and notes[:, 0].max() <= 67 + 12
    np.testing.assert_array_equal(notes, random_melody(8, 12, (7, "minor"), 5))
