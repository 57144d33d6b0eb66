"""A player's description of a piece ("a fast Scottish reel in D minor, on fiddle") read into the
composer's options (models/options.py), saying what was understood and what was not.

Our models know little, and this parser claims no more: four folk corpora (Irish, Scottish, German
folk songs of the Essen collection, English and American tunes), twelve drum-groove families, the
General MIDI instruments and drum kits, the meters 2/4 3/4 4/4 6/8, a key, a tempo, major or minor,
and a sparse/normal/busy density. It is our own vocabulary of those things, in plain tables and
regular expressions: no model, no I/O, no torch (the server imports it without the models).

Every reading is reported. `understood` lists each phrase that decided an option and what it
decided; `ignored` lists musical intent we recognised but cannot honour, each with its reason:
voices (we write instruments only), sound effects and production, builds and changes (a piece keeps
one tempo, key and density), lengths (the game decides), meters we do not write, melodies of other
traditions, and words outvoted by later or more explicit ones. Words outside the vocabulary are
skipped silently; a description with none of ours still gives a piece, the default one, and says so.

How words decide: the longest phrase wins where phrases overlap ("death metal" over "metal",
"D minor" over "minor"); a stated word outweighs an implied one whatever the order ("waltz in 4/4"
is in 4/4, "sad, in D major" is major), and among equals the later word wins. Judgement calls:
  - genres whose music we cannot write (jazz, rock, metal, hip hop, ...) choose only the drum
    groove, and their reading says the melody stays a folk tune; "metal" adds a distortion guitar;
    "rap" is the dance groove and a refused voice; "dance" and "heavy" alone are no genre (folk
    tunes are dance tunes; "heavy" may be anything), "dance music", "EDM", "heavy metal" are;
  - plain "folk" / "folk song" / "traditional" is our default (every melody is a folk tune): an
    Irish tune unless the text names another corpus; English and American words choose "misc";
  - dance forms imply a meter: reel and hornpipe 4/4, jig 6/8, strathspey 4/4 and Scottish,
    march and polka 2/4 with their grooves, waltz 3/4 with its groove; slip jig (9/8) is refused;
  - an instrument plays the melody unless it is an accompanying one (piano, guitar, organ, strings,
    pads, choir) or the words around it say otherwise ("piano melody", "on piano", "strings playing a
    melody", "backed by strings", "piano chords"); a later instrument for the same part wins;
  - General MIDI has no mandolin, bouzouki or ukulele: the banjo and the nylon guitar stand in, and say so;
  - "orchestral" means violin melody, string-ensemble chords and the orchestra kit, as a hint only;
    "traditional instruments" means the style's own: fiddle (Irish), bagpipe (Scottish),
    accordion (German), banjo (English/American), over an acoustic guitar;
  - a letter is a key only after "in" or before an accidental or a mode ("in D", "Bb", "G major"),
    and a lowercase "a" only after "in": "a fast reel" has no key, "a minor key" is only minor;
  - mood words (sad, bright) and feeling words for pace (calm, upbeat, urgent) are implied, so a
    stated key mode or tempo outweighs them; "builds tension" is read as minor, its build refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from music import DRUM_KITS, GM_PROGRAMS, Instruments
from music.piece import PITCH_CLASS_NAMES

from .options import METERS, STYLE_NAMES, TEMPO_LIMITS, MusicOptions

MAX_DESCRIPTION = 500  # characters a description may have
DEFAULT, IMPLIED, STATED = 0, 1, 2  # how strongly a word decides an option
TRADITIONAL = "traditional"  # an instrument that depends on the style, chosen once the style is known

FOLK_TUNE = "the melody stays a folk tune"
VOICES = "no voices: our models write instruments only"
SOUNDS = "no sound effects: a piece is notes played on instruments"
PRODUCTION = "no production effects: we write the notes and the game plays them as they are"
STRUCTURE = "no builds or changes within a piece: it keeps one tempo, key and density (a story changes them section by section)"
LENGTH = "the game decides the length"
TRADITIONS = "our melodies are Irish, Scottish, German or English/American folk tunes only"
NO_DRUMS = "every piece has its drum groove"
ODD_METERS = "the composer writes only " + ", ".join(METERS)
UNWRITTEN_METER = "{} is not a meter the composer writes: it writes " + ", ".join(METERS)

# Phrases are regular-expression fragments, matched whole-word and case-insensitively; a space
# also matches a hyphen ("hip hop" finds "hip-hop").
STYLE_WORDS = {
    "irish": "irish|ireland|celtic",
    "scottish": "scottish|scotland|scots|highlands?",
    "essen": "german|germany|essen|european folk(?: songs?)?|austrian|alpine",
    "misc": "english|england|british|american|appalachian|americana|old time|new england",
}
FOLK_WORDS = "folk|folk songs?|folk tunes?|folk music|folk dances?|country dances?|traditional|traditional music|trad"
GENRE_WORDS: tuple[tuple[str, str, str], ...] = (  # (phrases, drum family, note)
    ("rock|rock and roll|rock n roll|rock'n'roll|hard rock|heavy rock|punk|punk rock|grunge|rockabilly", "rock", FOLK_TUNE),
    ("jazz|jazzy|swing|bebop|big band|dixieland|ragtime|foxtrot|charleston", "jazz", FOLK_TUNE),
    ("blues|bluesy|boogie|boogie woogie|shuffle", "blues", FOLK_TUNE),
    ("pop|dance pop|funk|funky|disco|soul|r&b|rnb|r and b|motown|reggae|ska", "pop", FOLK_TUNE),
    ("techno|house|trance|edm|electronic dance(?: music)?|dance music|electronic|electronica|industrial|industrial techno|rave|dubstep|drum and bass|dnb|club", "dance", FOLK_TUNE),
    ("latin|latin american|samba|bossa|bossa nova|salsa|tango|rumba|rhumba|mambo|cha cha|merengue|bolero|calypso|cumbia|reggaeton|afro cuban", "latin", FOLK_TUNE),
    ("country|bluegrass|western|zydeco", "country", ""),
    ("ballad|ballads|power ballad|lullaby|lullabies|hymn|serenade", "ballad", ""),
    ("folk drums|folk beat|folk groove|folk percussion", "folk", ""),
)
DANCE_FORMS: tuple[tuple[str, str, str | None, str | None], ...] = (  # (phrases, meter implied, drum family, style implied)
    ("reels?|hornpipes?", "4/4", None, None),
    ("jigs?|double jigs?|single jigs?", "6/8", None, None),
    ("strathspeys?", "4/4", None, "scottish"),
    ("march|marches|marching|military", "2/4", "march", None),
    ("polkas?", "2/4", "polka", None),
    ("waltz|waltzes", "3/4", "waltz", None),
    ("mazurkas?|minuets?|ländler|landler", "3/4", None, None),
)
METER_WORDS = {
    "3/4": "in three|in 3(?![\\d/])|waltz time|three four(?: time)?|triple (?:time|meter|metre)",
    "4/4": "in four|in 4(?![\\d/])|common time|four four(?: time)?|(?:4|four) on the floor",
    "2/4": "in two|in 2(?![\\d/])|two four(?: time)?|duple (?:time|meter|metre)|march time|cut time|alla breve",
    "6/8": "six eight(?: time)?|compound (?:duple )?(?:time|meter|metre)|jig time",
}
TEMPO_WORDS: tuple[tuple[str, int, int], ...] = (  # (phrases, bpm, weight)
    ("very slow|very slowly|extremely slow|glacial", 60, STATED),
    ("slow|slowly|slow paced|slow tempo|downtempo", 72, STATED),
    ("relaxed|calm|calming|gentle|laid back|soothing|chill|meditative|peaceful|tranquil|serene|lazy", 84, IMPLIED),
    ("moderate|medium|mid tempo|medium tempo|moderate tempo|walking pace", 100, STATED),
    ("lively|bouncy|brisk", 126, IMPLIED),
    ("fast|quick|quickly|fast paced|up tempo|uptempo|rapid|rapidly paced|speedy", 150, STATED),
    ("very fast|very quick|extremely fast", 176, STATED),
    ("frantic|urgent|urgency|breakneck|furious|hectic|frenetic", 176, IMPLIED),
    ("largo", 50, STATED), ("lento", 56, STATED), ("adagio", 70, STATED), ("andante", 90, STATED),
    ("moderato", 108, STATED), ("allegretto", 116, STATED), ("allegro", 132, STATED), ("vivace", 160, STATED),
    ("presto", 176, STATED), ("prestissimo", 200, STATED),
)  # fmt: skip
MOOD_WORDS: tuple[tuple[str, str, int], ...] = (  # (phrases, mode, weight)
    ("major|major key|in major|(?:in )?(?-i:a) major key", "major", STATED),
    ("minor|minor key|in minor|(?:in )?(?-i:a) minor key", "minor", STATED),
    ("happy|bright|cheerful|joyful|joyous|uplifting|playful|jolly|merry|sunny|triumphant|festive", "major", IMPLIED),
    (
        "sad|dark|darkness|melancholic|melancholy|gloomy|eerie|sombre|somber|mournful|mourning|tense|tension|haunting|unsettling"
        "|ominous|sinister|suspense|suspenseful|spooky|creepy|wistful|lonely|tragic|grim",
        "minor",
        IMPLIED,
    ),
)
DENSITY_WORDS = {
    "sparse": "sparse|sparsely|sparse drums|minimal|minimalist|simple|few notes",
    "busy": "busy|dense|driving|energetic|intricate|ornamented|ornaments|ornamentation|lots of notes|many notes|complex|complicated|technical|virtuosic",
    "normal": "normal density|medium density|moderately busy",
}
INSTRUMENTS: tuple[tuple[str, int, str, str], ...] = (  # (phrases, GM program, part it plays unless told, note)
    ("fiddles?", 110, "melody", ""), ("violins?", 40, "melody", ""), ("violas?", 41, "melody", ""), ("cellos?|violoncellos?", 42, "melody", ""),
    ("harps?", 46, "melody", ""), ("flutes?", 73, "melody", ""), ("piccolos?", 72, "melody", ""), ("recorders?", 74, "melody", ""),
    ("pan flutes?|pan pipes|panpipes", 75, "melody", ""), ("tin whistles?|penny whistles?|whistles?|whistling", 78, "melody", ""),
    ("ocarinas?", 79, "melody", ""), ("shakuhachi", 77, "melody", ""), ("bagpipes?|pipes", 109, "melody", ""),
    ("uilleann pipes", 109, "melody", "General MIDI has no uilleann pipes: the bagpipe is the nearest"),
    ("accordions?|melodeons?", 21, "melody", ""), ("concertinas?", 21, "melody", "General MIDI has no concertina: the accordion is the nearest"),
    ("bandoneons?|tango accordions?", 23, "melody", ""), ("harmonicas?|mouth organ", 22, "melody", ""),
    ("banjos?", 105, "melody", ""), ("mandolins?", 105, "melody", "General MIDI has no mandolin: the banjo is the nearest"),
    ("bouzoukis?", 105, "melody", "General MIDI has no bouzouki: the banjo is the nearest"), ("sitars?", 104, "melody", ""),
    ("kotos?", 107, "melody", ""), ("shamisens?", 106, "melody", ""), ("kalimbas?|mbiras?", 108, "melody", ""),
    ("trumpets?", 56, "melody", ""), ("muted trumpets?", 59, "melody", ""), ("trombones?", 57, "melody", ""), ("tubas?", 58, "bass", ""),
    ("french horns?|horns?", 60, "melody", ""), ("brass|brass section|horn section|brass band", 61, "melody", ""),
    ("sax|saxes|saxophones?|alto sax(?:ophone)?", 65, "melody", ""), ("tenor sax(?:ophone)?", 66, "melody", ""),
    ("soprano sax(?:ophone)?", 64, "melody", ""), ("baritone sax(?:ophone)?", 67, "melody", ""), ("clarinets?", 71, "melody", ""),
    ("oboes?", 68, "melody", ""), ("english horns?|cor anglais", 69, "melody", ""), ("bassoons?", 70, "melody", ""),
    ("synths?|synthesizers?|synthesisers?|synth lead|synth sounds?", 81, "melody", ""), ("square wave|square lead|chiptune|8 bit|8bit", 80, "melody", ""),
    ("pads?|synth pads?|warm pads?", 89, "chords", ""), ("synth strings", 50, "chords", ""), ("synth brass", 62, "melody", ""),
    ("choirs?|choir pads?", 52, "chords", "a pad of sung 'aah's, no words"),
    ("marimbas?", 12, "melody", ""), ("xylophones?", 13, "melody", ""), ("vibraphones?", 11, "melody", ""),
    ("glockenspiels?|bells?|bell sounds?", 9, "melody", ""), ("tubular bells|chimes|church bells", 14, "melody", ""), ("celestas?", 8, "melody", ""),
    ("music box(?:es)?", 10, "melody", ""), ("dulcimers?|hammered dulcimers?", 15, "melody", ""), ("steel drums?|steel pans?|steelpans?", 114, "melody", ""),
    ("pianos?|grand piano|acoustic piano", 0, "chords", ""), ("electric pianos?|rhodes|keyboards?|keys", 4, "chords", ""),
    ("honky tonk piano", 3, "chords", ""), ("harpsichords?", 6, "chords", ""),
    ("organs?|hammond(?: organ)?|jazz organ", 16, "chords", ""), ("church organs?|pipe organs?", 19, "chords", ""), ("rock organs?", 18, "chords", ""),
    ("guitars?|acoustic guitars?|steel string guitars?|folk guitars?", 25, "chords", ""),
    ("nylon guitars?|classical guitars?|spanish guitars?", 24, "chords", ""),
    ("ukuleles?|ukes?", 24, "chords", "General MIDI has no ukulele: the nylon guitar is the nearest"),
    ("electric guitars?|clean guitars?", 27, "chords", ""), ("jazz guitars?", 26, "chords", ""), ("muted guitars?", 28, "chords", ""),
    ("overdriven guitars?", 29, "chords", ""), ("distorted guitars?|distortion guitars?|heavy guitars?", 30, "chords", ""),
    ("strings|string section|string ensemble|orchestral strings|string orchestra|string pads?", 48, "chords", ""),
    ("pizzicato(?: strings)?", 45, "chords", ""), ("tremolo strings", 44, "chords", ""),
    ("upright bass|double bass|acoustic bass|contrabass|contra bass", 32, "bass", ""), ("electric bass|bass guitar", 33, "bass", ""),
    ("fretless(?: bass)?", 35, "bass", ""), ("slap bass", 36, "bass", ""), ("synth bass|sub bass|bass synth", 38, "bass", ""),
)  # fmt: skip
DRUM_KIT_WORDS = {
    25: "808|tr 808|808 drums",
    24: "electronic drums?|electronic drum kit|drum machine|909|tr 909|electronic percussion",
    40: "brushes|brushed(?: drums)?|brush kit",
    32: "jazz kit",
    48: "orchestral percussion|timpani|orchestra kit",
    16: "power kit|rock kit|power drums",
    8: "room kit",
}
# Phrases that set several things, or set some and refuse the rest: (phrases, stated, implied, note, refusal).
ARRANGEMENTS: tuple[tuple[str, dict, dict, str, str], ...] = (
    ("metal|heavy metal|death metal|black metal|thrash|thrash metal", {"groove": "rock"}, {"chords": 30}, FOLK_TUNE + ", no metal riffs", ""),
    ("hip hop|hiphop|trap|rap beats?|rap instrumentals?", {"groove": "dance"}, {}, "the beat; " + FOLK_TUNE, ""),
    ("rap", {"groove": "dance"}, {}, "the beat; " + FOLK_TUNE, VOICES),
    ("jazz drums|jazz drum kit", {"groove": "jazz", "drums": 32}, {}, "", ""),
    ("string quartets?", {"melody": 40, "chords": 48}, {}, "", ""),
    ("orchestral|orchestral instruments|orchestra|symphony orchestra|symphonic|full orchestra", {}, {"melody": 40, "chords": 48, "drums": 48}, "", ""),
    ("808 bass", {"bass": 38}, {"drums": 25}, "", ""),
    ("traditional instruments|traditional instrumentation|trad instruments", {}, {"melody": TRADITIONAL, "chords": TRADITIONAL}, "traditional for the style: {style}", ""),
    ("upbeat|up beat", {}, {"tempo": 126, "mood": "major"}, "", ""),
    ("builds? tension|building tension|rising tension|tension builds", {}, {"mood": "minor"}, "", STRUCTURE),
    ("slip jigs?|hop jigs?", {}, {}, "", UNWRITTEN_METER.format("9/8")),
)
REFUSALS = {
    VOICES: "vocals?|vocalists?|voices?|sing|sings|singing|sung|singers?|lyrics|a cappella|acapella|choir singing|chorus sings?|chorus singing"
            "|rapping|rapper|rapped|opera|operatic|humming|beatbox(?:ing)?|chants?|chanting|crooning|spoken word",
    SOUNDS: "sound effects|sfx|noises?|field recordings?|samples|sampled|crowd(?: noise| cheering)?|cheering|applause|laughter|birds?|birdsong|rain|thunder|water sounds|nature sounds",
    PRODUCTION: "reverb|reverberation|echo|echoes|delay|distortion|distorted|lo fi|lofi|hi fi|hifi|mastered|mastering|compression|compressed|sidechain"
                "|auto tune|autotune|audio quality|recording quality|sound quality",
    STRUCTURE: "build ups?|buildups?|builds? up|builds|crescendo|decrescendo|fades? (?:in|out)|key change|modulat(?:es?|ion|ing)|accelerando"
               "|ritardando|speeds up|slows down|gets (?:faster|slower)|climax",
    LENGTH: r"\d+(?:\.\d+)?[\s-]?(?:seconds?|secs?|minutes?|mins?|hours?|bars?|measures?)(?: long)?|(?:a|one|two|three|five|ten) (?:minutes?|hours?)"
            r"|(?:ten|fifteen|twenty|thirty) seconds|\d+:\d\d(?:\s?-\s?\d+:\d\d)?",
    TRADITIONS: "classical|classical music|baroque|chinese|japanese|indian|arabic|middle eastern|african|klezmer|flamenco|gamelan|bollywood|peruvian|k pop",
    NO_DRUMS: "no drums|without drums|no percussion|without percussion|drumless",
    ODD_METERS: "odd (?:time|meters?|metres?)|irregular (?:meters?|metres?)",
}  # fmt: skip
TRADITIONAL_SOUND = {"irish": {"melody": 110, "chords": 25}, "scottish": {"melody": 109, "chords": 25}, "essen": {"melody": 21, "chords": 25}, "misc": {"melody": 105, "chords": 25}}
NATURALS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}

KEY = re.compile(
    r"(?<![\w#])(?:(?P<into>in) +)?(?P<phrase>(?P<letter>[a-g])(?P<accidental>#|♯|♭|b(?=m?(?![\w#]))|[ -]?(?:sharp|flat))?"
    r"(?P<mode>[ -]?(?:major|minor|maj|min)|(?-i:m))?)(?![\w#♯♭])",
    re.I,
)
BPM = re.compile(r"(?<![\w.])(?P<bpm>\d{1,4}(?:\.\d+)?) ?(?:bpm|b\.p\.m\.?|beats? (?:per|a|each) minute)(?!\w)", re.I)
TEMPO_NUMBER = re.compile(r"(?<!\w)tempo(?: of| at| is|:)? (?P<bpm>\d{1,4}(?:\.\d+)?)(?![\w.])", re.I)
FRACTION = re.compile(r"(?<![\w/])(?P<meter>(?:[2-9]|1[0-5]) ?/ ?(?:2|4|8|16))(?![\w/])")
CHORDS_BEFORE = re.compile(r"(?<!\w)(?:backed by|accompanied by|backing of|over|rhythm)\s+(?:(?:an?|the|some)\s+)?(?:[\w-]+\s+)?$", re.I)
MELODY_BEFORE = re.compile(r"(?<!\w)(?:on|from|by|solo|lead)\s+(?:(?:an?|the|some)\s+)?(?:[\w-]+\s+)?$", re.I)
PLAYING = r"^\s+(?:(?:is|are)\s+)?play(?:s|ing)\s+(?:(?:an?|the)\s+)?(?:[\w-]+\s+)?"
MELODY_AFTER = re.compile(r"^\s+(?:melod(?:y|ies)|lead|solos?|riffs?|tune|theme|line)(?!\w)|" + PLAYING + r"(?:melod(?:y|ies)|lead|solo|riffs?|tune|theme|arpeggios?)(?!\w)", re.I)
CHORDS_AFTER = re.compile(r"^\s+(?:chords?|pads?|accompaniment|comping|backing|harmony|behind|in the background)(?!\w)|" + PLAYING + r"chords(?!\w)", re.I)
FIELD_NAMES = {"groove": "drum groove", "drums": "drum kit"}
OPTION_FIELDS = ("style", "mood", "tempo", "meter", "key", "density", "groove")
SAID_IN_ORDER = ("style", "meter", "tempo", "key", "mood", "density", "groove", "melody", "chords", "bass", "drums")  # a reading's meaning, in this order
PARTS = ("melody", "chords", "bass", "drums")


@dataclass(frozen=True)
class Reading:
    """One phrase of the text and what we made of it."""

    phrase: str  # the words as the player wrote them
    meaning: str  # for people: "4/4", "150 bpm", "Fiddle (melody)", or why it is ignored


@dataclass(frozen=True)
class Interpretation:
    """A description, the options read from it, and the readings that say why."""

    text: str
    options: MusicOptions
    understood: tuple[Reading, ...]
    ignored: tuple[Reading, ...]  # musical intent recognised but not honoured, the reason as its meaning

    def summary(self) -> str:
        """One line for the player: what was understood, then what was ignored and why."""
        ignored = "; ignored: " + ", ".join(f"{r.phrase} ({r.meaning})" for r in self.ignored) if self.ignored else ""
        if not self.understood:
            opening = "nothing here we can honour" if self.ignored else "nothing here is in our vocabulary"
            return f"{opening}: a default piece ({STYLE_NAMES[self.options.style]}, {self.options.meter}){ignored}"
        said = (r.phrase if _same_words(r.phrase, r.meaning) else f"{r.phrase} → {r.meaning}" for r in self.understood)
        return "understood: " + ", ".join(said) + ignored

    def as_dict(self) -> dict:
        """The JSON form: the text, the options, the readings and the summary."""
        return {"text": self.text, "options": self.options.as_dict(), "understood": [asdict(r) for r in self.understood], "ignored": [asdict(r) for r in self.ignored], "summary": self.summary()}


@dataclass(frozen=True)
class _Sense:
    """What a phrase asks for: (field, value, weight) claims, a note on them, and a refusal."""

    claims: tuple[tuple[str, object, int], ...] = ()
    note: str = ""
    refusal: str = ""


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    phrase: str
    sense: _Sense


def interpret(text: str) -> Interpretation:
    """Read a description into options; raises ValueError for text that is not a string or too long."""
    if not isinstance(text, str):
        raise ValueError(f"a description is text, got {type(text).__name__}")
    if len(text) > MAX_DESCRIPTION:
        raise ValueError(f"a description has at most {MAX_DESCRIPTION} characters, this one has {len(text)}")
    found = _find(text)
    deciders = _deciders(found)
    values = _values(found, deciders)
    instruments = Instruments(**{part: values[part] for part in PARTS if part in values})
    options = MusicOptions(**{field: values[field] for field in OPTION_FIELDS if field in values}, instruments=instruments)
    understood, ignored = _readings(found, deciders, values)
    return Interpretation(text, options, understood, ignored)


def _find(text: str) -> list[_Found]:
    """Every vocabulary phrase in the text, the longest where they overlap, in text order."""
    candidates = [found for pattern, read in VOCABULARY for match in pattern.finditer(text) if (found := read(match)) is not None]
    candidates.sort(key=lambda f: (f.start - f.end, f.start))
    taken: list[_Found] = []
    for candidate in candidates:
        if all(candidate.end <= other.start or other.end <= candidate.start for other in taken):
            taken.append(candidate)
    return sorted(taken, key=lambda f: f.start)


def _deciders(found: list[_Found]) -> dict[str, int]:
    """{field: index of the phrase that decides it}: the strongest claim, the later among equals."""
    best: dict[str, tuple[int, int]] = {}
    for index, each in enumerate(found):
        for field, _, weight in each.sense.claims:
            if field not in best or weight >= best[field][0]:
                best[field] = (weight, index)
    return {field: index for field, (_, index) in best.items()}


def _values(found: list[_Found], deciders: dict[str, int]) -> dict[str, object]:
    """{field: the value decided}, the style's traditional instruments filled in once the style is known."""
    values = {field: _value(found[index], field) for field, index in deciders.items()}
    for part in ("melody", "chords"):
        if values.get(part) == TRADITIONAL:
            values[part] = TRADITIONAL_SOUND[values.get("style", MusicOptions.style)][part]
    return values


