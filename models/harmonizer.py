"""The harmonizer: a chord track that fits a melody, from a hidden Markov model over triads
decoded with Viterbi.

Method.
- States: the 36 triads 12 roots x {maj, min, dim}, roots counted from the key's tonic. All 12
  diminished triads (not only vii°) because the chorales use ii° in minor and secondary vii° of
  V, IV, ii...; learned transitions keep the rare ones rare.
- Time: one chord slot per half bar in 4/4, 2/2, 2/4, 6/8 and 12/8, one per bar in 3/4 and every
  other meter (`slot_length`).
- Transitions, learned from the Bach chorales of the music21 corpus (`corpus.load_chorale_chords`:
  one chord per beat, relative to the tonic; major-key and minor-key chorales apart; augmented
  triads keep the chord before them):
    * chord *changes*: repeated chords are collapsed and the changes a -> b (a != b) counted,
      add-one (Laplace) smoothed over the 35 other triads;
    * the self-transition P(stay | a): each chorale resampled at the harmonizer's slots (the
      chord on the first beat of each half bar, or bar in 3/4) and the share of slots keeping the
      chord of the slot before, counted per triad and shrunk towards the mode's overall share
      (a Beta prior of STAY_PRIOR_WEIGHT pseudo-slots);
    * so P(b | a) = (1 - stay_a) * change[a, b] for b != a, and stay_a on the diagonal.
- Initial and final chords: the first and last chord of each chorale, add-one smoothed (the
  cadence: ~92 % of major chorales end on I). A minor chorale ending on the Picardy third (major
  I, ~70 % of them) is counted as ending on i: a folk tune in minor ends on the minor tonic.
- Emissions: for each slot, the melody's pitch classes (relative to the tonic) weighted by how
  long they sound in the slot, each step weighing 1 plus DOWNBEAT_ACCENT on the slot's first
  step and BEAT_ACCENT on its other beat onsets (a note sounding on the downbeat counts more).
  The weights are normalised into shares; the log-score of a triad is
      EVIDENCE * sum_pc share[pc] * log P(pc - root | quality),
  where P(interval | quality) is the distribution of the chorale soprano, on the beat, around
  the chord sounding there (chord tones ~93 %), add-one smoothed and mixed with a uniform
  NONCHORD_FLOOR so a non-chord tone costs ~1.5-2 nats more than a chord tone, never -inf.
  A slot without melody scores 0 for every triad: the transitions fill it.
- Decoding: Viterbi (log domain) with the final distribution added at the last slot; equal
  consecutive slots merge into one Chord; roots become absolute, (tonic + root) % 12.

The tables are small and saved as JSON (models/checkpoints/harmonizer.json; `python -m
models.harmonizer` refits them from every chorale), so serving never parses a chorale.
`chord_fit` measures how well a chord track fits a melody, for evaluation.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from music import Chord, Key, Meter, Note

METHOD = "hmm-triads-viterbi"
VERSION = 2
DEFAULT_PATH = Path(__file__).resolve().parent / "checkpoints" / "harmonizer.json"
MODES = ("major", "minor")
QUALITIES = ("maj", "min", "dim")
INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6)}
STATES: list[tuple[int, str]] = [(root, q) for q in QUALITIES for root in range(12)]  # index = q * 12 + root
N_STATES = len(STATES)

# Hyperparameters (saved with the tables, so a checkpoint decodes the way it was fitted).
EVIDENCE = 3.0  # weight of one slot's melody against the transition log-probabilities
NONCHORD_FLOOR = 0.1  # share of P(pitch class | chord) spread uniformly: the non-chord-tone penalty
DOWNBEAT_ACCENT = 4.0  # extra weight of the step on a slot's first step (a quarter note's worth)
BEAT_ACCENT = 1.0  # extra weight of the step on the slot's other beat onsets
STAY_PRIOR_WEIGHT = 20.0  # pseudo-slots pulling each triad's stay probability to the mode's mean

HALF_BAR_METERS = ((4, 4), (2, 2), (2, 4), (6, 8), (12, 8))

def state_name(state: int) -> str:
    root, quality = STATES[state]
    return f"{root}:{quality}"


def slot_length(meter: Meter) -> int:
    """Steps per chord slot: half a bar in 4/4, 2/2, 2/4, 6/8 and 12/8, else a whole bar."""
    if (meter.numerator, meter.denominator) in HALF_BAR_METERS:
        return meter.steps_per_bar // 2
    return meter.steps_per_bar


def beat_length(meter: Meter) -> int:
    """Steps per beat: a dotted quarter in compound meters (6/8, 9/8, 12/8, 3/8), a half note
    over 2, else a quarter note."""
    if meter.denominator == 8 and meter.numerator % 3 == 0:
        return 6
    if meter.denominator == 2:
        return 8
    return 4


def strong_steps(meter: Meter) -> np.ndarray:
    """[steps_per_bar] bool: the steps inside a strong beat (beat 1, and beat 3 of four-beat bars)."""
    beat = min(beat_length(meter), meter.steps_per_bar)
    beats = meter.steps_per_bar // beat
    strong = np.zeros(meter.steps_per_bar, dtype=bool)
    strong[:beat] = True
    if beats == 4:
        strong[2 * beat : 3 * beat] = True
    return strong


@lru_cache(maxsize=64)
def _step_weights(slot: int, beat: int) -> np.ndarray:
    """Metrical weight of each step of a slot: 1, plus the accents on its first step and beats."""
    weights = np.ones(slot)
    weights[::beat] += BEAT_ACCENT
    weights[0] += DOWNBEAT_ACCENT - BEAT_ACCENT
    return weights


def slot_pitch_weights(melody: Sequence[Note], tonic: int, meter: Meter, bars: int) -> np.ndarray:
    """[slots, 12]: per chord slot, the metrically weighted duration of each pitch class
    (relative to the tonic) sounding in it. Vectorised: one searchsorted over all steps."""
    slot = slot_length(meter)
    total_steps = bars * meter.steps_per_bar
    n_slots = total_steps // slot
    if not melody:
        return np.zeros((n_slots, 12))
    notes = np.array([(n.start, n.end, n.pitch) for n in melody], dtype=np.int64)
    if np.any(np.diff(notes[:, 0]) < 0):
        notes = notes[np.argsort(notes[:, 0], kind="stable")]
    steps = np.arange(total_steps)
    index = np.searchsorted(notes[:, 0], steps, side="right") - 1  # the last note started by each step
    sounding = (index >= 0) & (steps < notes[np.maximum(index, 0), 1])
    pcs = (notes[np.maximum(index, 0), 2] - tonic) % 12
    weights = np.tile(_step_weights(slot, beat_length(meter)), n_slots) * sounding
    flat = np.bincount((steps // slot) * 12 + pcs, weights=weights, minlength=n_slots * 12)
    return flat.reshape(n_slots, 12)


def viterbi(start: np.ndarray, transition: np.ndarray, emissions: np.ndarray, final: np.ndarray) -> list[int]:
    """Most likely state path, all in log space. start [S]: initial + first emission;
    transition [S, S] (from, to); emissions [T-1, S] for the later slots; final [S]."""
    score, back = start, []
    for emission in emissions:
        candidates = score[:, None] + transition  # [from, to]
        best = candidates.argmax(axis=0)
        back.append(best)
        score = candidates[best, np.arange(len(best))] + emission
    state = int(np.argmax(score + final))
    path = [state]
    for pointers in reversed(back):
        state = int(pointers[state])
        path.append(state)
    return path[::-1]


@dataclass
class ModeTables:
    """The learned tables of one mode, all natural-log probabilities over STATES."""

    change: np.ndarray  # [36, 36] log P(b | a, the chord changes); diagonal unused (0)
    stay: np.ndarray  # [36] P(stay on a for one more slot), a probability
    initial: np.ndarray  # [36]
    final: np.ndarray  # [36]
    emission: np.ndarray  # [3, 12] log P(melody pitch class - root | quality)

    def __post_init__(self) -> None:
        self.change, self.stay, self.initial, self.final, self.emission = (
            np.asarray(t, dtype=np.float64) for t in (self.change, self.stay, self.initial, self.final, self.emission)
        )
        # Decoding tables, precomputed once: the full transition matrix and the emission matrix
        # over tonic-relative pitch classes, [36, 12].
        transition = np.log1p(-self.stay)[:, None] + self.change
        np.fill_diagonal(transition, np.log(self.stay))
        self.transition = transition
        roots = np.array([r for r, _ in STATES])
        qualities = np.array([QUALITIES.index(q) for _, q in STATES])
        self.pc_scores = self.emission[qualities[:, None], (np.arange(12)[None, :] - roots[:, None]) % 12].T  # [12, 36]

    def to_json(self) -> dict:
        return {
            "change": np.round(self.change, 5).tolist(),
            "stay": np.round(self.stay, 5).tolist(),
            "initial": np.round(self.initial, 5).tolist(),
            "final": np.round(self.final, 5).tolist(),
            "emission": {q: np.round(self.emission[i], 5).tolist() for i, q in enumerate(QUALITIES)},
        }

    @classmethod
    def from_json(cls, blob: dict) -> ModeTables:
        return cls(blob["change"], blob["stay"], blob["initial"], blob["final"], [blob["emission"][q] for q in QUALITIES])


@dataclass
class Harmonizer:
    tables: dict[str, ModeTables]  # "major" | "minor" -> tables
    meta: dict = field(default_factory=dict)  # chorales used, counts, hyperparameters
    evidence: float = EVIDENCE

    def emissions(self, melody: Sequence[Note], key: Key, meter: Meter, bars: int) -> np.ndarray:
        """[slots, 36] log-scores of each triad for the melody in each slot."""
        weights = slot_pitch_weights(melody, key.tonic, meter, bars)
        total = weights.sum(axis=1, keepdims=True)
        shares = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
        return self.evidence * (shares @ self.tables[key.mode].pc_scores)

    def decode(self, melody: Sequence[Note], key: Key, meter: Meter, bars: int) -> list[int]:
        """The Viterbi state per slot (indices into STATES, tonic-relative)."""
        tables = self.tables[key.mode]
        emissions = self.emissions(melody, key, meter, bars)
        return viterbi(tables.initial + emissions[0], tables.transition, emissions[1:], tables.final)

    def harmonize(self, melody: Sequence[Note], key: Key, meter: Meter, bars: int) -> tuple[Chord, ...]:
        """Chords for `melody` covering steps 0 .. bars * steps_per_bar: sorted, gapless,
        non-overlapping, absolute roots; consecutive equal slots merged into one Chord."""
        if bars < 1:
            raise ValueError(f"bars must be >= 1, got {bars}")
        slot = slot_length(meter)
        path = self.decode(melody, key, meter, bars)
        chords: list[Chord] = []
        begin = 0
        for i in range(1, len(path) + 1):
            if i == len(path) or path[i] != path[begin]:
                root, quality = STATES[path[begin]]
                chords.append(Chord(begin * slot, i * slot, (root + key.tonic) % 12, quality))
                begin = i
        return tuple(chords)

    def to_json(self) -> dict:
        return {
            "method": METHOD,
            "description": "hidden Markov model over 36 triads (12 roots x maj/min/dim, relative to the tonic), "
            "transitions from Bach chorale chord changes (Laplace) with a learned self-transition, "
            "emissions scoring the melody's pitch classes per chord slot, decoded with Viterbi",
            "version": VERSION,
            "states": [state_name(s) for s in range(N_STATES)],
            "chorales": self.meta.get("chorales", {}),
            "meta": self.meta,
            "hyperparameters": {"evidence": self.evidence, **self.meta.get("hyperparameters", {})},
            "tables": {mode: t.to_json() for mode, t in self.tables.items()},
        }

    def save(self, path: Path = DEFAULT_PATH) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        text = json.dumps(self.to_json(), indent=1)
        # one line per row of numbers (or list of names): small diffs, readable file
        text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
        tmp.write_text(text + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> Harmonizer:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m models.harmonizer` (or `python -m models.train harmonizer`)")
        blob = json.loads(path.read_text())
        if blob.get("method") != METHOD or blob.get("version") != VERSION:
            raise ValueError(f"{path}: harmonizer tables of method {blob.get('method')!r} version {blob.get('version')!r}, "
                             f"expected {METHOD!r} version {VERSION}: refit with `python -m models.harmonizer`")
        tables = {mode: ModeTables.from_json(blob["tables"][mode]) for mode in MODES}
        return cls(tables, blob.get("meta", {}), float(blob["hyperparameters"]["evidence"]))


@lru_cache(maxsize=1)
def load_default() -> Harmonizer:
    """The committed harmonizer (models/checkpoints/harmonizer.json), read once per process."""
    return Harmonizer.load(DEFAULT_PATH)


def harmonize(melody: Sequence[Note], key: Key, meter: Meter, bars: int) -> tuple[Chord, ...]:
    """Chords for a melody with the committed harmonizer (see Harmonizer.harmonize)."""
    return load_default().harmonize(melody, key, meter, bars)


# ---- evaluation ---------------------------------------------------------------------------------


def chord_fit(melody: Sequence[Note], chords: Sequence[Chord], meter: Meter | None = None) -> float:
    """Share of melody duration whose pitch class belongs to the chord sounding at that time.

    With `meter`, only the strong beats count (`strong_steps`: beat 1, and beat 3 of four-beat
    bars: 1 and 3 of 4/4 and 12/8, 1 of 2/4, 3/4 and 6/8), i.e. the steps where a melody note
    is expected to be a chord tone; without it, every step counts. Steps without melody or
    without a chord are left out; NaN when nothing is left."""
    if not melody or not chords:
        return float("nan")
    end = max(max(n.end for n in melody), max(c.end for c in chords))
    note_pc = np.full(end, -1)
    for note in melody:
        note_pc[note.start : note.end] = note.pitch % 12
    chord_pcs = np.zeros((end, 12), dtype=bool)
    for chord in chords:
        member = np.zeros(12, dtype=bool)
        member[list(chord.pitch_classes)] = True
        chord_pcs[chord.start : chord.end] = member
    counted = (note_pc >= 0) & chord_pcs.any(axis=1)
    if meter is not None:
        counted &= np.resize(strong_steps(meter), end)
    if not counted.any():
        return float("nan")
    hits = chord_pcs[np.nonzero(counted)[0], note_pc[counted]]
    return float(hits.mean())


# ---- fitting on the Bach chorales ---------------------------------------------------------------


def _states_of(chords: Iterable[tuple[int, str]]) -> list[int]:
    """State per beat; an augmented triad (no state here) keeps the chord before it."""
    states: list[int] = []
    for root, quality in chords:
        if quality in QUALITIES:
            states.append(QUALITIES.index(quality) * 12 + int(root) % 12)
        elif states:
            states.append(states[-1])
    return states


def _slot_beats(beats_per_bar: int) -> int:
    """Beats per harmonizer slot for a chorale: half a bar of 4 (or 2), else the bar."""
    return beats_per_bar // 2 if beats_per_bar in (2, 4) else beats_per_bar


def fit_harmonizer(chorales: Iterable, progress: bool = False) -> Harmonizer:
    """Count the tables from chorales: objects with .key (tonic, mode), .chords [(root relative
    to the tonic, quality)] one per beat, .soprano [pc relative to the tonic, -1 = rest] one per
    beat, .beats_per_bar and .pickup_beats (models.corpus.ChoraleChords)."""
    chorales = list(chorales)
    if progress:
        from tqdm import tqdm

        chorales = tqdm(chorales, desc="harmonizer", unit="chorale")
    n = N_STATES
    change = {m: np.ones((n, n)) - np.eye(n) for m in MODES}  # add-one over the 35 other triads
    stays = {m: np.zeros(n) for m in MODES}
    slots = {m: np.zeros(n) for m in MODES}
    first = {m: np.ones(n) for m in MODES}
    last = {m: np.ones(n) for m in MODES}
    soprano = {m: np.ones((len(QUALITIES), 12)) for m in MODES}
    used: Counter = Counter()
    beats = Counter()
    for chorale in chorales:
        mode = chorale.key[1]
        states = _states_of(chorale.chords)
        if mode not in MODES or len(states) < 4:
            continue
        used[mode] += 1
        beats[mode] += len(states)
        collapsed = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
        for a, b in zip(collapsed, collapsed[1:]):
            change[mode][a, b] += 1
        first[mode][collapsed[0]] += 1
        ending = collapsed[-1]
        if mode == "minor" and ending == QUALITIES.index("maj") * 12 + 0:  # Picardy third: count as i
            ending = QUALITIES.index("min") * 12 + 0
        last[mode][ending] += 1
        per_slot = _slot_beats(int(chorale.beats_per_bar))
        sampled = [s for b, s in enumerate(states) if (b - int(chorale.pickup_beats)) % per_slot == 0]
        for a, b in zip(sampled, sampled[1:]):
            slots[mode][a] += 1
            stays[mode][a] += a == b
        for (root, quality), pc in zip(chorale.chords, np.asarray(chorale.soprano)):
            if quality in QUALITIES and pc >= 0:
                soprano[mode][QUALITIES.index(quality), (int(pc) - int(root)) % 12] += 1
    if not all(used[m] for m in MODES):
        raise ValueError(f"need chorales in both modes, got {dict(used)}")
    tables = {}
    stay_means = {}
    for mode in MODES:
        np.fill_diagonal(change[mode], 0.0)
        probs = change[mode] / change[mode].sum(axis=1, keepdims=True)
        log_change = np.log(np.where(probs > 0, probs, 1.0))
        mean = stays[mode].sum() / max(slots[mode].sum(), 1)
        stay_means[mode] = round(float(mean), 4)
        stay = (stays[mode] + STAY_PRIOR_WEIGHT * mean) / (slots[mode] + STAY_PRIOR_WEIGHT)
        stay = np.clip(stay, 0.02, 0.98)
        emission = soprano[mode] / soprano[mode].sum(axis=1, keepdims=True)
        emission = (1 - NONCHORD_FLOOR) * emission + NONCHORD_FLOOR / 12
        tables[mode] = ModeTables(
            change=log_change,
            stay=stay,
            initial=np.log(first[mode] / first[mode].sum()),
            final=np.log(last[mode] / last[mode].sum()),
            emission=np.log(emission),
        )
    meta = {
        "chorales": {m: used[m] for m in MODES},
        "beats": {m: beats[m] for m in MODES},
        "mean_stay_per_slot": stay_means,
        "source": "Bach chorales of the music21 corpus (public domain), via models.corpus.load_chorale_chords",
        "hyperparameters": {
            "nonchord_floor": NONCHORD_FLOOR,
            "downbeat_accent": DOWNBEAT_ACCENT,
            "beat_accent": BEAT_ACCENT,
            "stay_prior_weight": STAY_PRIOR_WEIGHT,
        },
        "music21": metadata.version("music21"),
        "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return Harmonizer(tables, meta, EVIDENCE)


def main() -> None:
    from .corpus import load_chorale_chords

    harmonizer = fit_harmonizer(load_chorale_chords(), progress=True)
    harmonizer.save(DEFAULT_PATH)
    load_default.cache_clear()
    print(f"harmonizer fit on {harmonizer.meta['chorales']} chorales; saved {DEFAULT_PATH}")


if __name__ == "__main__":
    main()
