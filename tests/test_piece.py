import pytest

from music import Chord, DrumHit, Instruments, Key, Meter, Note, Piece, PieceError


def make(**overrides) -> Piece:
    fields = dict(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=2, melody=[Note(0, 4, 60), Note(4, 8, 62)])
    fields.update(overrides)
    return Piece(**fields)


@pytest.mark.parametrize("meter, steps", [((4, 4), 16), ((3, 4), 12), ((6, 8), 12), ((2, 4), 8)])
def test_steps_per_bar(meter, steps):
    assert Meter(*meter).steps_per_bar == steps
    assert make(meter=Meter(*meter)).total_steps == 2 * steps


@pytest.mark.parametrize("meter, beat", [((4, 4), 4), ((3, 4), 4), ((2, 4), 4), ((6, 8), 6), ((12, 8), 6), ((3, 8), 6), ((2, 2), 8)])
def test_beat_steps_count_compound_meters_in_dotted_quarters(meter, beat):
    assert Meter(*meter).beat_steps == beat


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(tempo=0), "tempo 0 is out of range"),
        (dict(tempo=120.5), "tempo must be an integer"),
        (dict(bars=0), "bars must be an integer"),
        (dict(melody=[Note(0, 4, 128)]), "melody note 0: pitch 128 is out of range"),
        (dict(melody=[Note(-1, 4, 60)]), "melody note 0: start step -1 is out of range"),
        (dict(melody=[Note(4, 4, 60)]), "melody note 0: end step 4 is out of range"),
        (dict(melody=[Note(0, 8, 60), Note(4, 10, 62)]), "must be monophonic"),
        (dict(melody=[Note(32, 36, 60)]), "start step 32 is out of range 0..31"),
        (dict(melody=[Note(0, 4, 60, velocity=0)]), "velocity 0 is out of range"),
        (dict(chords=[Chord(0, 16, 12)]), "chord 0: root 12"),
        (dict(chords=[Chord(0, 16, 0, "weird")]), "unknown quality 'weird'"),
        (dict(drums=[DrumHit(0, "kick"), DrumHit(0, "kick")]), "two kick hits on step 0"),
        (dict(tempo_changes=((0, 90),)), "tempo change 0: bar 0 is out of range 1..1"),
        (dict(bars=4, tempo_changes=((2, 90), (1, 100))), "tempo change 1: bar 1 is out of range 3..3"),
        (dict(tempo_changes=((1, 120),)), "bar 1 is already at 120"),
        (dict(tempo_changes=((1, 900),)), "tempo 900 is out of range"),
        (dict(instrument_changes=((1, Instruments()),)), "bar 1 already has these instruments"),
        (dict(instrument_changes=((2, Instruments(melody=40)),)), "instrument change 0: bar 2 is out of range 1..1"),
        (dict(instrument_changes=((1, 40),)), "must be \\(bar, Instruments\\)"),
    ],
)
def test_invalid_pieces_name_the_problem(overrides, message):
    with pytest.raises(PieceError, match=message):
        make(**overrides)


def test_unknown_meter_and_drum():
    with pytest.raises(PieceError, match="unsupported meter 7/4"):
        Meter(7, 4)
    with pytest.raises(PieceError, match="meter must look like"):
        Meter.parse("four")
    with pytest.raises(PieceError, match="unknown drum class 'cowbell'"):
        DrumHit(0, "cowbell")


def test_transpose_moves_melody_chords_and_key_not_drums():
    piece = make(chords=[Chord(0, 16, 11, "min")], drums=[DrumHit(0, "kick")])
    up = piece.transpose(3)
    assert [n.pitch for n in up.melody] == [63, 65]
    assert up.chords[0].root == 2 and up.key == Key(3, "major")
    assert up.drums == piece.drums
    assert up.transpose(-3) == piece
    with pytest.raises(PieceError, match="pitch 132 is out of range"):
        piece.transpose(72)


def test_tempo_change_keeps_steps_changes_seconds():
    piece = make()
    slow = piece.with_tempo(60)
    assert slow.melody == piece.melody
    assert slow.duration_seconds == pytest.approx(2 * piece.duration_seconds)
    assert piece.duration_seconds == pytest.approx(4.0)  # 2 bars of 4/4 at 120


def test_instruments_are_general_midi_and_travel_with_the_piece():
    from music import InstrumentError, Instruments, piece_from_dict, piece_to_dict

    with pytest.raises(InstrumentError, match="melody"):
        Instruments(melody=128)
    with pytest.raises(InstrumentError, match="drum kit"):
        Instruments(drums=3)  # not a GM kit number
    piece = Piece(tempo=90, meter=Meter(3, 4), key=Key(0, "major"), bars=1, instruments=Instruments(melody=40, drums=32))
    written = piece_to_dict(piece)
    assert written["instruments"] == {"melody": 40, "chords": 0, "bass": 33, "drums": 32}
    assert piece_from_dict(written) == piece
    del written["instruments"]
    assert piece_from_dict(written).instruments == Instruments()  # left out: the defaults
    assert Instruments(drums=25).names() == {"melody": "Flute", "chords": "Acoustic Grand Piano", "bass": "Electric Bass (finger)", "drums": "TR-808 kit"}


def test_a_tempo_map_times_each_bar_at_its_tempo():
    """A story's sections change the tempo on their first bar: seconds are summed span by span."""
    piece = make(bars=4, tempo_changes=((1, 60), (3, 240)))
    assert [piece.tempo_at(bar) for bar in range(4)] == [120, 60, 60, 240]
    assert [piece.seconds_at(16 * bar) for bar in range(5)] == pytest.approx([0, 2, 6, 10, 11])
    assert piece.seconds_at(8) == pytest.approx(1) and piece.seconds_at(72) == pytest.approx(11.5)  # past the end: the last tempo
    assert piece.duration_seconds == pytest.approx(11)
    faster = piece.with_tempo(240)
    assert faster.tempo_changes == ((1, 120), (3, 400)) and faster.duration_seconds == pytest.approx(1 + 4 + 0.6)  # 480 clamped to the fastest
    assert make(bars=4, tempo=390, tempo_changes=((2, 400),)).with_tempo(400).tempo_changes == ()  # clamped onto the first tempo: no change


def test_a_story_section_changes_the_instruments_from_its_first_bar():
    violin = Instruments(melody=40, drums=32)
    piece = make(bars=4, instrument_changes=((2, violin),))
    assert [piece.instruments_at(step) for step in (0, 31, 32, 63, 80)] == [Instruments()] * 2 + [violin] * 3