def _readings(found: list[_Found], deciders: dict[str, int], values: dict) -> tuple[tuple[Reading, ...], tuple[Reading, ...]]:
    """(understood, ignored): a phrase is understood for what it decided (or agreed with), ignored where outvoted or refused."""
    understood, ignored = [], []
    for index, each in enumerate(found):
        claims = each.sense.claims
        kept = [f for f, value, weight in claims if deciders[f] == index or (weight > DEFAULT and _value(found[deciders[f]], f) == value)]
        if kept:
            understood.append(Reading(each.phrase, _meaning(kept, values, each.sense.note)))
        elif any(weight > DEFAULT for _, _, weight in claims):
            ignored.append(Reading(each.phrase, ", ".join(f"the {FIELD_NAMES.get(f, f)} went to {found[deciders[f]].phrase!r}" for f, _, _ in claims)))
        if each.sense.refusal:
            ignored.append(Reading(each.phrase, each.sense.refusal))
    return _unique(understood), _unique(ignored)


def _value(found: _Found, field: str) -> object:
    return next(value for f, value, _ in found.sense.claims if f == field)


def _meaning(fields: list[str], values: dict, note: str) -> str:
    said = []
    for field in sorted(fields, key=SAID_IN_ORDER.index):
        value = values[field]
        if field == "key":
            said.append(f"{PITCH_CLASS_NAMES[value]} {values['mood']}" if "mood" in fields else f"key of {PITCH_CLASS_NAMES[value]}")
        elif field == "mood" and "key" in fields:
            continue
        elif field == "style":
            said.append(STYLE_NAMES[value])
        elif field == "tempo":
            said.append(f"{value} bpm")
        elif field == "groove":
            said.append(f"{value} drums")
        elif field == "drums":
            said.append(f"{DRUM_KITS[value]} kit")
        elif field in PARTS:
            said.append(f"{GM_PROGRAMS[value]} ({field})")
        else:
            said.append(str(value))
    note = note.format(style=STYLE_NAMES[values.get("style", MusicOptions.style)])
    return ", ".join(said) + (f" ({note})" if note else "")


