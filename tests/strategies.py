"""Hypothesis strategies for Pieces, shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from music import CHORD_INTERVALS, DRUM_CLASSES, Chord, DrumHit, Key, Meter, Note, Piece

METERS = [Meter(4, 4), Meter(3, 4), Meter(6, 8), Meter(2, 4)]


@st.composite
def monophonic_line(draw, total_steps: int, make):
    """Sorted, non-overlapping events; the last may ring up to a bar past the end."""
    events, step = [], draw(st.integers(0, 8))
    while step < total_steps:
        length = draw(st.integers(1, 12))
        events.append(make(draw, step, step + length))
        step += length + draw(st.integers(0, 6))
    return events


@st.composite
def pieces(draw, max_bars: int = 16, bars: int | None = None) -> Piece:
    meter = draw(st.sampled_from(METERS))
    bars = bars if bars is not None else draw(st.integers(1, max_bars))
    total = bars * meter.steps_per_bar
    melody = draw(
        monophonic_line(total, lambda d, s, e: Note(start=s, end=e, pitch=d(st.integers(36, 96)), velocity=d(st.integers(1, 127))))
    )
    chords = draw(
        monophonic_line(total, lambda d, s, e: Chord(start=s, end=e, root=d(st.integers(0, 11)), quality=d(st.sampled_from(sorted(CHORD_INTERVALS)))))
    )
    hit_keys = draw(st.sets(st.tuples(st.integers(0, total - 1), st.sampled_from(DRUM_CLASSES)), max_size=40))
    drums = [DrumHit(step, drum, draw(st.integers(1, 127))) for step, drum in sorted(hit_keys, key=lambda k: (k[0], k[1].value))]
    tempo = draw(st.integers(40, 240))
    changes, current = [], tempo
    for bar in sorted(draw(st.sets(st.integers(1, bars - 1), max_size=3))) if bars > 1 else ():
        current = draw(st.integers(40, 240).filter(lambda t, before=current: t != before))
        changes.append((bar, current))
    return Piece(
        tempo=tempo,
        tempo_changes=tuple(changes),
        meter=meter,
        key=Key(draw(st.integers(0, 11)), draw(st.sampled_from(["major", "minor"]))),
        bars=bars,
        melody=melody,
        chords=chords,
        drums=drums,
    )
