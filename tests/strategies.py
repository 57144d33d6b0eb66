"""Hypothesis strategies for Pieces, shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from music import CHORD_INTERVALS, DRUM_CLASSES, DRUM_KITS, Chord, DrumHit, Instruments, Key, Meter, Note, Piece

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


INSTRUMENTS = st.builds(Instruments, st.integers(0, 127), st.integers(0, 127), st.integers(0, 127), st.sampled_from(sorted(DRUM_KITS)))


@st.composite
def changes(draw, bars: int, values: st.SearchStrategy, first) -> tuple:
    """A story's (bar, value) changes after the first bar's `first`: up to 3, each another value."""
    out, current = [], first
    for bar in sorted(draw(st.sets(st.integers(1, bars - 1), max_size=3))) if bars > 1 else ():
        current = draw(values.filter(lambda value, before=current: value != before))
        out.append((bar, current))
    return tuple(out)


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
    tempo, instruments = draw(st.integers(40, 240)), draw(INSTRUMENTS)
    return Piece(
        tempo=tempo,
        tempo_changes=draw(changes(bars, st.integers(40, 240), tempo)),
        instruments=instruments,
        instrument_changes=draw(changes(bars, INSTRUMENTS, instruments)),
        meter=meter,
        key=Key(draw(st.integers(0, 11)), draw(st.sampled_from(["major", "minor"]))),
        bars=bars,
        melody=melody,
        chords=chords,
        drums=drums,
    )