def _same_words(a: str, b: str) -> bool:
    return re.sub(r"[^\w#/]", "", a.lower()) == re.sub(r"[^\w#/]", "", b.lower())


def _unique(readings: list[Reading]) -> tuple[Reading, ...]:
    seen, kept = set(), []
    for reading in readings:
        if (reading.phrase.lower(), reading.meaning) not in seen:
            seen.add((reading.phrase.lower(), reading.meaning))
            kept.append(reading)
    return tuple(kept)


def _phrases(words: str) -> list[re.Pattern]:
    """A pattern for each top-level alternative, so that the longest phrase can win where they overlap."""
    alternatives, depth, start = [], 0, 0
    for i, char in enumerate(words + "|"):
        depth += (char == "(") - (char == ")")
        if char == "|" and depth == 0:
            alternatives.append(words[start:i])
            start = i + 1
    return [re.compile(r"(?<!\w)(?:" + phrase.replace(" ", r"[\s-]+") + r")(?!\w)", re.I) for phrase in alternatives]


def _sense(stated: dict | None = None, implied: dict | None = None, note: str = "", refusal: str = "", default: dict | None = None) -> _Sense:
    claims = [(f, v, w) for w, given in ((STATED, stated), (IMPLIED, implied), (DEFAULT, default)) for f, v in (given or {}).items()]
    return _Sense(tuple(claims), note, refusal)


