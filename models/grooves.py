"""Drum patterns for the drum VAE, rendered from Debian's `mma` groove library, with their meter,
style and source.

mma (Musical MIDI Accompaniment) ships ~2,000 grooves in the folders of /usr/share/mma/lib
(stdlib, casio, yamaha, zoom, kara, pflib, alexis). For each library file we write one .mma
script that selects every groove the file defines, switches mma's randomness off, plays 4 bars
of a C chord and marks where the groove starts; `mma` renders it to MIDI and the drum channel is
cut into 2-bar patterns, bars 1-2 and 3-4, each starting on the groove's own first bar (read
from the marker mma writes there, not assumed). Patterns are [2 bars x steps, 9] multi-hot in
the 9 classes of music.DRUM_CLASSES (percussion folded in as MusicVAE does): 32 steps for 4/4,
24 for 3/4 and 6/8.

Determinism. mma humanizes by default: after the groove is selected every track gets
RSkip 0 (no dropped hits), RTime 0 (no timing jitter), RVolume 0, RDuration 0 and SeqRnd Off
(bars in order, not shuffled); RPitch cannot be set on drum tracks (mma refuses) and does not
touch them. Swing: SwingMode converts a pattern's off-beat eighths when the pattern is *defined*,
so it cannot be switched off after the groove is loaded; the script sets `SwingMode Skew=50`
before any library file is read, which makes every "swung" eighth straight (50/50). Triplets
written into a pattern by hand (1.66, 2.33, ...) are the groove itself. Rendering twice gives the
same patterns; with the randomness left on, two renders differ (tests/test_grooves.py).

Meter, from what mma reports for the selected groove ($_Time quarter notes a bar, $_TimeSig):
a 6/8 time signature or `Time 6` (mma's recommended way to write 6/8, one quarter per eighth) is
6/8, whatever the Time: the library writes 6/8 as Time 2 (68march: two dotted-quarter beats),
Time 3 (afro-cuban), Time 4 (ballad68: quarter-note triplets) and Time 6; the bar is always cut
into 12 sixteenths, felt in two beats of 6. Compound time written in 4/4 is 6/8 too
(compound_steps): a 4/4 groove whose every hit sits on sixths of the bar is one 6/8 bar (as
ballad68), one whose every hit sits on triplet eighths, a fifth of them off the beat, is 12/8
(slow rock, doo-wop, 12/8 blues, triplet swing) and each of its bars gives two 6/8 bars, so its
4 bars give four 2-bar patterns. Otherwise Time 4 is 4/4 (16 steps, hits rounded to the nearest
16th), Time 3 is 3/4 (12 steps); other meters (5/4, 2/4 without 6/8) are left out.

Style: one of STYLES, from the library file's name by the first matching rule of STYLE_RULES
(the table below), the groove's file for every groove in it. The metronome clicks, count-ins,
zoom's intro and ending files and the empty groove (NOT_GROOVES) are no grooves. Endings
(grooves named ...End, ...Ending, ...EndingB) are left out: a pattern that stops is no loop to
tile over a piece.
Exact duplicates (same meter) keep their first source in sorted order; empty patterns are dropped.
Needed for training only; the result is cached under var/cache.

| style   | library files (substring of the file name, first rule wins)                          |
| ------- | ------------------------------------------------------------------------------------- |
| polka   | polka                                                                                  |
| march   | march                                                                                  |
| folk    | folk                                                                                   |
| country | country, cntry, western, bluegrass, zydeco, 2beat                                      |
| latin   | latin, bossa, samba, rhumba, mambo, salsa, chacha, merengue, tango, bolero, beguine,   |
|         | calypso, afro, cuban, son, quando, lfusion, mide (Middle-Eastern hand percussion)      |
| jazz    | jazz, swing, bebop, bigband, dixie, ragtime, charleston, foxtrot, quickstep, softshoe, |
|         | broadway, showtune, evansish, desert                                                   |
| waltz   | waltz                                                                                  |
| blues   | blues, boogie, boggie, shuffle                                                         |
| ballad  | ballad, bald, slowrock, lullaby, arpeggio, serenade, hymn, spiritual, slow16           |
| dance   | dance, techno, house, trance, rave, ambient, dnb, hiphop, hip-hop, trip, electric      |
| pop     | pop, soul, funk, r+b, rnb, rb, motown, disco, boneym, reggae, ska, fusion, fus16       |
| rock    | rock, beat, metal, mtl, punk, hrk, thr, highfive, jive, strut, twi(st)                 |
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from music import DRUM_CLASSES, GM_DRUM_CLASSES, DrumClass, Meter

VERSION = 2
LIBRARY = Path("/usr/share/mma/lib")
TEMPO = 120
BARS = 4  # rendered per groove: bars 1-2 and 3-4 become two patterns
METERS = ("4/4", "3/4", "6/8")
STEPS_PER_BAR = {meter: Meter.parse(meter).steps_per_bar for meter in METERS}
BEAT_STEPS = {meter: Meter.parse(meter).beat_steps for meter in METERS}  # 6/8 is felt in two
STYLE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("polka", ("polka",)),
    ("march", ("march",)),
    ("folk", ("folk",)),
    ("country", ("country", "cntry", "western", "bluegrass", "zydeco", "2beat")),
    ("latin", ("latin", "bossa", "samba", "rhumba", "mambo", "salsa", "chacha", "merengue", "tango", "bolero", "beguine",
               "calypso", "afro", "cuban", "son", "quando", "lfusion", "mide")),
    ("jazz", ("jazz", "swing", "bebop", "bigband", "dixie", "ragtime", "charleston", "foxtrot", "quickstep", "softshoe",
              "broadway", "showtune", "evansish", "desert")),
    ("waltz", ("waltz",)),
    ("blues", ("blues", "boogie", "boggie", "shuffle")),
    ("ballad", ("ballad", "bald", "slowrock", "lullaby", "arpeggio", "serenade", "hymn", "spiritual", "slow16")),
    ("dance", ("dance", "techno", "house", "trance", "rave", "ambient", "dnb", "hiphop", "hip-hop", "trip", "electric")),
    ("pop", ("pop", "soul", "funk", "r+b", "rnb", "rb", "motown", "disco", "boneym", "reggae", "ska", "fusion", "fus16")),
    ("rock", ("rock", "beat", "metal", "mtl", "punk", "hrk", "thr", "highfive", "jive", "strut", "twi")),
)
STYLES = tuple(style for style, _ in STYLE_RULES)
NOT_GROOVES = ("metronome", "metronome3", "metronome6", "metronome68", "none", "count", "intro", "ending")  # clicks, count-ins, silence
ENDING = re.compile(r"(end|ending)(\d+|[a-d])?(sus)?$", re.I)
# Percussion the kit mapping of music.GM_DRUM_CLASSES leaves out, folded into the 9 classes as
# MusicVAE's drum models do (note_seq's DEFAULT_DRUM_TYPE_PITCHES): congas and bongos become
# toms, claves/cowbell/timbales snare-like hits, shakers and tambourine closed hats.
PERCUSSION = {
    **{p: DrumClass.SNARE for p in (27, 28, 31, 32, 33, 34, 56, 65, 66, 75, 85)},
    **{p: DrumClass.CLOSED_HAT for p in (54, 68, 69, 70, 71, 73, 78, 80)},
    **{p: DrumClass.OPEN_HAT for p in (67, 72, 74, 79, 81)},
    **{p: DrumClass.LOW_TOM for p in (29, 61, 64, 84)},
    **{p: DrumClass.MID_TOM for p in (60, 63, 77, 86, 87)},
    **{p: DrumClass.HIGH_TOM for p in (30, 62, 76, 83)},
    58: DrumClass.CRASH,
    82: DrumClass.RIDE,
}
PITCH_CLASS = {p: DRUM_CLASSES.index(c) for p, c in {**PERCUSSION, **GM_DRUM_CLASSES}.items()}
DETERMINISTIC = ("Begin AllTracks", "RSkip 0", "RTime 0", "RVolume 0", "RDuration 0", "SeqRnd Off", "End", "SeqRnd Off")


def _mma() -> str:
    path = shutil.which("mma")
    if path is None:
        raise RuntimeError("the `mma` command is missing: install Debian's mma package (apt-get install mma) to render drum grooves")
    return path


def _mma_version() -> str:
    out = subprocess.run([_mma(), "-v"], capture_output=True, text=True, timeout=30).stdout.strip().splitlines()
    return out[-1] if out else "unknown"


def style_of(file_stem: str) -> str:
    """The drum style of a library file, by the first rule of STYLE_RULES its name matches."""
    name = file_stem.lower()
    for style, words in STYLE_RULES:
        if any(word in name for word in words):
            return style
    return "pop"  # no library file reaches this; a new one is most likely a pop/rock beat


def meter_of(time: float, timesig: str) -> str | None:
    """The meter of a groove from mma's $_Time (quarter notes a bar) and $_TimeSig."""
    if timesig == "6/8" or time == 6:
        return "6/8"
    return {4: "4/4", 3: "3/4"}.get(time) if time == int(time) else None


