"""MIDI and JSON round trips on real folk tunes from the music21 corpus, and refusals of bad files."""

import io

import mido
import pytest
from hypothesis import assume, given

from music import (
    MidiError,
    Piece,
    PieceFormatError,
    piece_from_dict,
    piece_from_json,
    piece_to_dict,
    piece_to_json,
    read_midi,
    to_midi_bytes,
)
from music.midi import estimate_key

from .strategies import pieces

music21 = pytest.importorskip("music21")

FOLK_TUNES = [
    "ryansMammoth/LanigansBallJig",  # 6/8 jig in E minor
    "ryansMammoth/WindThatShakesTheBarleyReel",
    "ryansMammoth/OlympicHornpipe",
    "ryansMammoth/MinstrelsFancyClog",
]


@pytest.fixture(scope="module", params=FOLK_TUNES)
def folk(request, tmp_path_factory):
    """A corpus tune as music21 writes it to MIDI, and the Piece we read from that file."""
    score = music21.corpus.parse(request.param)
    path = tmp_path_factory.mktemp("folk") / "tune.mid"
    score.write("midi", fp=str(path))
    return score, read_midi(path)


def test_folk_tune_reads_as_its_notes(folk):
    score, piece = folk
    sounding = [n for n in score.stripTies().flatten().notes if n.isNote]
    assert len(piece.melody) >= len(sounding)  # music21's MIDI expands repeats
    assert {n.pitch for n in piece.melody} == {n.pitch.midi for n in sounding}
    ts = score.flatten().getElementsByClass("TimeSignature")[0]
    assert str(piece.meter) == ts.ratioString
    assert piece.key.mode in ("major", "minor")


def test_folk_tune_midi_round_trip(folk):
    _, piece = folk
    assert read_midi(to_midi_bytes(piece)) == piece


def test_folk_tune_json_round_trip(folk):
    _, piece = folk
    assert piece_from_json(piece_to_json(piece)) == piece


@given(pieces())
def test_midi_round_trip_property(piece: Piece):
    assume(piece.melody or piece.chords or piece.drums)  # a file with no notes is refused, below
    assert read_midi(to_midi_bytes(piece)) == piece


@given(pieces())
def test_json_round_trip_property(piece: Piece):
    assert piece_from_dict(piece_to_dict(piece)) == piece


def _midi_file(*metas, notes=((60, 0, 480),)) -> bytes:
    """A one-track file with `notes` as (pitch, start tick, end tick), at 480 ticks a quarter."""
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track.extend(metas)
    events = sorted([(start, 1, pitch) for pitch, start, _ in notes] + [(end, 0, pitch) for pitch, _, end in notes])
    now = 0
    for tick, is_on, pitch in events:
        kind = "note_on" if is_on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=80 if is_on else 0, time=tick - now))
        now = tick
    mid.tracks.append(track)
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


TEMPO = mido.MetaMessage("set_tempo", tempo=500000)
FOUR_FOUR = mido.MetaMessage("time_signature", numerator=4, denominator=4)


def test_minimal_foreign_file_reads():
    """A chord then a note: the skyline keeps the top of the chord, then the note."""
    piece = read_midi(_midi_file(TEMPO, FOUR_FOUR, notes=((60, 0, 480), (64, 0, 480), (67, 0, 960), (72, 960, 1440))))
    assert piece.tempo == 120 and piece.bars == 1
    assert [(n.pitch, n.start, n.end) for n in piece.melody] == [(67, 0, 8), (72, 8, 12)]
    assert piece.key == estimate_key([67, 72])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"this is not midi at all", "not a readable MIDI file"),
        (_midi_file(TEMPO, FOUR_FOUR)[:-9], "not a readable MIDI file"),
        (_midi_file(TEMPO, FOUR_FOUR, notes=()), "has no notes"),
        (_midi_file(FOUR_FOUR), "has no tempo"),
        (_midi_file(TEMPO), "has no time signature"),
        (_midi_file(TEMPO, mido.MetaMessage("time_signature", numerator=7, denominator=4)), "unsupported meter 7/4"),
    ],
)
def test_bad_midi_is_refused_with_reason(data, message):
    with pytest.raises(MidiError, match=message):
        read_midi(data)


def test_missing_midi_file(tmp_path):
    with pytest.raises(MidiError, match="cannot read"):
        read_midi(tmp_path / "nope.mid")


GOOD = {
    "format": "melody-arcade.piece",
    "version": 1,
    "tempo": 100,
    "meter": "3/4",
    "key": {"tonic": 7, "mode": "major"},
    "bars": 1,
    "melody": [{"pitch": 67, "start": 0, "end": 4, "velocity": 90}],
    "chords": [{"root": 7, "quality": "maj", "start": 0, "end": 12}],
    "drums": [{"step": 0, "drum": "kick", "velocity": 100}],
}


def _without(path):
    data = piece_to_dict(piece_from_dict(GOOD))
    *parents, last = path
    node = data
    for p in parents:
        node = node[p]
    del node[last]
    return data


def _with(path, value):
    data = piece_to_dict(piece_from_dict(GOOD))
    *parents, last = path
    node = data
    for p in parents:
        node = node[p]
    node[last] = value
    return data


@pytest.mark.parametrize(
    "data, message",
    [
        (_without(["tempo"]), r"tempo: Field required"),
        (_without(["melody", 0, "pitch"]), r"melody\.0\.pitch: Field required"),
        (_with(["tempo"], "100"), r"tempo: Input should be a valid integer"),
        (_with(["melody", 0, "pitch"], 128), r"melody\.0\.pitch: Input should be less than or equal to 127"),
        (_with(["melody", 0, "start"], -2), r"melody\.0\.start: Input should be greater than or equal to 0"),
        (_with(["drums", 0, "drum"], "cowbell"), r"drums\.0\.drum: Input should be 'kick'"),
        (_with(["meter"], "7/4"), r"unsupported meter 7/4"),
        (_with(["version"], 2), r"version: Input should be 1"),
        (_with(["steps_per_bar"], 16), r"steps_per_bar: 16 does not match meter 3/4"),
        (_with(["surprise"], 1), r"surprise: Extra inputs are not permitted"),
        (_with(["melody", 0, "start"], 12), r"melody note 0: start step 12 is out of range 0\.\.11"),
    ],
)
def test_bad_json_is_refused_with_field_named(data, message):
    with pytest.raises(PieceFormatError, match=message):
        piece_from_dict(data)


def test_last_note_may_ring_past_the_end():
    assert piece_from_dict(_with(["melody", 0, "end"], 20)).melody[0].end == 20


def test_not_json_at_all():
    with pytest.raises(PieceFormatError, match="not JSON"):
        piece_from_json("{nope")