def _fixed(sense: _Sense) -> Callable[[re.Match], _Found]:
    return lambda match: _Found(match.start(), match.end(), match.group(0), sense)


def _instrument(program: int, part: str, note: str) -> Callable[[re.Match], _Found]:
    """The part an instrument plays: its own, unless the words around it say otherwise."""

    def read(match: re.Match) -> _Found:
        before, after = match.string[: match.start()], match.string[match.end() :]
        chosen = part
        if part != "bass":
            if CHORDS_BEFORE.search(before):
                chosen = "chords"
            elif MELODY_AFTER.search(after) or (not CHORDS_AFTER.search(after) and MELODY_BEFORE.search(before)):
                chosen = "melody"
            elif CHORDS_AFTER.search(after):
                chosen = "chords"
        return _Found(match.start(), match.end(), match.group(0), _sense({chosen: program}, note=note))

    return read


def _key(match: re.Match) -> _Found | None:
    """A key only where it cannot be the article "a": after "in", or with an accidental or mode."""
    letter, accidental, mode, into = match.group("letter"), match.group("accidental"), match.group("mode"), match.group("into")
    if not (accidental or mode or into) or (letter == "a" and not into):
        return None
    if mode == "m" and letter.islower():
        return None  # "let em play"
    if letter == "a" and not (accidental or mode) and not re.match(r"\s*(?:[,.;:!?)]|$)", match.string[match.end() :]):
        return None  # "in a fast tempo"
    shift = 0 if not accidental else 1 if re.search(r"#|♯|sharp", accidental, re.I) else -1
    claims = {"key": (NATURALS[letter.lower()] + shift) % 12}
    if mode:
        claims["mood"] = "minor" if mode.strip(" -").lower() in ("minor", "min", "m") else "major"
    return _Found(match.start(), match.end(), match.group("phrase"), _sense(claims))