def grooves_in(library_file: Path) -> list[str]:
    """The groove names a library file defines (DefGroove), endings left out, in file order."""
    names: list[str] = []
    for line in library_file.read_text(errors="replace").splitlines():
        found = re.match(r"^\s*DefGroove\s+(\S+)", line, re.I)
        if found and "$" not in found.group(1) and not ENDING.search(found.group(1)) and found.group(1).lower() not in map(str.lower, names):
            names.append(found.group(1))
    return names


def script(library_file: Path, grooves: list[str], swing_off: bool = True, randomness_off: bool = True) -> str:
    """The .mma source that plays each groove for BARS bars, marked and reported."""
    lines = [f"Tempo {TEMPO}"] + (["SwingMode Skew=50"] if swing_off else [])
    where = f"{library_file.parent.name}/{library_file.stem}"
    for i, name in enumerate(grooves):
        lines.append(f"Groove {where}:{name}" if i == 0 else f"Groove {name}")
        lines += list(DETERMINISTIC) if randomness_off else []
        lines += [f"Print GROOVE {i} $_Time $_TimeSig", f"MidiMark G{i}"] + [f"{bar} C" for bar in range(1, BARS + 1)]
    return "\n".join(lines) + "\n"


def run_mma(source: str, workdir: Path, name: str) -> tuple[Path | None, str]:
    """Render .mma source to MIDI -> (the .mid path or None on failure, mma's stdout)."""
    mma_file, midi = workdir / f"{name}.mma", workdir / f"{name}.mid"
    mma_file.write_text(source)
    midi.unlink(missing_ok=True)
    done = subprocess.run([_mma(), "-m", "5000", str(mma_file), "-f", str(midi)], capture_output=True, text=True, timeout=300, cwd=workdir)
    return (midi if done.returncode == 0 and midi.exists() else None), done.stdout


