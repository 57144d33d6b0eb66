"""Baselines the melody VAE has to beat: a first-order Markov chain and random notes.

- :class:`MarkovMelody`: a first-order Markov chain over (interval, duration) tokens, fitted
  on folk tunes. It gets local motion and rhythm right but has no sense of bars, phrases or
  repetition, so it shows what the VAE adds beyond note-to-note statistics.
- :func:`random_melody`: uniform pitches and durations, the floor for every metric.

Both return note arrays (N, 3) = (pitch, start_step, end_step), int64, that fill exactly
``bars * steps_per_bar`` steps (the last note is cut at the end), pitches in MIDI 48..95
(the range of the VAE's encoding).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

PITCH_MIN, PITCH_MAX = 48, 95  # inclusive; the VAE's range [48, 96)
MAX_INTERVAL = 12  # intervals are clipped to -12..12 when counted
MAX_DURATION = 16  # durations are clipped to 1..16 steps when counted
CENTRE = 60  # the first pitch is placed relative to the tonic's pitch class in octave 60..71


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _reflect(pitch: int) -> int:
    """Fold a pitch back into PITCH_MIN..PITCH_MAX by reflecting at the boundaries."""
    while pitch < PITCH_MIN or pitch > PITCH_MAX:
        pitch = 2 * PITCH_MIN - pitch if pitch < PITCH_MIN else 2 * PITCH_MAX - pitch
    return pitch


def _unpack(item) -> tuple[np.ndarray, tuple[int, str]]:
    """(notes, key) from a Tune-like object (.notes, .key) or a tuple (notes, key, ...)."""
    if hasattr(item, "notes") and hasattr(item, "key"):
        return np.asarray(item.notes, dtype=np.int64).reshape(-1, 3), (int(item.key[0]), str(item.key[1]))
    notes, key = item[0], item[1]
    return np.asarray(notes, dtype=np.int64).reshape(-1, 3), (int(key[0]), str(key[1]))


class MarkovMelody:
    """First-order Markov chain over tokens (interval to the previous pitch, duration).

    A note's duration is its inter-onset interval (start of the next note minus its start;
    the last note's own length), clipped to 1..16 steps, so rests are folded into the note
    before them and samples are legato. Intervals are clipped to -12..12 semitones. The state
    is the previous token; the first note counts as token (0, its duration) for this purpose.
    The first note's pitch (relative to the tonic, per mode) and duration are learned
    separately. Transitions use add-k smoothing over the tokens observed anywhere in the data.
    The chain knows nothing of meter: bars are filled by cutting the last note.
    """

    def __init__(self, tokens: np.ndarray, transitions: np.ndarray, first_offsets: dict[str, tuple[np.ndarray, np.ndarray]], first_durations: np.ndarray):
        self.tokens = tokens  # (V, 2) int64: (interval, duration)
        self.transitions = transitions  # (V, V) float64, rows sum to 1
        self.first_offsets = first_offsets  # mode -> (offsets from CENTRE + tonic, probabilities)
        self.first_durations = first_durations  # (MAX_DURATION,) probabilities of durations 1..16
        self._cdf = np.cumsum(transitions, axis=1)
        self._index = {(int(i), int(d)): n for n, (i, d) in enumerate(tokens.tolist())}

    @classmethod
    def fit(cls, melodies_with_meta: Iterable, k: float = 0.1) -> MarkovMelody:
        """Fit on an iterable of Tune-like objects (with .notes and .key) or (notes, key) tuples,
        key = (tonic pitch class, 'major'|'minor'). ``k`` is the add-k smoothing constant."""
        sequences, firsts = [], []
        for item in melodies_with_meta:
            notes, (tonic, mode) = _unpack(item)
            if len(notes) == 0:
                continue
            notes = notes[np.argsort(notes[:, 1], kind="stable")]
            starts = notes[:, 1]
            durations = np.empty(len(notes), dtype=np.int64)
            durations[:-1] = np.diff(starts)
            durations[-1] = notes[-1, 2] - notes[-1, 1]
            durations = np.clip(durations, 1, MAX_DURATION)
            intervals = np.zeros(len(notes), dtype=np.int64)
            intervals[1:] = np.clip(np.diff(notes[:, 0]), -MAX_INTERVAL, MAX_INTERVAL)
            sequences.append(np.stack([intervals, durations], axis=1))
            firsts.append((mode, int(notes[0, 0]) - (CENTRE + tonic % 12), int(durations[0])))
        if not sequences:
            raise ValueError("no melodies with notes to fit on")
        all_tokens = np.concatenate(sequences)
        tokens, codes = np.unique(all_tokens, axis=0, return_inverse=True)
        codes = codes.ravel()
        n = len(tokens)
        counts = np.zeros((n, n))
        pos = 0
        for seq in sequences:
            seq_codes = codes[pos : pos + len(seq)]
            pos += len(seq)
            np.add.at(counts, (seq_codes[:-1], seq_codes[1:]), 1.0)
        counts += k
        transitions = counts / counts.sum(axis=1, keepdims=True)

        first_offsets = {}
        all_offsets = np.array([o for _, o, _ in firsts])
        for mode in ("major", "minor"):
            offsets = np.array([o for m, o, _ in firsts if m == mode]) if any(m == mode for m, _, _ in firsts) else all_offsets
            values, n_seen = np.unique(offsets, return_counts=True)
            first_offsets[mode] = (values, n_seen / n_seen.sum())
        first_durations = np.bincount([d - 1 for _, _, d in firsts], minlength=MAX_DURATION).astype(np.float64)
        first_durations /= first_durations.sum()
        return cls(tokens, transitions, first_offsets, first_durations)

    def sample(self, bars: int, steps_per_bar: int, key: tuple[int, str], rng=None) -> np.ndarray:
        """A melody of exactly ``bars`` bars in ``key`` (tonic pitch class, mode); ``rng`` is a
        numpy Generator or a seed. The last note is cut at the end; pitches are reflected into
        48..95 whenever a step would leave that range."""
        rng = _rng(rng)
        tonic, mode = int(key[0]) % 12, str(key[1])
        total = int(bars) * int(steps_per_bar)
        offsets, probs = self.first_offsets.get(mode, self.first_offsets["major"])
        pitch = _reflect(CENTRE + tonic + int(offsets[rng.choice(len(offsets), p=probs)]))
        duration = 1 + int(rng.choice(MAX_DURATION, p=self.first_durations))
        state = self._index.get((0, duration))
        if state is None:  # (0, d) never seen as a token: start from the nearest observed duration
            state = min(range(len(self.tokens)), key=lambda i: (abs(self.tokens[i, 1] - duration), abs(self.tokens[i, 0])))
        notes, start = [], 0
        while start < total:
            end = min(start + duration, total)
            notes.append((pitch, start, end))
            start = end
            row = self._cdf[state]
            state = min(int(np.searchsorted(row, rng.random() * row[-1], side="right")), len(row) - 1)
            interval, duration = (int(v) for v in self.tokens[state])
            pitch = _reflect(pitch + interval)
        return np.array(notes, dtype=np.int64).reshape(-1, 3)


def random_melody(bars: int, steps_per_bar: int, key: tuple[int, str], rng=None) -> np.ndarray:
    """The "random notes" baseline: pitches uniform over the two octaves around the tonic
    (tonic - 12 .. tonic + 12 semitones, tonic placed at MIDI 60..71), durations uniform in
    1..8 steps, no rests; exactly ``bars`` bars, the last note cut at the end."""
    rng = _rng(rng)
    centre = CENTRE + int(key[0]) % 12
    total = int(bars) * int(steps_per_bar)
    notes, start = [], 0
    while start < total:
        end = min(start + int(rng.integers(1, 9)), total)
        notes.append((int(rng.integers(centre - 12, centre + 13)), start, end))
        start = end
    return np.array(notes, dtype=np.int64).reshape(-1, 3)
