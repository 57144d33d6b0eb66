"""The description parser (models/describe.py): a table of what players and published captions
write, each with the exact options it must give and the phrases it must refuse."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from models.describe import MAX_DESCRIPTION, Reading, interpret
from models.options import MusicOptions
from music import Instruments

PARTS = ("melody", "chords", "bass", "drums")

# MusicLM's published rich captions (google-research.github.io/seanet/musiclm/examples), verbatim.
ARCADE = (
    "The main soundtrack of an arcade game. It is fast-paced and upbeat, with a catchy electric guitar riff. The music is repetitive and easy to remember,"
    " but with unexpected sounds, like cymbal crashes or drum rolls."
)
REGGAETON = (
    "A fusion of reggaeton and electronic dance music, with a spacey, otherworldly sound. Induces the experience of being lost in space, and the music would"
    " be designed to evoke a sense of wonder and awe, while being danceable."
)
RISING_SYNTH = (
    "A rising synth is playing an arpeggio with a lot of reverb. It is backed by pads, sub bass line and soft drums. This song is full of synth sounds creating"
    " a soothing and adventurous atmosphere. It may be playing at a festival during two songs for a buildup."
)
FUNKY = "Funky piece with a strong, danceable beat and a prominent bassline. A catchy melody from a keyboard adds a layer of richness and complexity to the song."
MEDITATIVE = "Meditative song, calming and soothing, with flutes and guitars. The music is slow, with a focus on creating a sense of peace and tranquility."
TECHNO_STRINGS = (
    "Industrial techno sounds, repetitive, hypnotic rhythms. Strings playing a repetitive melody creates an eerie, unsettling atmosphere. The music is"
    " hypnotic and trance-like, and it is easy to get lost in the rhythm. The strings high-pitched notes pierce through the darkness, adding a layer of"
    " tension and suspense."
)
TECHNO_STRINGS_SHORT = "Industrial techno sounds, repetitive, hypnotic rhythms. Strings playing a repetitive melody creates an eerie, unsettling atmosphere."
EPIC = "Epic soundtrack using orchestral instruments. The piece builds tension, creates a sense of urgency. An a cappella chorus sing in unison, it creates a sense of power and strength."
RNB = (
    "This is an r&b/hip-hop music piece. There is a male vocal rapping and a female vocal singing in a rap-like manner. The beat is comprised of a piano playing"
    " the chords of the tune with an electronic drum backing. The atmosphere of the piece is playful and energetic. This piece could be used in the soundtrack"
    " of a high school drama movie/TV show. It could also be played at birthday parties or beach parties."
)
# MusicCaps captions as published with MusicLM and Noise2Music.
REGGAE = "Slow tempo, bass-and-drums-led reggae song. Sustained electric guitar. High-pitched bongos with ringing tones. Vocals are relaxed with a laid-back feel, very expressive."
UKULELE = "There is a simple tune being played on a ukulele. The atmosphere of the piece is easygoing."
MOODY_JAZZ = "Moody jazz music with a basic formation (drums, contra bass, piano and trumpet) with a melancholy trumpet solo."
COMEDY = "Bright, cheerful and groovy song featuring the piano that sounds like an opening theme for a comedy series."
CEREMONY = "Classical music with horns and trumpets that can be used as an entrance song for a ceremony."

# (description, the options it sets (instruments by part), phrases among the ignored)
CASES: list[tuple[str, dict, tuple[str, ...]]] = [
    ("a fast Scottish reel in D minor, sparse drums, on fiddle", {"style": "scottish", "tempo": 150, "key": 2, "mood": "minor", "density": "sparse", "melody": 110}, ()),
    ("jig", {"meter": "6/8"}, ()),
    ("a slow Irish air", {"style": "irish", "tempo": 72}, ()),
    ("jig in G", {"meter": "6/8", "key": 7}, ()),
    ("Double jig, E minor, 120 bpm", {"meter": "6/8", "key": 4, "mood": "minor", "tempo": 120}, ()),
    ("strathspey", {"style": "scottish"}, ()),
    ("slip jig", {}, ("slip jig",)),
    ("waltz", {"meter": "3/4", "groove": "waltz"}, ()),
    ("waltz in 4/4", {"meter": "4/4", "groove": "waltz"}, ()),
    ("4/4 waltz", {"meter": "4/4", "groove": "waltz"}, ()),
    ("a polka", {"meter": "2/4", "groove": "polka"}, ()),
    ("bagpipe march in 6/8", {"melody": 109, "meter": "6/8", "groove": "march"}, ()),
    ("German folk song in 3/4, slow, G major", {"style": "essen", "meter": "3/4", "tempo": 72, "key": 7, "mood": "major"}, ()),
    ("an English folk tune in B flat major", {"style": "misc", "key": 10, "mood": "major"}, ()),
    ("Appalachian fiddle tune at 140 bpm", {"style": "misc", "melody": 110, "tempo": 140}, ()),
    ("HAPPY IRISH HORNPIPE!!!", {"style": "irish", "mood": "major"}, ()),
    ("sad waltz on piano", {"mood": "minor", "meter": "3/4", "groove": "waltz", "melody": 0}, ()),
    ("melancholy tune, piano chords, cello melody", {"mood": "minor", "chords": 0, "melody": 42}, ()),
    ("a fast reel", {"tempo": 150}, ()),
    ("A fast reel", {"tempo": 150}, ()),
    ("a reel in A", {"key": 9}, ()),
    ("in a minor key, slowly", {"mood": "minor", "tempo": 72}, ()),
    ("F# minor, very fast", {"key": 6, "mood": "minor", "tempo": 176}, ()),
    ("Eb major, andante", {"key": 3, "mood": "major", "tempo": 90}, ()),
    ("E-flat, presto", {"key": 3, "tempo": 176}, ()),
    ("Bb", {"key": 10}, ()),
    ("in C, 2/4", {"key": 0, "meter": "2/4"}, ()),
    ("Am reel", {"key": 9, "mood": "minor"}, ()),
    ("a tune in 5/4", {}, ("5/4",)),
    ("7/8 rock", {"groove": "rock"}, ("7/8",)),
    ("in three, gentle", {"meter": "3/4", "tempo": 84}, ()),
    ("common time, moderate", {"tempo": 100}, ()),
    ("10 bpm", {"tempo": 40}, ()),
    ("300 BPM techno", {"tempo": 220, "groove": "dance"}, ()),
    ("at 90 beats per minute", {"tempo": 90}, ()),
    ("allegro ma non troppo", {"tempo": 132}, ()),
    ("busy ornamented jig", {"density": "busy", "meter": "6/8"}, ()),
    ("minimal, sparse, dark", {"density": "sparse", "mood": "minor"}, ()),
    ("bright and cheerful but in D minor", {"key": 2, "mood": "minor"}, ()),
    ("D minor, happy", {"key": 2, "mood": "minor"}, ()),
    # MusicLM's story-mode prompts
    ("jazz", {"groove": "jazz"}, ()),
    ("pop", {"groove": "pop"}, ()),
    ("rock", {"groove": "rock"}, ()),
    ("death metal", {"groove": "rock", "chords": 30}, ()),
    ("rap", {"groove": "dance"}, ("rap",)),
    ("string quartet with violins", {"melody": 40, "chords": 48}, ()),
    ("epic movie soundtrack with drums", {}, ()),
    ("scottish folk song with traditional instruments", {"style": "scottish", "melody": 109, "chords": 25}, ()),
    ("0:00-0:15 jazz song. 0:15-0:30 pop song. 0:30-0:45 rock song.", {"groove": "rock"}, ("0:00-0:15", "jazz", "pop")),
    # players
    ("Irish session tune with traditional instruments", {"style": "irish", "melody": 110, "chords": 25}, ()),
    ("a bluesy shuffle on harmonica", {"groove": "blues", "melody": 22}, ()),
    ("bossa nova, nylon guitar, brushes", {"groove": "latin", "chords": 24, "drums": 40}, ()),
    ("bluegrass banjo breakdown", {"groove": "country", "melody": 105}, ()),
    ("lullaby with harp and music box", {"groove": "ballad", "melody": 10}, ("harp",)),
    ("funk with slap bass and electric piano", {"groove": "pop", "bass": 36, "chords": 4}, ()),
    ("retro electronic track with synth bass and an 808", {"groove": "dance", "bass": 38, "drums": 25}, ()),
    ("mandolin and bodhrán", {"melody": 105}, ()),
    ("hip-hop beat with a drum machine", {"groove": "dance", "drums": 24}, ()),
    ("a cappella choir singing", {}, ("a cappella", "choir singing")),
    ("choir pad behind a flute melody", {"chords": 52}, ()),
    ("Slow Irish ballad with uilleann pipes and harp, lo-fi, 3 minutes long", {"style": "irish", "tempo": 72, "groove": "ballad", "melody": 46}, ("uilleann pipes", "lo-fi", "3 minutes long")),
    ("Tin whistle over a guitar, upbeat", {"melody": 78, "chords": 25, "tempo": 126, "mood": "major"}, ()),
    ("dark techno with a distorted guitar and reverb", {"groove": "dance", "mood": "minor", "chords": 30}, ("reverb",)),
    ("a tango on bandoneon", {"groove": "latin", "melody": 23}, ()),
    ("chiptune boss battle, frantic", {"melody": 80, "tempo": 176}, ()),
    ("calm flute with orchestral strings, 70 bpm", {"tempo": 70, "melody": 73, "chords": 48}, ()),
    ("orchestral", {"melody": 40, "chords": 48, "drums": 48}, ()),
    ("marching band with trumpets", {"meter": "2/4", "groove": "march", "melody": 56}, ()),
    ("Celtic jig with bagpipes, 2 minutes, no drums", {"style": "irish", "meter": "6/8", "melody": 109}, ("2 minutes", "no drums")),
    ("reggae in G", {"groove": "pop", "key": 7}, ()),
    ("a sombre hymn on church organ", {"mood": "minor", "groove": "ballad", "melody": 19}, ()),
    ("12/8 blues", {"groove": "blues"}, ("12/8",)),
    ("Gentle lullaby in 6/8 with music box and soft strings, key change at the end", {"tempo": 84, "groove": "ballad", "meter": "6/8", "melody": 10, "chords": 48}, ("key change",)),
    ("female vocals over acoustic guitar", {"chords": 25}, ("vocals",)),
    # published captions
    (ARCADE, {"tempo": 150, "mood": "major", "melody": 27}, ()),
    (REGGAETON, {"groove": "dance"}, ("reggaeton",)),
    (RISING_SYNTH, {"tempo": 84, "melody": 81, "chords": 89, "bass": 38}, ("reverb", "buildup")),
    (FUNKY, {"groove": "pop", "melody": 4}, ()),
    (MEDITATIVE, {"tempo": 72, "chords": 25}, ()),
    (TECHNO_STRINGS, {"groove": "dance", "mood": "minor", "melody": 48, "chords": 48}, ()),
    (TECHNO_STRINGS_SHORT, {"groove": "dance", "mood": "minor", "melody": 48}, ()),
    (EPIC, {"mood": "minor", "tempo": 176, "melody": 40, "chords": 48, "drums": 48}, ("builds tension", "a cappella", "chorus sing")),
    ("a calming violin melody backed by a distorted guitar riff", {"tempo": 84, "melody": 40, "chords": 30}, ()),
    ("enchanting jazz song with a memorable saxophone solo and a solo singer", {"groove": "jazz", "melody": 65}, ("singer",)),
    ("Berlin 90s techno with a low bass and strong kick", {"groove": "dance"}, ()),
    (RNB, {"groove": "dance", "mood": "major", "density": "busy", "drums": 24}, ("vocal", "rapping", "singing", "rap", "r&b")),
    (REGGAE, {"tempo": 72, "groove": "pop", "chords": 27}, ("vocals",)),
    (UKULELE, {"density": "sparse", "melody": 24}, ()),
    (MOODY_JAZZ, {"groove": "jazz", "bass": 32, "chords": 0, "melody": 56, "mood": "minor"}, ()),
    (COMEDY, {"mood": "major"}, ()),
    (CEREMONY, {"melody": 56}, ("classical music", "horns")),
]


def expected_options(fields: dict) -> MusicOptions:
    return MusicOptions(**{k: v for k, v in fields.items() if k not in PARTS}, instruments=Instruments(**{k: v for k, v in fields.items() if k in PARTS}))


def test_the_table_is_large_enough():
    assert len(CASES) >= 60 and len({text for text, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("text", "fields", "refused"), CASES, ids=[text[:40] for text, _, _ in CASES])
def test_descriptions_give_exactly_these_options(text, fields, refused):
    interpretation = interpret(text)
    assert interpretation.options == expected_options(fields), interpretation.summary()
    ignored = [r.phrase.lower() for r in interpretation.ignored]
    assert all(phrase.lower() in ignored for phrase in refused), interpretation.summary()
    assert fields or not interpretation.understood, interpretation.summary()


@pytest.mark.parametrize("text", [text for text, _, _ in CASES])
def test_every_interpretation_is_json_and_round_trips(text):
    interpretation = interpret(text)
    data = json.loads(json.dumps(interpretation.as_dict()))
    assert data["text"] == text and data["summary"] == interpretation.summary()
    assert MusicOptions.from_dict(data["options"]) == interpretation.options
    assert data["understood"] == [{"phrase": r.phrase, "meaning": r.meaning} for r in interpretation.understood]
    assert all(r.phrase in text for r in interpretation.understood + interpretation.ignored)


@pytest.mark.parametrize("text", ["purple monkey dishwasher", "", "   ", "epic movie soundtrack with drums"])
def test_unknown_text_gives_the_default_piece_and_says_so(text):
    interpretation = interpret(text)
    assert interpretation.options == MusicOptions()
    assert interpretation.understood == () and interpretation.ignored == ()
    assert interpretation.summary() == "nothing here is in our vocabulary: a default piece (Irish folk tune, 4/4)"


def test_refused_intent_alone_still_gives_the_default_piece():
    interpretation = interpret("lyrics about the sea, with reverb")
    assert interpretation.options == MusicOptions() and interpretation.understood == ()
    assert interpretation.ignored == (
        Reading("lyrics", "no voices: our models write instruments only"),
        Reading("reverb", "no production effects: we write the notes and the game plays them as they are"),
    )
    assert interpretation.summary().startswith("nothing here we can honour: a default piece (Irish folk tune, 4/4); ignored: lyrics (no voices")


def test_the_summary_lists_what_was_understood_and_ignored():
    interpretation = interpret("a fast Scottish reel in D minor, sparse drums, on fiddle, with vocals")
    assert interpretation.summary() == (
        "understood: fast → 150 bpm, Scottish → Scottish folk tune, reel → 4/4, D minor, sparse drums → sparse, fiddle → Fiddle (melody);"
        " ignored: vocals (no voices: our models write instruments only)"
    )


def test_genres_we_cannot_write_say_the_melody_stays_a_folk_tune():
    assert interpret("jazz").understood == (Reading("jazz", "jazz drums (the melody stays a folk tune)"),)
    assert interpret("rap").ignored == (Reading("rap", "no voices: our models write instruments only"),)


def test_the_article_a_is_no_key():
    for text in ("a fast reel", "A fast reel in a minute", "played in a bar", "a flat, boring tune", "a minor role", "let em play"):
        assert interpret(text).options.key is None, text
    assert interpret("in A").options.key == 9 and interpret("A minor").options.key == 9 and interpret("in a.").options.key == 9


def test_stated_words_outweigh_implied_ones_whatever_the_order():
    assert interpret("in D major, sad").options.mood == "major" and interpret("sad, in D major").options.mood == "major"
    assert interpret("fast-paced and upbeat").options.tempo == interpret("upbeat and fast-paced").options.tempo == 150
    assert interpret("strathspey, irish").options.style == "irish"


def test_later_words_win_and_the_outvoted_are_reported():
    interpretation = interpret("fiddle and flute")
    assert interpretation.options.instruments.melody == 73
    assert interpretation.ignored == (Reading("fiddle", "the melody went to 'flute'"),)


def test_tempo_is_clamped_and_the_clamp_reported():
    assert interpret("10 bpm").understood == (Reading("10 bpm", "40 bpm (the slowest we play; 10 bpm was asked)"),)
    assert interpret("tempo 999").understood == (Reading("tempo 999", "220 bpm (the fastest we play; 999 bpm was asked)"),)


def test_unsupported_meters_are_refused_with_the_reason():
    assert interpret("5/4").ignored == (Reading("5/4", "5/4 is not a meter the composer writes: it writes 2/4, 3/4, 4/4, 6/8"),)
    assert interpret("5/4").options == MusicOptions()


def test_substitute_instruments_say_so():
    assert interpret("mandolin").understood == (Reading("mandolin", "Banjo (melody) (General MIDI has no mandolin: the banjo is the nearest)"),)


def test_plain_folk_keeps_the_default_and_says_why():
    assert interpret("folk song").understood == (Reading("folk song", "Irish folk tune (our default: every melody we write is a folk tune)"),)
    assert interpret("german folk song").understood == (Reading("german", "German folk song (Essen collection)"),)


def test_phrases_are_kept_as_written():
    assert [r.phrase for r in interpret("On FIDDLE, G Major").understood] == ["FIDDLE", "G Major"]


def test_too_long_a_description_is_refused():
    interpret("x" * MAX_DESCRIPTION)
    with pytest.raises(ValueError, match="500"):
        interpret("x" * (MAX_DESCRIPTION + 1))
    with pytest.raises(ValueError):
        interpret(None)  # type: ignore[arg-type]


def test_the_parser_imports_no_torch():
    code = "import sys, models.describe; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
