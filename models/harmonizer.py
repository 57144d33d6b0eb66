"""The harmonizer: a chord track that fits a melody, from an HMM over triads decoded by Viterbi.

Method.
- States: the 36 triads 12 roots x {maj, min, dim}, as roots relative to the key's tonic.
- Transitions, initial and final chords: counted in the Bach chorales of the music21 corpus
  (major-key and minor-key chorales apart), one chord per beat (corpus.load_chorale_chords:
  the four voices chordified, sevenths reduced to their triads). Repeated chords are collapsed, so the matrix counts chord *changes*
  (add-one smoothing); the probability of keeping a chord for one more slot is a constant.
- Emissions: a chord slot is half a bar in 4/4, 2/4 and 6/8 (a bar in 3/4); the melody notes
  sounding in it are weighted by duration, doubled on the slot's first step. Log-score =
  SHARPNESS * (share of that weight whose pitch class is in the chord - 1): chord tones are free,
  non-chord tones cost, and an empty slot is neutral. Plus the chord's log-frequency in chorales.
- Viterbi over the slots; equal neighbouring slots merge into one Chord.
The tables are small and saved as JSON (models/checkpoints/harmonizer.json), so serving never
parses a chorale.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from game_server.music import Chord, Key, Meter, Note

QUALITIES = ("maj", "min", "dim")
STATES = [(root, q) for q in QUALITIES for root in range(12)]  # index = q * 12 + root
INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6)}
SHARPNESS = 6.0
STAY = 0.55  # probability of keeping the chord for one more slot
VERSION = 1
DEFAULT_PATH = Path(__file__).resolve().parent / "checkpoints" / "harmonizer.json"

# membership[s, pc] = 1 if pitch class pc (relative to the tonic) is in state s's triad
MEMBERSHIP = np.zeros((len(STATES), 12))
for _i, (_root, _q) in enumerate(STATES):
    for _iv in INTERVALS[_q]:
        MEMBERSHIP[_i, (_root + _iv) % 12] = 1.0


@dataclass
class Harmonizer:
    transitions: dict[str, np.ndarray]  # mode -> [36, 36] log P(next chord | chord), chord changes
    initial: dict[str, np.ndarray]  # mode -> [36] log P(first chord)
    final: dict[str, np.ndarray]  # mode -> [36] log P(last chord)
    prior: dict[str, np.ndarray]  # mode -> [36] log frequency of each chord
    meta: dict

    def harmonize(self, melody: Sequence[Note], key: Key, meter: Meter, bars: int) -> tuple[Chord, ...]:
        slot = slot_length(meter)
        n_slots = bars * meter.steps_per_bar // slot
        weights = np.zeros((n_slots, 12))  # weighted pitch-class content per slot, relative to the tonic
        for note in melody:
            pc = (note.pitch - key.tonic) % 12
            for step in range(note.start, min(note.end, n_slots * slot)):
                weights[step // slot, pc] += 2.0 if step % slot == 0 and step == note.start else 1.0
        total = weights.sum(axis=1, keepdims=True)
        covered = np.divide(weights @ MEMBERSHIP.T, total, out=np.ones((n_slots, len(STATES))), where=total > 0)
        emissions = SHARPNESS * (covered - 1.0) + self.prior[key.mode]  # [slots, 36]
        stay, change = np.log(STAY), np.log(1 - STAY) + self.transitions[key.mode]
        np.fill_diagonal(change, stay)
        path = viterbi(self.initial[key.mode] + emissions[0], change, emissions[1:], self.final[key.mode])
        chords: list[Chord] = []
        for i, state in enumerate(path):
            root, quality = STATES[state]
            if chords and (chords[-1].root, chords[-1].quality) == ((root + key.tonic) % 12, quality):
                chords[-1] = Chord(chords[-1].start, (i + 1) * slot, chords[-1].root, quality)
            else:
                chords.append(Chord(i * slot, (i + 1) * slot, (root + key.tonic) % 12, quality))
        return tuple(chords)

    def save(self, path: Path = DEFAULT_PATH) -> None:
        blob = {"version": VERSION, "method": "HMM over 36 triads, Viterbi", "meta": self.meta}
        for name in ("transitions", "initial", "final", "prior"):
            blob[name] = {mode: np.round(table, 4).tolist() for mode, table in getattr(self, name).items()}
        Path(path).write_text(json.dumps(blob))

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> Harmonizer:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m models.train harmonizer`")
        blob = json.loads(Path(path).read_text())
        tables = {name: {mode: np.array(v) for mode, v in blob[name].items()} for name in ("transitions", "initial", "final", "prior")}
        return cls(**tables, meta=blob["meta"])


def slot_length(meter: Meter) -> int:
    """Half a bar where the bar has two beats groups (4/4, 2/4, 6/8, 12/8), else a bar."""
    if (meter.numerator, meter.denominator) in ((4, 4), (2, 4), (6, 8), (12, 8), (2, 2)):
        return meter.steps_per_bar // 2
    return meter.steps_per_bar


def viterbi(start: np.ndarray, transition: np.ndarray, emissions: np.ndarray, final: np.ndarray) -> list[int]:
    """Most likely state path. start [S], transition [S, S] (log), emissions [T-1, S], final [S]."""
    score, back = start, []
    for emission in emissions:
        candidates = score[:, None] + transition  # [from, to]
        back.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0) + emission
    state = int(np.argmax(score + final))
    path = [state]
    for pointers in reversed(back):
        state = int(pointers[state])
        path.append(state)
    return path[::-1]


def chord_fit(melody: Sequence[Note], chords: Sequence[Chord]) -> float:
    """Share of melody duration (steps) whose pitch class belongs to the chord sounding then."""
    inside = total = 0
    for note in melody:
        for chord in chords:
            overlap = min(note.end, chord.end) - max(note.start, chord.start)
            if overlap > 0:
                total += overlap
                pcs = {(chord.root + i) % 12 for i in INTERVALS.get(chord.quality, (0, 4, 7))}
                inside += overlap if note.pitch % 12 in pcs else 0
    return inside / total if total else float("nan")


# ---- fitting on the Bach chorales ------------------------------------------------------------


def progressions_of(chorales) -> list[tuple[str, list[int]]]:
    """(mode, [state index per beat]) from corpus.ChoraleChords; augmented triads (not states
    here) keep the chord before them."""
    out = []
    for chorale in chorales:
        states = []
        for root, quality in chorale.chords:
            if quality in QUALITIES:
                states.append(QUALITIES.index(quality) * 12 + root)
            elif states:
                states.append(states[-1])
        if len(states) >= 4:
            out.append((chorale.key[1], states))
    return out


def fit(progressions: list[tuple[str, list[int]]]) -> Harmonizer:
    tables: dict[str, dict[str, np.ndarray]] = {"transitions": {}, "initial": {}, "final": {}, "prior": {}}
    counts = Counter(mode for mode, _ in progressions)
    for mode in ("major", "minor"):
        n = len(STATES)
        change, first, last, unigram = np.ones((n, n)), np.ones(n), np.ones(n), np.ones(n)
        for _, states in (p for p in progressions if p[0] == mode):
            collapsed = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
            for a, b in zip(collapsed, collapsed[1:]):
                change[a, b] += 1
            first[collapsed[0]] += 1
            last[collapsed[-1]] += 1
            for s in states:
                unigram[s] += 1
        np.fill_diagonal(change, 0)  # staying is STAY's business, not the change matrix's
        log_change = np.log(np.maximum(change / change.sum(axis=1, keepdims=True), 1e-12))
        np.fill_diagonal(log_change, 0.0)
        tables["transitions"][mode] = log_change
        tables["initial"][mode] = np.log(first / first.sum())
        tables["final"][mode] = np.log(last / last.sum())
        tables["prior"][mode] = 0.5 * np.log(unigram / unigram.sum())
    return Harmonizer(**tables, meta={"chorales": dict(counts), "source": "music21 corpus, composer 'bach' (public domain)"})


def main() -> None:
    from .corpus import load_chorale_chords

    harmonizer = fit(progressions_of(load_chorale_chords()))
    harmonizer.save()
    print(f"harmonizer fit on {harmonizer.meta['chorales']} chorales; saved {DEFAULT_PATH}")


if __name__ == "__main__":
    main()