def drum_hits(midi: Path) -> tuple[int, dict[str, int], list[tuple[int, int]]]:
    """-> (ticks a quarter, {marker: tick}, [(tick, drum class index)]) of an mma MIDI file."""
    import mido

    song = mido.MidiFile(str(midi))
    markers, hits = {}, []
    for track in song.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "marker":
                markers[message.text] = tick
            elif message.type == "note_on" and message.velocity > 0 and message.channel == 9 and message.note in PITCH_CLASS:
                hits.append((tick, PITCH_CLASS[message.note]))
    return song.ticks_per_beat, markers, hits


def compound_steps(hits: list[tuple[int, int]], start: int, bar_ticks: float, ticks_per_quarter: int) -> int | None:
    """How many 6/8 sixteenths a 4/4 bar holds if the groove is really compound time written in
    4/4, else None. All hits on sixths of the bar (quarter-note triplets, mma's ballad68 way)
    with a fifth or more off the quarter beats: one 6/8 bar, 12 steps. All hits on triplet
    eighths with a fifth or more off the beat (12/8 slow rock, doo-wop, shuffles): a 12/8 bar,
    i.e. two 6/8 bars, 24 steps."""
    offsets = [tick - start for tick, _ in hits if start <= tick < start + BARS * bar_ticks]
    if not offsets:
        return None

    def on(lattice: float) -> bool:
        return all(abs(o / lattice - round(o / lattice)) * lattice <= 2 for o in offsets)

    off_beat = sum(abs(o / ticks_per_quarter - round(o / ticks_per_quarter)) * ticks_per_quarter > 2 for o in offsets)
    if off_beat < 0.2 * len(offsets):
        return None
    if on(bar_ticks / 6):
        return 12
    return 24 if on(ticks_per_quarter / 3) else None


def cut(hits: list[tuple[int, int]], start: int, bar_ticks: float, steps_per_bar: int, pattern_steps: int) -> tuple[list[np.ndarray], int]:
    """BARS bars from `start` on a grid of steps_per_bar -> (patterns [pattern_steps, 9] in order,
    hits more than a quarter step off the grid). A hit that rounds onto the next groove's first
    step is not ours."""
    step_ticks = bar_ticks / steps_per_bar
    grid = np.zeros((BARS * steps_per_bar, len(DRUM_CLASSES)), dtype=np.uint8)
    off_grid = 0
    for tick, cls in hits:
        position = (tick - start) / step_ticks
        step = int(round(position))
        if 0 <= step < len(grid) and start <= tick:
            grid[step, cls] = 1
            off_grid += abs(position - step) > 0.25
    return [grid[i : i + pattern_steps] for i in range(0, len(grid), pattern_steps)], off_grid


