"""MIDI out and in through pretty_midi.

Written tracks (instrument names are how we find them again):
- "melody"  the piece's melody program (flute, 73, unless chosen), the monophonic melody;
- "chords"  its chords program (piano, 0), each chord voiced in close root position from C3 upwards;
- "bass"    its bass program (finger bass, 33), the chord roots two octaves under the chord voicing;
- "drums"   channel 10 (pretty_midi's is_drum), one General MIDI pitch per drum class, the kit
            as the drum channel's program.
Tempo and time signature are always written, and a key signature; a story's tempo changes at
their bar lines.

Reading takes the tracks by those names, and the programs of our own tracks back as the piece's
instruments. A file from elsewhere (no "melody" track) gives its
highest-sounding non-drum line, made monophonic by the skyline rule (at one onset the highest note
wins; a note is cut where the next starts). Times are snapped to the 16th grid at the file's
first tempo; a tempo change becomes one on the nearest bar line. A file without notes, without a tempo or without a time signature is refused: we
would have to guess the grid, and a wrong guess silently breaks every game built on it.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import mido
import numpy as np

from .instruments import DRUM_KITS, Instruments
from .piece import CHORD_INTERVALS, DRUM_CLASSES, Chord, DrumClass, DrumHit, Key, Meter, Note, Piece, PieceError, changes_of
from .quiet_imports import pretty_midi

RESOLUTION = 480  # ticks per quarter note: 120 ticks per 16th step, exact
CHORD_BASE = 48  # C3: chord voicings start at the root's pitch in this octave
BASS_BASE = 24  # C1
CHORD_VELOCITY = 70
BASS_VELOCITY = 85
END_MARKER = "melody-arcade:end"
TRACKS = ("melody", "chords", "bass", "drums")  # our own tracks, by name

DRUM_PITCH: dict[DrumClass, int] = {
    DrumClass.KICK: 36,
    DrumClass.SNARE: 38,
    DrumClass.CLOSED_HAT: 42,
    DrumClass.OPEN_HAT: 46,
    DrumClass.LOW_TOM: 45,
    DrumClass.MID_TOM: 48,
    DrumClass.HIGH_TOM: 50,
    DrumClass.CRASH: 49,
    DrumClass.RIDE: 51,
}
# General MIDI drum pitches folded into the 9 classes (MusicVAE's reduction).
GM_DRUM_CLASSES: dict[int, DrumClass] = {}
for _cls, _pitches in {
    DrumClass.KICK: (35, 36),
    DrumClass.SNARE: (37, 38, 39, 40),
    DrumClass.CLOSED_HAT: (22, 42, 44),
    DrumClass.OPEN_HAT: (26, 46),
    DrumClass.LOW_TOM: (41, 43, 45),
    DrumClass.MID_TOM: (47, 48),
    DrumClass.HIGH_TOM: (50,),
    DrumClass.CRASH: (49, 52, 55, 57),
    DrumClass.RIDE: (51, 53, 59),
}.items():
    for _p in _pitches:
        GM_DRUM_CLASSES[_p] = _cls


class MidiError(PieceError):
    """A MIDI file that cannot become a Piece; the message says why."""


def to_pretty_midi(piece: Piece) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=float(piece.tempo))
    # pretty_midi has no call that adds a tempo change: its reader keeps them as (tick, seconds a
    # tick) in _tick_scales, which tick_to_time reads and write() writes out as set_tempo events.
    for first_step, tempo in piece.tempo_spans()[1:]:
        pm._tick_scales.append((first_step * RESOLUTION // 4, 60.0 / (tempo * RESOLUTION)))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(piece.meter.numerator, piece.meter.denominator, 0.0))
    key_number = piece.key.tonic + (12 if piece.key.mode == "minor" else 0)
    pm.key_signature_changes.append(pretty_midi.KeySignature(key_number, 0.0))

    def seconds(step: int) -> float:
        return pm.tick_to_time(step * RESOLUTION // 4)

    sounds = piece.instruments
    melody = pretty_midi.Instrument(program=sounds.melody, name="melody")
    for n in piece.melody:
        melody.notes.append(pretty_midi.Note(n.velocity, n.pitch, seconds(n.start), seconds(n.end)))
    chords = pretty_midi.Instrument(program=sounds.chords, name="chords")
    bass = pretty_midi.Instrument(program=sounds.bass, name="bass")
    for c in piece.chords:
        for interval in CHORD_INTERVALS[c.quality]:
            chords.notes.append(pretty_midi.Note(CHORD_VELOCITY, CHORD_BASE + c.root + interval, seconds(c.start), seconds(c.end)))
        bass.notes.append(pretty_midi.Note(BASS_VELOCITY, BASS_BASE + c.root, seconds(c.start), seconds(c.end)))
    drums = pretty_midi.Instrument(program=sounds.drums, is_drum=True, name="drums")
    for h in piece.drums:
        drums.notes.append(pretty_midi.Note(h.velocity, DRUM_PITCH[h.drum], seconds(h.step), seconds(h.step + 1)))
    pm.instruments.extend([melody, chords, bass, drums])
    # A text event at the last bar line keeps the length of a piece that ends in silence.
    pm.text_events.append(pretty_midi.Text(END_MARKER, seconds(piece.total_steps)))
    return pm


def sound_changes(piece: Piece) -> list[tuple[int, str, int]]:
    """(step, track, program) where a story's section changes a part's sound (for "drums": the
    kit), in order."""
    spans = piece.instrument_spans()
    return [(step, part, getattr(sounds, part)) for (step, sounds), (_, before) in zip(spans[1:], spans)
            for part in TRACKS if getattr(sounds, part) != getattr(before, part)]


def to_midi_bytes(piece: Piece) -> bytes:
    buffer = io.BytesIO()
    to_pretty_midi(piece).write(buffer)
    changes = sound_changes(piece)
    if not changes:
        return buffer.getvalue()
    # pretty_midi gives an instrument one program: a story's later ones go into its tracks here
    midi = mido.MidiFile(file=io.BytesIO(buffer.getvalue()))
    for track in midi.tracks:
        name = next((m.name for m in track if m.type == "track_name"), None)
        inserts = [(step * RESOLUTION // 4, program) for step, part, program in changes if part == name]
        if inserts:
            channel = next(m.channel for m in track if m.type == "program_change")
            track[:] = _with_program_changes(track, channel, inserts)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _with_program_changes(track: mido.MidiTrack, channel: int, inserts: list[tuple[int, int]]) -> list:
    """The track's messages with program changes at (tick, program): at a tick, after the notes
    that end there and before those that start."""
    timed, tick = [], 0
    for message in track:
        tick += message.time
        ending = message.type == "note_off" or (message.type == "note_on" and message.velocity == 0)
        timed.append((tick, 0 if ending else 3 if message.type == "end_of_track" else 2, message))
    timed += [(at, 1, mido.Message("program_change", channel=channel, program=program)) for at, program in inserts]
    timed.sort(key=lambda t: (t[0], t[1]))
    out, last = [], 0
    for at, _, message in timed:
        out.append(message.copy(time=at - last))
        last = at
    return out


def write_midi(piece: Piece, path: str | Path) -> None:
    Path(path).write_bytes(to_midi_bytes(piece))


def read_midi(source: str | Path | bytes | BinaryIO) -> Piece:
    """Read a MIDI file (path, bytes or binary file) into a Piece, or raise MidiError."""
    data = _read_bytes(source)
    try:
        raw = mido.MidiFile(file=io.BytesIO(data))
    except Exception as exc:  # mido raises many types (OSError, EOFError, KeyError...) for junk
        raise MidiError(f"not a readable MIDI file: {exc}") from None
    metas = {msg.type for track in raw.tracks for msg in track if msg.is_meta}
    if "set_tempo" not in metas:
        raise MidiError("the MIDI file has no tempo (set_tempo event): cannot place notes on a grid")
    if "time_signature" not in metas:
        raise MidiError("the MIDI file has no time signature: cannot tell where bars fall")
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:
        raise MidiError(f"not a readable MIDI file: {exc}") from None
    return _piece_from_pretty_midi(pm, raw)


def _read_bytes(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise MidiError(f"cannot read {source}: {exc.strerror}") from None
    return source.read()


def _piece_from_pretty_midi(pm: pretty_midi.PrettyMIDI, raw: mido.MidiFile) -> Piece:
    tempo_times, tempi = pm.get_tempo_changes()
    tempo = int(round(float(tempi[0])))
    signature = pm.time_signature_changes[0]
    try:
        meter = Meter(signature.numerator, signature.denominator)
    except PieceError as exc:
        raise MidiError(str(exc)) from None
    step_ticks = pm.resolution / 4

    def step_of(seconds: float) -> int:
        return int(round(pm.time_to_tick(seconds) / step_ticks))

    by_name: dict[str, list] = {}  # pretty_midi splits a track at a program change: its notes, all of them
    for inst in pm.instruments:
        by_name.setdefault(inst.name, []).extend(inst.notes)
    pitched = [inst for inst in pm.instruments if not inst.is_drum and inst.notes]
    end_marks = [step_of(t.time) for t in pm.text_events if t.text == END_MARKER]
    if "melody" in by_name or end_marks:  # written by us (an empty track is not written at all)
        melody_notes = by_name.get("melody", [])
    elif pitched:
        melody_notes = max(pitched, key=lambda inst: np.mean([n.pitch for n in inst.notes])).notes
    else:
        melody_notes = []
    melody = _skyline([(step_of(n.start), step_of(n.end), n.pitch, n.velocity) for n in melody_notes])

    chords = _read_chords(by_name["chords"], step_of) if "chords" in by_name else []

    drum_notes = [n for inst in pm.instruments if inst.is_drum for n in inst.notes]
    hits: dict[tuple[int, DrumClass], int] = {}
    for n in drum_notes:
        cls = GM_DRUM_CLASSES.get(n.pitch)
        if cls is not None:
            key = (step_of(n.start), cls)
            hits[key] = max(hits.get(key, 0), n.velocity)
    drums = [DrumHit(step, cls, vel) for (step, cls), vel in hits.items()]

    if not melody and not chords and not drums:
        raise MidiError("the MIDI file has no notes")

    if end_marks:  # written by us: the piece's own length (its last note may ring past it)
        end_of_music = end_marks[0]
    else:
        end_of_music = max([n.end for n in melody] + [c.end for c in chords] + [h.step + 1 for h in drums])
    bars = max(1, -(-end_of_music // meter.steps_per_bar))

    if pm.key_signature_changes:
        number = pm.key_signature_changes[0].key_number
        key = Key(number % 12, "minor" if number >= 12 else "major")
    else:
        key = estimate_key([n.pitch for n in melody] or [CHORD_BASE + c.root for c in chords] or [60])
    tempo_at: dict[int, int] = {0: tempo}  # bar -> the last tempo set on (or nearest) it
    for at, bpm in zip(tempo_times[1:], tempi[1:]):
        bar = int(round(step_of(float(at)) / meter.steps_per_bar))
        if 0 < bar < bars:
            tempo_at[bar] = int(round(float(bpm)))
    sounds = _sounds_of(raw, meter.steps_per_bar, bars)
    try:
        return Piece(tempo=tempo, meter=meter, key=key, bars=bars, melody=melody, chords=chords, drums=drums, instruments=sounds[0][1],
                     tempo_changes=changes_of(list(tempo_at.items())), instrument_changes=changes_of(sounds))
    except PieceError as exc:
        raise MidiError(f"the MIDI file does not make a valid piece: {exc}") from None


def _sounds_of(raw: mido.MidiFile, steps_per_bar: int, bars: int) -> list[tuple[int, Instruments]]:
    """(bar, instruments) from bar 0 on: the programs of our own named tracks (the defaults for a
    part a file lacks, or a kit outside General Standard's), changed where a later program change
    is (on the nearest bar line)."""
    programs: dict[int, dict[str, int]] = {0: {}}  # bar -> {part: program}
    for track in raw.tracks:
        name = next((m.name for m in track if m.type == "track_name"), None)
        if name not in TRACKS:
            continue
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "program_change" and (name != "drums" or message.program in DRUM_KITS):
                bar = min(bars - 1, round(tick * 4 / raw.ticks_per_beat / steps_per_bar))
                programs.setdefault(bar, {})[name] = message.program
    sounds, spans = Instruments(), []
    for bar in sorted(programs):
        sounds = replace(sounds, **programs[bar])
        spans.append((bar, sounds))
    return spans


def _skyline(events: list[tuple[int, int, int, int]]) -> list[Note]:
    """Monophonic line from possibly overlapping notes: highest note per onset, cut at the next."""
    best: dict[int, tuple[int, int, int, int]] = {}
    for start, end, pitch, velocity in events:
        if end <= start:
            end = start + 1
        if start not in best or pitch > best[start][2]:
            best[start] = (start, end, pitch, velocity)
    onsets = sorted(best)
    notes = []
    for i, start in enumerate(onsets):
        _, end, pitch, velocity = best[start]
        if i + 1 < len(onsets):
            end = min(end, onsets[i + 1])
        notes.append(Note(start=start, end=end, pitch=pitch, velocity=velocity))
    return notes


def _read_chords(notes: list, step_of) -> list[Chord]:
    """Group the voicing notes by (start, end) and name each group from its lowest note."""
    groups: dict[tuple[int, int], list[int]] = {}
    for n in notes:
        groups.setdefault((step_of(n.start), step_of(n.end)), []).append(n.pitch)
    by_shape = {tuple(v): k for k, v in CHORD_INTERVALS.items()}
    chords = []
    for (start, end), pitches in sorted(groups.items()):
        root = min(pitches)
        shape = tuple(sorted({p - root for p in pitches}))
        if shape not in by_shape:
            raise MidiError(f"chord at step {start} has notes {sorted(pitches)}, which is no known chord voicing")
        chords.append(Chord(start=start, end=end, root=root % 12, quality=by_shape[shape]))
    return chords


# Krumhansl-Kessler (1982) probe-tone profiles, tonic first: for files that carry no key signature.
KEY_PROFILES = {
    "major": np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]),
    "minor": np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]),
}
ALL_KEYS = [(tonic, mode) for tonic in range(12) for mode in ("major", "minor")]


def estimate_key(pitches, weights=None, candidates: list[tuple[int, str]] | None = None) -> Key:
    """Krumhansl-Schmuckler: of `candidates` (default: all 24 keys, C major first), the key whose
    profile best correlates with the (optionally weighted, e.g. by duration) pitch-class
    histogram. A histogram with one pitch class, or none, gives the first candidate."""
    candidates = candidates or ALL_KEYS
    histogram = np.bincount(np.asarray(pitches, dtype=np.int64) % 12, weights=weights, minlength=12).astype(float)
    if histogram.std() == 0:
        return Key(*candidates[0])
    best = max(candidates, key=lambda key: np.corrcoef(histogram, np.roll(KEY_PROFILES[key[1]], key[0]))[0, 1])
    return Key(*best)


assert set(DRUM_PITCH) == set(DRUM_CLASSES)
