"""The sounds a piece is played with: a General MIDI program for each pitched part and a GM drum
kit. They travel with the Piece (its MIDI file's program changes, its JSON, the server's audio and
the page's sampled instruments all read them), so a player's choice of sounds is part of the music
and never a setting kept beside it."""

from __future__ import annotations

from dataclasses import dataclass

# General MIDI level 1 program names, 0-based as MIDI files number them.
GM_PROGRAMS: tuple[str, ...] = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano", "Electric Piano 1", "Electric Piano 2",
    "Harpsichord", "Clavinet", "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)", "Electric Guitar (muted)",
    "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics", "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)",
    "Fretless Bass", "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2", "Violin", "Viola", "Cello", "Contrabass",
    "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani", "String Ensemble 1", "String Ensemble 2", "Synth Strings 1",
    "Synth Strings 2", "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit", "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
    "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2", "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe",
    "English Horn", "Bassoon", "Clarinet", "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)",
    "Lead 8 (bass + lead)", "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)", "Pad 6 (metallic)",
    "Pad 7 (halo)", "Pad 8 (sweep)", "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)", "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal", "Guitar Fret Noise",
    "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter", "Applause", "Gunshot",
)  # fmt: skip

# The drum kits of the GM soundfonts (General Standard's kit numbers, on channel 10).
DRUM_KITS: dict[int, str] = {0: "Standard", 8: "Room", 16: "Power", 24: "Electronic", 25: "TR-808", 32: "Jazz", 40: "Brush", 48: "Orchestra"}

PARTS = ("melody", "chords", "bass")  # the pitched parts, each with a program


class InstrumentError(ValueError):
    """An instrument choice outside General MIDI; the message names the part."""


@dataclass(frozen=True)
class Instruments:
    melody: int = 73  # Flute
    chords: int = 0  # Acoustic Grand Piano
    bass: int = 33  # Electric Bass (finger)
    drums: int = 0  # the Standard kit

    def __post_init__(self) -> None:
        for part in PARTS:
            program = getattr(self, part)
            if not isinstance(program, int) or isinstance(program, bool) or not 0 <= program < len(GM_PROGRAMS):
                raise InstrumentError(f"{part}: a General MIDI program is 0..127, got {program!r}")
        if self.drums not in DRUM_KITS:
            raise InstrumentError(f"drums: a drum kit is one of {', '.join(f'{n} ({name})' for n, name in DRUM_KITS.items())}, got {self.drums!r}")

    def names(self) -> dict[str, str]:
        """What a person reads: {"melody": "Flute", ..., "drums": "Standard kit"}."""
        return {**{part: GM_PROGRAMS[getattr(self, part)] for part in PARTS}, "drums": f"{DRUM_KITS[self.drums]} kit"}