def render(library_file: Path, workdir: Path, swing_off: bool = True, randomness_off: bool = True) -> list[dict]:
    """Every groove of one library file -> [{"meter", "style", "source", "pattern" [T, 9], "off_grid"}],
    two per groove (bars 1-2, bars 3-4; four for a 12/8 groove). A file mma cannot render whole
    is rendered a groove at a time."""
    grooves = grooves_in(library_file)
    if not grooves:
        return []
    midi, out = run_mma(script(library_file, grooves, swing_off, randomness_off), workdir, library_file.stem)
    if midi is None and len(grooves) > 1:
        return [p for name in grooves for p in _render_grooves(library_file, [name], workdir, swing_off, randomness_off)]
    return _patterns(library_file, grooves, midi, out)


def _render_grooves(library_file: Path, grooves: list[str], workdir: Path, swing_off: bool, randomness_off: bool) -> list[dict]:
    midi, out = run_mma(script(library_file, grooves, swing_off, randomness_off), workdir, library_file.stem)
    return _patterns(library_file, grooves, midi, out)


def _patterns(library_file: Path, grooves: list[str], midi: Path | None, out: str) -> list[dict]:
    if midi is None:
        return []
    reported = {int(m.group(1)): (float(m.group(2)), m.group(3)) for m in re.finditer(r"^GROOVE (\d+) (\S+) (\S+)", out, re.M)}
    ticks_per_quarter, markers, hits = drum_hits(midi)
    folder, style = library_file.parent.name, style_of(library_file.stem)
    found = []
    for i, name in enumerate(grooves):
        if i not in reported or f"G{i}" not in markers:
            continue
        time, timesig = reported[i]
        meter = meter_of(time, timesig)
        if meter is None:
            continue
        start, bar_ticks, steps_per_bar = markers[f"G{i}"], time * ticks_per_quarter, STEPS_PER_BAR[meter]
        compound = compound_steps(hits, start, bar_ticks, ticks_per_quarter) if meter == "4/4" else None
        if compound is not None:
            meter, steps_per_bar = "6/8", compound
        patterns, off_grid = cut(hits, start, bar_ticks, steps_per_bar, 2 * STEPS_PER_BAR[meter])
        for k, pattern in enumerate(patterns):
            source = f"{folder}/{library_file.stem}:{name} bars {2 * k + 1}-{2 * k + 2}"
            found.append({"meter": meter, "style": style, "source": source, "pattern": pattern, "off_grid": off_grid})
    return found


def library_files(library: Path = LIBRARY) -> list[Path]:
    return sorted(p for p in library.glob("*/*.mma") if p.stem.lower() not in NOT_GROOVES)


def file_of(source: str) -> str:
    """'casio/polka:PolkaMain bars 1-2' -> 'casio/polka' (the unit of the held-out split)."""
    return source.split(":", 1)[0]


def collect(library: Path = LIBRARY) -> dict[str, dict[str, np.ndarray]]:
    """Render the whole library -> {meter: {"patterns" [M, T, 9] uint8, "style" [M], "source" [M]}},
    empty patterns and exact duplicates (per meter, first source kept) dropped."""
    from tqdm import tqdm

    seen: dict[str, dict[bytes, dict]] = {m: {} for m in METERS}
    with tempfile.TemporaryDirectory() as tmp:
        for library_file in tqdm(library_files(library), desc="mma grooves", unit="file"):
            for found in render(library_file, Path(tmp)):
                if found["pattern"].any():
                    seen[found["meter"]].setdefault(found["pattern"].tobytes(), found)
    return {
        meter: {
            "patterns": np.stack([f["pattern"] for f in kept.values()]),
            "style": np.array([f["style"] for f in kept.values()]),
            "source": np.array([f["source"] for f in kept.values()]),
        }
        for meter, kept in seen.items()
        if kept
    }


def load_grooves(cache_dir: Path = Path("var/cache")) -> dict[str, dict[str, np.ndarray]]:
    """collect(), cached under cache_dir (keyed on VERSION and the mma version)."""
    version = re.sub(r"[^0-9A-Za-z.]", "", _mma_version())
    cache = Path(cache_dir) / f"mma-grooves-v{VERSION}-{version}.npz"
    if cache.exists():
        with np.load(cache) as data:
            return {m: {k: data[f"{m.replace('/', '_')}.{k}"] for k in ("patterns", "style", "source")} for m in METERS if f"{m.replace('/', '_')}.patterns" in data}
    result = collect()
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **{f"{m.replace('/', '_')}.{k}": v for m, d in result.items() for k, v in d.items()})
    return result


def counts(grooves: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, int]]:
    """{meter: {style: patterns}}."""
    return {m: {str(s): int(n) for s, n in zip(*np.unique(d["style"], return_counts=True))} for m, d in grooves.items()}
