"""Objective melody metrics: how much a set of melodies looks like the folk-tune corpus.

Everything here is plain numpy on note arrays (N, 3) = (pitch, start_step, end_step) on a
16th-note grid (sorted by start, monophonic), a ``steps_per_bar`` (16 for 4/4, 12 for 3/4 and
6/8, 8 for 2/4; bar lines at multiples of it) and a key ``(tonic_pitch_class, 'major'|'minor')``.
Where 3/4 and 6/8 must be told apart (beats, positions in the bar) the meter itself is passed.

- tonality: :func:`in_scale_rate`, :func:`pitch_class_histogram`
- melodic motion and rhythm: :func:`interval_histogram`, :func:`duration_histogram`,
  :func:`onset_position_histogram`, compared between sets with :func:`histogram_overlap`
- structure: :func:`repetition_share` (folk tunes repeat whole bars; random notes never do),
  :func:`dominant_rhythm_share` (how much of a melody is one bar rhythm), :func:`pitch_range`
- endings: :func:`ends_on_tonic`, :func:`ends_long`, :func:`approached_by_step`
- memorization: :class:`BarWindowIndex` (does a sample copy whole bars from the training set?)
- :func:`summarize` averages all of it over a set of melodies.

Per-melody functions return ``nan`` where the quantity is undefined (no notes, no bar to
compare); :func:`summarize` averages with ``nanmean``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from music import Meter

from .encoding import STEPS_PER_BAR

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
HARMONIC_SEVENTH = 11  # the raised 7th of harmonic minor, accepted in minor keys
MAX_INTERVAL = 12  # interval histogram bins: -12..12 semitones (25 bins)
MAX_DURATION = 16  # duration histogram bins: 1..16 steps (16 bins)
DEFAULT_WINDOW_BARS = (2, 4)
MIN_WINDOW_NOTES = 3
INDEX_FORMAT_VERSION = 1
STEP_INTERVAL = 2  # semitones: a final note approached by at most this much is approached by step
SPREAD = (10, 90)  # percentiles that give a set's spread of a per-melody figure

Key = tuple[int, str]


def _notes(notes) -> np.ndarray:
    """As an int64 (N, 3) array sorted by start (stable)."""
    arr = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    if len(arr) > 1 and np.any(np.diff(arr[:, 1]) < 0):
        arr = arr[np.argsort(arr[:, 1], kind="stable")]
    return arr


def _normalized(counts: np.ndarray) -> np.ndarray:
    counts = counts.astype(np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def scale_pitch_classes(mode: str) -> frozenset[int]:
    """Pitch classes relative to the tonic that count as in the scale for ``mode``:
    major scale for 'major'; natural minor plus the raised 7th (harmonic minor) for 'minor'."""
    if mode == "major":
        return frozenset(MAJOR_SCALE)
    if mode == "minor":
        return frozenset(NATURAL_MINOR_SCALE) | {HARMONIC_SEVENTH}
    raise ValueError(f"unknown mode {mode!r} (expected 'major' or 'minor')")


def in_scale_rate(notes, key: Key) -> float:
    """Share of notes (by count, not duration) whose pitch class lies in the key's scale.

    Measures tonal coherence: folk tunes are almost entirely diatonic, uniformly random notes
    score about 7/12. The scale is the major scale for a major key and the natural minor scale
    for a minor key, where the raised 7th (the harmonic minor's leading tone) is also accepted,
    since minor-key tunes use it routinely at cadences. ``nan`` for an empty melody.
    """
    arr = _notes(notes)
    if len(arr) == 0:
        return float("nan")
    tonic, mode = key
    allowed = np.zeros(12, dtype=bool)
    allowed[list(scale_pitch_classes(mode))] = True
    return float(allowed[(arr[:, 0] - int(tonic)) % 12].mean())


def pitch_class_histogram(notes, key: Key) -> np.ndarray:
    """12-bin distribution of pitch classes relative to the tonic (bin 0 = tonic), by note count.

    Measures which scale degrees a melody uses and how often (tonic/dominant weight, use of
    chromatic notes), independent of the key it is written in. All zeros for an empty melody.
    """
    arr = _notes(notes)
    counts = np.bincount((arr[:, 0] - int(key[0])) % 12, minlength=12)
    return _normalized(counts)


def interval_histogram(notes) -> np.ndarray:
    """25-bin distribution of successive pitch intervals in semitones, clipped to -12..12
    (bin i = interval i - 12; rests between notes are ignored).

    Measures melodic motion: folk tunes move mostly by steps and small leaps, random notes leap
    all over. All zeros for fewer than two notes.
    """
    arr = _notes(notes)
    steps = np.clip(np.diff(arr[:, 0]), -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    return _normalized(np.bincount(steps, minlength=2 * MAX_INTERVAL + 1))


def duration_histogram(notes) -> np.ndarray:
    """16-bin distribution of note lengths in steps (bin i = i + 1 steps; longer notes count as 16).

    Measures rhythmic vocabulary (how much of the tune is eighths, quarters, dotted values...).
    Rests are not counted. All zeros for an empty melody.
    """
    arr = _notes(notes)
    lengths = np.clip(arr[:, 2] - arr[:, 1], 1, MAX_DURATION) - 1
    return _normalized(np.bincount(lengths, minlength=MAX_DURATION))


def histogram_overlap(p, q) -> float:
    """Overlapping area sum(min(p, q)) of two normalized histograms: 1 = identical, 0 = disjoint.

    The set-level comparison of Yang & Lerch (2018) in its simplest form: how much of one
    distribution (e.g. generated intervals) is covered by the other (the corpus's intervals).
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"histograms differ in shape: {p.shape} vs {q.shape}")
    return float(np.minimum(p, q).sum())


def beat_steps(meter: str) -> int:
    """Steps in one beat of ``meter`` (music.Meter.beat_steps). Takes the meter, not
    steps_per_bar, because a 12-step bar is three beats in 3/4 but two in 6/8."""
    if meter not in STEPS_PER_BAR:
        raise ValueError(f"unknown meter {meter!r} (known: {', '.join(STEPS_PER_BAR)})")
    return Meter.parse(meter).beat_steps


def onset_position_histogram(notes, steps_per_bar: int) -> np.ndarray:
    """``steps_per_bar``-bin distribution of where in the bar notes start (bin i = step i of the
    bar, 0 = the downbeat), by note count.

    Measures metrical placement: folk tunes put most onsets on beats and eighths, a model that
    has lost the bar line spreads them evenly. A single melody's bins only mean something
    within its own meter; :func:`pooled_histograms` keeps meters apart. All zeros for an empty
    melody.
    """
    arr = _notes(notes)
    spb = int(steps_per_bar)
    return _normalized(np.bincount(arr[:, 1] % spb, minlength=spb))


def _onset_layout(meters: Sequence[str]) -> dict[str, slice]:
    """meter -> its block of bins in a pooled onset-position histogram (blocks in STEPS_PER_BAR order)."""
    unknown = sorted(set(meters) - set(STEPS_PER_BAR))
    if unknown:
        raise ValueError(f"unknown meters {unknown} (known: {', '.join(STEPS_PER_BAR)})")
    layout, at = {}, 0
    for meter, spb in STEPS_PER_BAR.items():
        layout[meter] = slice(at, at + spb)
        at += spb
    return layout


def _bar_contents(arr: np.ndarray, steps_per_bar: int, transpose: bool) -> dict[int, tuple]:
    """bar index -> its content: (pitch, onset in bar, duration cut at the bar line) per note
    starting in the bar; pitches relative to the bar's first note when ``transpose``."""
    bars = arr[:, 1] // steps_per_bar
    contents = {}
    for bar in np.unique(bars).tolist():
        rows = arr[bars == bar]
        bar_start = bar * steps_per_bar
        onsets = rows[:, 1] - bar_start
        durations = np.minimum(rows[:, 2], bar_start + steps_per_bar) - rows[:, 1]
        pitches = rows[:, 0] - rows[0, 0] if transpose else rows[:, 0]
        contents[bar] = tuple(zip(pitches.tolist(), onsets.tolist(), durations.tolist()))
    return contents


def repetition_share(notes, steps_per_bar: int, transposed: bool = False) -> float:
    """Share of bars that repeat an earlier bar exactly.

    Counts bars from the second on (bar 1 onward on the grid of bar lines at multiples of
    ``steps_per_bar``) that contain at least one onset; a bar repeats if its content, i.e. the
    notes starting in it as (pitch, onset within the bar, duration cut at the bar line), equals
    that of some earlier bar. With ``transposed=True`` pitches are taken relative to the bar's
    first note, so a sequence (the same figure a step higher) also counts.

    Measures motivic structure: folk tunes repeat bars and phrases a lot, a random-note
    baseline essentially never, a model that loops one bar forever scores 1. ``nan`` when
    there is no such bar to judge.
    """
    arr = _notes(notes)
    contents = _bar_contents(arr, int(steps_per_bar), transposed)
    judged = repeated = 0
    seen = set()
    for bar in sorted(contents):
        content = contents[bar]
        if bar >= 1:
            judged += 1
            repeated += content in seen
        seen.add(content)
    return repeated / judged if judged else float("nan")


def bar_rhythms(notes, steps_per_bar: int, bars: int | None = None) -> list[tuple[int, ...]]:
    """For each bar 0..bars-1: the onset positions within the bar of the notes starting in it
    (an empty tuple for a bar with no onset). ``bars`` defaults to the bars the melody spans
    (its last end, rounded up to a bar line)."""
    arr = _notes(notes)
    spb = int(steps_per_bar)
    if bars is None:
        bars = -(-int(arr[:, 2].max()) // spb) if len(arr) else 0
    rhythms: list[list[int]] = [[] for _ in range(int(bars))]
    for start in arr[:, 1].tolist():
        if start // spb < len(rhythms):
            rhythms[start // spb].append(start % spb)
    return [tuple(r) for r in rhythms]


def dominant_rhythm_share(notes, steps_per_bar: int, bars: int | None = None) -> float:
    """Share of a melody's bars that have its most common bar rhythm (the onset positions within
    the bar; pitches and lengths are ignored, a bar with no onset is the empty rhythm).

    Measures rhythmic variety: 1 means every bar has the same rhythm (a reel in running eighths
    comes close, and so does a model stuck on one figure), 1/bars means no two bars share one.
    Folk tunes sit in between, so the question for a generated set is whether it lies within
    the tunes' spread, not whether it is high or low. ``nan`` for an empty melody.
    """
    rhythms = bar_rhythms(notes, steps_per_bar, bars)
    if not rhythms or all(not r for r in rhythms):
        return float("nan")
    counts: dict[tuple[int, ...], int] = {}
    for rhythm in rhythms:
        counts[rhythm] = counts.get(rhythm, 0) + 1
    return max(counts.values()) / len(rhythms)


def pitch_range(notes) -> float:
    """Highest minus lowest pitch, in semitones. Folk tunes span about an octave to a twelfth
    (what a voice, fiddle or pipe plays); much less sounds like noodling, much more like
    random notes. ``nan`` for an empty melody."""
    arr = _notes(notes)
    return float(arr[:, 0].max() - arr[:, 0].min()) if len(arr) else float("nan")


def ends_on_tonic(notes, key: Key) -> float:
    """1.0 if the last note's pitch class is the tonic, else 0.0 (``nan`` for an empty melody).

    Folk tunes almost always end on the tonic; a melody that stops anywhere else sounds
    unfinished. Only meaningful on the end of a whole piece (or a tune's last bars)."""
    arr = _notes(notes)
    if len(arr) == 0:
        return float("nan")
    return float((int(arr[-1, 0]) - int(key[0])) % 12 == 0)


def ends_long(notes, beat: int) -> float:
    """1.0 if the last note lasts ``beat`` steps or more (its own length, a rest after it not
    counted), else 0.0; ``nan`` for an empty melody.

    A tune comes to rest on a long final note; a melody cut off in running eighths does not.
    ``beat`` comes from :func:`beat_steps` (4 steps, or 6 in 6/8): steps_per_bar alone cannot
    tell 3/4 from 6/8."""
    arr = _notes(notes)
    if len(arr) == 0:
        return float("nan")
    return float(int(arr[-1, 2] - arr[-1, 1]) >= int(beat))


def approached_by_step(notes) -> float:
    """1.0 if the final pitch is reached by a step (at most STEP_INTERVAL = 2 semitones, up or
    down) from the last note of a different pitch, else 0.0.

    The cadence of a folk tune mostly falls to the tonic from the supertonic or rises from the
    leading tone (2-1, 7-1); a leap into the last note (5-1, or anything from a random walk) is
    the less common way. Repeated final pitches are skipped, so "d c c2" counts as approached
    by step. ``nan`` when the melody has fewer than two distinct pitches.
    """
    arr = _notes(notes)
    if len(arr) == 0:
        return float("nan")
    other = np.flatnonzero(arr[:, 0] != arr[-1, 0])
    if len(other) == 0:
        return float("nan")
    return float(abs(int(arr[-1, 0]) - int(arr[other[-1], 0])) <= STEP_INTERVAL)


def spread(values, percentiles: Sequence[float] = SPREAD) -> tuple[float, float]:
    """The (10th, 90th) percentiles of per-melody values, ``nan`` skipped: the band a set of real
    tunes spans, so a generated set's mean or median can be judged as inside or outside it."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    if len(arr) == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(arr, percentiles)
    return float(low), float(high)


# --- memorization -------------------------------------------------------------------------


def _hash_int16(values: np.ndarray) -> int:
    """Stable 64-bit hash: first 8 bytes of blake2b over the little-endian int16 bytes."""
    data = np.ascontiguousarray(values, dtype="<i2").tobytes()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def window_hashes(notes, steps_per_bar: int, k: int, min_notes: int = MIN_WINDOW_NOTES) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every bar-aligned ``k``-bar window of a melody that holds >= ``min_notes`` onsets.

    Windows start at every bar b = 0, 1, ... of the melody's grid (bar lines at multiples of
    ``steps_per_bar``) and span bars b..b+k-1; the melody has ceil(last end / steps_per_bar)
    bars. A window's content is, per note starting in it: pitch relative to the window's
    first note (transposition invariant), onset relative to the window start, and duration cut
    at the window end (rhythm counts); steps_per_bar and k are hashed too.

    Returns (bar indices of the hashed windows, uint64 hashes), both in bar order.
    """
    arr = _notes(notes)
    spb, k = int(steps_per_bar), int(k)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    n_bars = -(-int(arr[:, 2].max()) // spb)
    starts = arr[:, 1]
    firsts = np.arange(max(n_bars - k + 1, 0))
    lo = np.searchsorted(starts, firsts * spb, side="left")
    hi = np.searchsorted(starts, (firsts + k) * spb, side="left")
    bars, hashes = [], []
    for bar, a, b in zip(firsts.tolist(), lo.tolist(), hi.tolist()):
        if b - a < min_notes:
            continue
        rows = arr[a:b]
        w_start, w_end = bar * spb, (bar + k) * spb
        body = np.empty((len(rows), 3), dtype=np.int64)
        body[:, 0] = rows[:, 0] - rows[0, 0]
        body[:, 1] = rows[:, 1] - w_start
        body[:, 2] = np.minimum(rows[:, 2], w_end) - rows[:, 1]
        bars.append(bar)
        hashes.append(_hash_int16(np.concatenate(([spb, k], body.ravel()))))
    return np.asarray(bars, dtype=np.int64), np.asarray(hashes, dtype=np.uint64)


class BarWindowIndex:
    """Hashes of every bar-aligned k-bar window (k in ``ks``, default 2 and 4) of a training set.

    Answers "does this sample copy k whole bars of some training tune?" (transposition
    invariant, rhythm included; see :func:`window_hashes`). Windows with fewer than 3 notes
    are not stored, so long held notes or empty bars never count as copies. Per k the hashes
    are a sorted, de-duplicated uint64 array; lookups are binary searches. A 64-bit hash makes
    a false match between different windows negligible (~ n / 2**64 per lookup).
    """

    def __init__(self, hashes: dict[int, np.ndarray]):
        self.hashes = {int(k): np.unique(np.asarray(v, dtype=np.uint64)) for k, v in hashes.items()}

    @classmethod
    def build(cls, melodies: Iterable, steps_per_bar: int | Sequence[int], ks: Sequence[int] = DEFAULT_WINDOW_BARS) -> BarWindowIndex:
        """Index ``melodies`` (note arrays); ``steps_per_bar`` is one int for all or one per melody."""
        melodies = list(melodies)
        spbs = [int(steps_per_bar)] * len(melodies) if np.isscalar(steps_per_bar) else [int(s) for s in steps_per_bar]
        if len(spbs) != len(melodies):
            raise ValueError(f"{len(melodies)} melodies but {len(spbs)} steps_per_bar values")
        collected = {int(k): [] for k in ks}
        for notes, spb in zip(melodies, spbs):
            for k in collected:
                collected[k].append(window_hashes(notes, spb, k)[1])
        return cls({k: np.concatenate(parts) if parts else np.zeros(0, np.uint64) for k, parts in collected.items()})

    @property
    def ks(self) -> tuple[int, ...]:
        """The window sizes (in bars) this index holds, ascending."""
        return tuple(sorted(self.hashes))

    def __len__(self) -> int:
        return sum(len(v) for v in self.hashes.values())

    def _table(self, k: int) -> np.ndarray:
        if int(k) not in self.hashes:
            raise ValueError(f"this index holds windows of {self.ks} bars, not {k}")
        return self.hashes[int(k)]

    def matches(self, notes, steps_per_bar: int, k: int) -> np.ndarray:
        """Bar indices b at which the sample's k-bar window (bars b..b+k-1) is in the index."""
        table = self._table(k)
        bars, hashes = window_hashes(notes, steps_per_bar, k)
        if len(table) == 0 or len(hashes) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(table, hashes), len(table) - 1)
        return bars[table[pos] == hashes]

    def contains(self, notes, steps_per_bar: int, k: int) -> bool:
        """True if some bar-aligned k-bar window of the sample appears in the training set."""
        return len(self.matches(notes, steps_per_bar, k)) > 0

    def longest_copied_bars(self, notes, steps_per_bar: int) -> int:
        """Largest stored k for which some bar-aligned k-bar window of the sample is in the index
        (0 if none). Only the stored sizes are tried, so with ks=(2, 4) the answer is 0, 2 or 4."""
        for k in sorted(self.hashes, reverse=True):
            if self.contains(notes, steps_per_bar, k):
                return k
        return 0

    def restricted(self, ks: Sequence[int]) -> BarWindowIndex:
        """A copy holding only the window sizes ``ks`` (e.g. k=4 alone for serving)."""
        return BarWindowIndex({int(k): self._table(k) for k in ks})

    def save(self, path: str | Path) -> None:
        """Write a compressed .npz. Hashes are stored as sorted deltas split into byte planes,
        which zlib compresses far better than raw random 64-bit values."""
        arrays = {"version": np.array(INDEX_FORMAT_VERSION)}
        for k, table in self.hashes.items():
            deltas = np.diff(table, prepend=np.uint64(0)).astype("<u8")
            arrays[f"k{k}"] = deltas.view(np.uint8).reshape(-1, 8).T.copy()
        np.savez_compressed(Path(path), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> BarWindowIndex:
        with np.load(Path(path)) as data:
            version = int(data["version"])
            if version != INDEX_FORMAT_VERSION:
                raise ValueError(f"{path}: index format {version}, expected {INDEX_FORMAT_VERSION}")
            hashes = {}
            for name in data.files:
                if name.startswith("k"):
                    planes = np.ascontiguousarray(data[name].T)
                    hashes[int(name[1:])] = np.cumsum(planes.view("<u8").ravel(), dtype=np.uint64)
        return cls(hashes)


# --- set summary --------------------------------------------------------------------------


def pooled_histograms(melodies: Iterable, keys: Iterable[Key], meters: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Pitch-class, interval and duration histograms of a whole set, pooled over its notes
    (every note weighs the same, so long tunes weigh more). Use as ``reference_hists``.

    Given ``meters`` (one per melody) also "onset_position": each meter's onset positions in a
    block of bins of its own (2/4, 3/4, 4/4, 6/8 in STEPS_PER_BAR order, 48 bins), each block
    normalised to the share of the set's melodies in that meter. So 3/4 and 6/8, both 12-step
    bars, never share a bin (beat 2 of 3/4 is step 4, of 6/8 step 6); a meter weighs by its
    melodies, not its notes, so a set that writes busier 6/8 bars is not judged on 6/8 more;
    and between two sets with the same meters, the overlap is the melody-weighted mean of the
    per-meter overlaps.
    """
    melodies, keys = list(melodies), list(keys)
    meters = None if meters is None else list(meters)
    pc = np.zeros(12)
    iv = np.zeros(2 * MAX_INTERVAL + 1)
    du = np.zeros(MAX_DURATION)
    layout = _onset_layout(meters) if meters is not None else {}
    onset_counts = {meter: np.zeros(spb) for meter, spb in STEPS_PER_BAR.items()}
    melodies_of = dict.fromkeys(STEPS_PER_BAR, 0)
    for i, (notes, key) in enumerate(zip(melodies, keys)):
        arr = _notes(notes)
        if len(arr) == 0:
            continue
        pc += np.bincount((arr[:, 0] - int(key[0])) % 12, minlength=12)
        iv += np.bincount(np.clip(np.diff(arr[:, 0]), -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL, minlength=len(iv))
        du += np.bincount(np.clip(arr[:, 2] - arr[:, 1], 1, MAX_DURATION) - 1, minlength=MAX_DURATION)
        if meters is not None:
            meter = meters[i]
            onset_counts[meter] += np.bincount(arr[:, 1] % STEPS_PER_BAR[meter], minlength=STEPS_PER_BAR[meter])
            melodies_of[meter] += 1
    out = {"pitch_class": _normalized(pc), "interval": _normalized(iv), "duration": _normalized(du)}
    if meters is not None:
        onset = np.zeros(sum(STEPS_PER_BAR.values()))
        total = sum(melodies_of.values())
        for meter, block in layout.items():
            if melodies_of[meter]:
                onset[block] = _normalized(onset_counts[meter]) * melodies_of[meter] / total
        out["onset_position"] = onset
    return out


def _nanmean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if len(arr) else float("nan")


def summarize(
    melodies: Sequence,
    keys: Sequence[Key],
    steps_per_bar_list: Sequence[int],
    reference_hists: dict[str, np.ndarray] | None = None,
    index: BarWindowIndex | None = None,
    meters: Sequence[str] | None = None,
) -> dict:
    """The metrics above, averaged over a set of melodies (per-melody values by nanmean).

    Returns a dict with
      n, notes_per_bar (onsets per bar of the melody's length),
      in_scale_rate, repetition_share, repetition_share_transposed,
      rhythm_variety (mean :func:`dominant_rhythm_share`), pitch_range (mean), pitch_range_median,
      {repetition_share, rhythm_variety, pitch_range}_p10 and _p90 (the set's spread, :func:`spread`),
      hist_pitch_class, hist_interval, hist_duration (pooled over the set, see
      :func:`pooled_histograms`),
    plus, given ``meters`` (one per melody: they tell 3/4 from 6/8),
      hist_onset_position, and the endings ends_on_tonic, ends_long, approached_by_step
      (shares of melodies; they mean something only where the melodies are whole pieces or
      tunes' last bars),
    plus, given ``reference_hists`` (e.g. the training set's pooled histograms),
      overlap_pitch_class, overlap_interval, overlap_duration (and overlap_onset_position when
      both have it),
    plus, given ``index``, for each stored k: copied_share_k{k} = share of melodies whose
      longest_copied_bars >= k, and longest_copied_bars_mean.
    """
    melodies, keys, spbs = list(melodies), list(keys), [int(s) for s in steps_per_bar_list]
    if not len(melodies) == len(keys) == len(spbs) == (len(melodies) if meters is None else len(meters)):
        raise ValueError("melodies, keys, steps_per_bar_list (and meters) must have the same length")
    names = ["in_scale_rate", "repetition_share", "repetition_share_transposed", "notes_per_bar", "rhythm_variety", "pitch_range"]
    if meters is not None:
        names += ["ends_on_tonic", "ends_long", "approached_by_step"]
    per: dict[str, list[float]] = {name: [] for name in names}
    longest = []
    for i, (notes, key, spb) in enumerate(zip(melodies, keys, spbs)):
        arr = _notes(notes)
        per["in_scale_rate"].append(in_scale_rate(arr, key))
        per["repetition_share"].append(repetition_share(arr, spb))
        per["repetition_share_transposed"].append(repetition_share(arr, spb, transposed=True))
        n_bars = -(-int(arr[:, 2].max()) // spb) if len(arr) else 0
        per["notes_per_bar"].append(len(arr) / n_bars if n_bars else float("nan"))
        per["rhythm_variety"].append(dominant_rhythm_share(arr, spb))
        per["pitch_range"].append(pitch_range(arr))
        if meters is not None:
            per["ends_on_tonic"].append(ends_on_tonic(arr, key))
            per["ends_long"].append(ends_long(arr, beat_steps(meters[i])))
            per["approached_by_step"].append(approached_by_step(arr))
        if index is not None:
            longest.append(index.longest_copied_bars(arr, spb))
    out: dict = {"n": len(melodies)}
    out.update({name: _nanmean(values) for name, values in per.items()})
    ranges = np.asarray(per["pitch_range"], dtype=np.float64)
    out["pitch_range_median"] = float(np.nanmedian(ranges)) if np.any(~np.isnan(ranges)) else float("nan")
    for name in ("repetition_share", "rhythm_variety", "pitch_range"):
        out[f"{name}_p{SPREAD[0]}"], out[f"{name}_p{SPREAD[1]}"] = spread(per[name])
    hists = pooled_histograms(melodies, keys, meters)
    out.update({f"hist_{name}": h for name, h in hists.items()})
    if reference_hists is not None:
        for name, h in hists.items():
            if name in reference_hists:
                out[f"overlap_{name}"] = histogram_overlap(h, reference_hists[name])
    if index is not None:
        longest_arr = np.asarray(longest)
        for k in index.ks:
            out[f"copied_share_k{k}"] = float((longest_arr >= k).mean()) if len(longest_arr) else float("nan")
        out["longest_copied_bars_mean"] = float(longest_arr.mean()) if len(longest_arr) else float("nan")
    return out