def _tempo(match: re.Match) -> _Found:
    asked = round(float(match.group("bpm")))
    bpm = min(max(asked, TEMPO_LIMITS[0]), TEMPO_LIMITS[1])
    note = "" if bpm == asked else f"{'the slowest' if asked < bpm else 'the fastest'} we play; {asked} bpm was asked"
    return _Found(match.start(), match.end(), match.group(0), _sense({"tempo": bpm}, note=note))


def _meter(match: re.Match) -> _Found:
    meter = re.sub(r"\s", "", match.group("meter"))
    sense = _sense({"meter": meter}) if meter in METERS else _sense(refusal=UNWRITTEN_METER.format(meter))
    return _Found(match.start(), match.end(), match.group(0), sense)


def _vocabulary() -> list[tuple[re.Pattern, Callable[[re.Match], _Found | None]]]:
    fixed: list[tuple[str, _Sense]] = [(words, _sense({"style": style})) for style, words in STYLE_WORDS.items()]
    fixed.append((FOLK_WORDS, _sense(default={"style": "irish"}, note="our default: every melody we write is a folk tune")))
    fixed += [(words, _sense({"groove": groove}, note=note)) for words, groove, note in GENRE_WORDS]
    fixed += [(words, _sense({"groove": groove} if groove else {}, {"meter": meter, **({"style": style} if style else {})})) for words, meter, groove, style in DANCE_FORMS]
    fixed += [(words, _sense({"meter": meter})) for meter, words in METER_WORDS.items()]
    fixed += [(words, _sense({"tempo": bpm}) if weight == STATED else _sense(implied={"tempo": bpm})) for words, bpm, weight in TEMPO_WORDS]
    fixed += [(words, _sense({"mood": mode}) if weight == STATED else _sense(implied={"mood": mode})) for words, mode, weight in MOOD_WORDS]
    fixed += [(words, _sense({"density": density})) for density, words in DENSITY_WORDS.items()]
    fixed += [(words, _sense({"drums": kit})) for kit, words in DRUM_KIT_WORDS.items()]
    fixed += [(words, _sense(stated, implied, note, refusal)) for words, stated, implied, note, refusal in ARRANGEMENTS]
    fixed += [(words, _sense(refusal=reason)) for reason, words in REFUSALS.items()]
    vocabulary = [(pattern, _fixed(sense)) for words, sense in fixed for pattern in _phrases(words)]
    vocabulary += [(pattern, _instrument(program, part, note)) for words, program, part, note in INSTRUMENTS for pattern in _phrases(words)]
    return vocabulary + [(KEY, _key), (BPM, _tempo), (TEMPO_NUMBER, _tempo), (FRACTION, _meter)]


VOCABULARY = _vocabulary()
