"""Training data from packages on this machine: folk tunes, Bach chorale chords, mma drum grooves.

Folk tunes. The folk collections of the music21 corpus (essenFolksong, oneills1850, ryansMammoth,
airdsAirs, miscFolk: 12,947 ABC tunes) ship inside the music21 wheel. music21 parses them in
~500 s; symusic's ABC reader (its bundled abc2midi), one tune at a time, in ~35 s (a file per
core: ~20 s on two). Each tune:

  1. clean-up of the ABC body: "..." chord symbols and annotations, {..} grace notes and
     decorations (T, ~, H, !trill!, ...) are cut, because abc2midi would play them as an
     accompaniment track, as notes stealing time from the next one, or as ornament runs;
  2. filters, each counted by reason: parse error; no or free meter (M:none); meter change;
     several voices (V:); chords on more than 10 % of onsets (polyphonic); more than 5 % of
     notes off the 16th grid other than triplets (32nds); fewer than 8 notes;
  3. quantization to 16th steps (4 per quarter; long-value meters such as Essen's 4/2 read at
     the usual beat, see `normal_meter`); triplet notes are rounded onto the grid and counted;
  4. skyline: at one onset the highest note wins, and a note is cut where the next one starts;
  5. pickup: when the first bar (up to the first bar line of the ABC) is shorter than a full
     bar, every note moves right by (steps_per_bar - pickup), so bar lines fall on multiples
     of steps_per_bar;
  6. key: tonic and mode from the K: field (church modes folded onto major/minor by their
     third); Essen's bare K: letters get their mode from a key profile (see `parse_tune`);
     a Krumhansl-Schmuckler estimate where K: names no key.

Repeats and first/second endings are expanded by abc2midi, so a tune is stored as played.
Tunes are cached (one pickle per CORPUS_VERSION and music21 version; loads in ~0.1 s), so
retraining never re-parses. Chorales (`load_chorale_chords`) and drum grooves
(`load_mma_drum_patterns`) follow at the end.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from music import estimate_key as estimate_music_key

CORPUS_VERSION = "folk-v2"
STYLES = {"essenFolksong": "essen", "oneills1850": "irish", "ryansMammoth": "irish", "airdsAirs": "scottish", "miscFolk": "misc"}
MIN_NOTES = 8
MAX_CHORD_ONSETS = 0.10  # more onsets than this holding several notes: a polyphonic setting, not a tune
MAX_OFF_GRID = 0.05  # more non-triplet notes than this off the 16th grid: needs 32nds, skipped
FIRST_BAR_MARK = "[Q:1/4=7]"
PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MAJOR_MODES, MINOR_MODES = ("", "maj", "ion", "mix", "lyd"), ("m", "min", "aeo", "dor", "phr", "loc")
# Krumhansl & Kessler (1982) probe-tone profiles, tonic first


@dataclass(frozen=True)
class Tune:
    tune_id: str  # collection/file stem/index in file: stable across runs
    collection: str
    style: str  # "essen" | "irish" | "scottish" | "misc"
    meter: tuple[int, int]  # (numerator, denominator) after normal_meter
    key: tuple[int, str]  # (tonic pitch class 0-11, "major" | "minor")
    pickup_steps: int  # anacrusis length in 16th steps, 0 if none
    notes: np.ndarray  # [N, 3] int16: pitch, start step, end step; sorted, non-overlapping; bar lines at k * steps_per_bar

    @property
    def steps_per_bar(self) -> int:
        return self.meter[0] * 16 // self.meter[1]


def corpus_root() -> Path:
    """The corpus folder inside the installed music21 wheel (found without importing music21, a 1 s import)."""
    return Path(importlib.util.find_spec("music21").origin).parent / "corpus"


def split_of(tune_id: str) -> str:
    """80/10/10 train/valid/test, fixed by a hash of the tune id (not by order or by chance), so a
    tune keeps its split when the corpus grows or the filters change."""
    bucket = int(hashlib.sha256(tune_id.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "valid" if bucket == 1 else "train"


def normal_meter(numerator: int, denominator: int) -> tuple[tuple[int, int], int]:
    """-> (meter, factor): durations are divided by `factor`.

    Alla breve (2/2, "C|": ~1,000 reels and hornpipes) has the bar of 4/4 and is read as 4/4,
    unchanged. Essen encodes many songs in long values (4/2, 3/1, 6/4: a "quarter" written as a
    half or a whole); those are read at the usual beat unit, compound meters over 8 and others
    over 4, every duration divided by the same factor. Without this, ~1,700 tunes would carry
    meters that the melody model does not know."""
    if (numerator, denominator) == (2, 2):
        return (4, 4), 1
    target = 8 if numerator in (6, 9, 12) else 4
    if denominator < target and target % denominator == 0:
        return (numerator, target), target // denominator
    return (numerator, denominator), 1


def split_abc(text: str) -> list[str]:
    """One ABC file -> one text per tune (from each X: line to the next), with the field lines
    of the file header (before the first X:) prepended, as ABC says they apply to every tune."""
    parts = re.split(r"(?m)^(?=X:)", text)
    header = "" if parts[0].startswith("X:") else "\n".join(line for line in parts[0].splitlines() if re.match(r"[A-Za-z]:", line))
    return [header + "\n" + p if header else p for p in parts if p.startswith("X:")]


def _head_and_body(abc: str) -> tuple[str, str]:
    """Split at the tune's first K: line (the end of an ABC tune header)."""
    match = re.compile(r"(?m)^K:.*$").search(abc, abc.find("X:") + 1)
    if match is None:
        return abc, ""
    return abc[: match.end()], abc[match.end() :]


def _clean_body(body: str) -> str:
    """Music lines without what abc2midi would play as extra or displaced notes: "..." chord
    symbols and annotations (an accompaniment track), {..} grace notes (they steal time from the
    next note), and decorations (T trill and ~ roll become runs of short notes, H fermata
    lengthens). Inline fields such as [M:3/4] or [P:A] are kept."""
    junk = re.compile(r'(\[[A-Za-z]:[^\]\n]*\])|"[^"\n]*"|\{[^}\n]*\}|![^!\s|]*!|\+[^+\s|]*\+|[~HLMOPSTuv]')
    keep = [line if re.match(r"[A-Za-z]:|%", line) else junk.sub(lambda m: m.group(1) or "", line) for line in body.splitlines()]
    return "\n".join(keep)


def abc_key(abc: str) -> tuple[int | None, str | None]:
    """(tonic pitch class, mode) as the K: field states them; None where it states none
    (K:none, K:Hp, German H/Es). Church modes fold onto the major/minor of their third."""
    match = re.search(r"(?m)^K:\s*([A-G])([#b]?)[ \t]*([A-Za-z]*)", abc)
    if match is None:
        return None, None
    tonic = (PITCH_CLASSES[match.group(1)] + {"#": 1, "b": -1, "": 0}[match.group(2)]) % 12
    word = match.group(3).lower()
    if word == "m" or word[:3] in MINOR_MODES:
        return tonic, "minor"
    if word[:3] in MAJOR_MODES:
        return tonic, "major"
    return None, None


def estimate_key(notes: np.ndarray, candidates: list[tuple[int, str]] | None = None) -> tuple[int, str]:
    """Krumhansl-Schmuckler over the duration-weighted pitch classes of `notes` [N, 3], among
    `candidates` (default: all 24 keys); music.midi.estimate_key does the work."""
    key = estimate_music_key(notes[:, 0], weights=notes[:, 2] - notes[:, 1], candidates=candidates)
    return key.tonic, key.mode


@contextmanager
def _quiet_fds():
    """symusic's C++ ABC reader prints a warning per irregular bar straight to fds 1 and 2."""
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (devnull, *saved):
            os.close(fd)


def _mark_first_bar_line(body: str) -> str:
    """Put an inline tempo field (Q: 1/4 = 7, a tempo no tune uses) just before the first bar
    line of the music. abc2midi writes the tempo event at the end of the first bar, trailing
    rests and tuplets included, so the tune is parsed once and still yields its first bar's
    length. Bar lines that open the music (|:, [|) do not count."""
    lines, started = body.split("\n"), False
    for i, line in enumerate(lines):
        if not line.strip() or re.match(r"[A-Za-z]:|%", line):
            continue
        pos = 0 if started else re.match(r"(\s|\[\||\|\]|\||:)*", line).end()
        started = True
        bar = re.compile(r"[:\[]*\|").search(line, pos)
        if bar:
            lines[i] = line[: bar.start()] + FIRST_BAR_MARK + line[bar.start() :]
            break
    return "\n".join(lines)


def _notes_of(score, step_ticks: float, counts: Counter) -> np.ndarray | None:
    """Quantized skyline line [N, 3] (pitch, start, end), or None when the tune is polyphonic
    or off the grid (the reason is counted)."""
    tracks = [t.notes.numpy() for t in score.tracks if len(t.notes)]
    if len(tracks) != 1:
        counts["skipped: several voices" if tracks else "skipped: fewer than 8 notes"] += 1
        return None
    raw = tracks[0]
    order = np.lexsort((-raw["pitch"], raw["time"]))
    start = raw["time"][order] / step_ticks  # [N] float steps
    end = (raw["time"] + raw["duration"])[order] / step_ticks
    pitch = raw["pitch"][order].astype(np.int64)
    chord = np.r_[False, np.diff(start) < 0.1]  # sounds with the note before (abc2midi staggers chord notes by 10 ticks)
    if chord.sum() > MAX_CHORD_ONSETS * (~chord).sum():
        counts["skipped: polyphonic"] += 1
        return None
    on_grid = np.abs(start - np.round(start)) < 0.1  # symusic starts notes 1 tick late
    triplet = ~on_grid & (np.abs(3 * start - np.round(3 * start)) < 0.1)
    if np.sum(~on_grid & ~triplet) > MAX_OFF_GRID * len(start):
        counts["skipped: off the 16th grid"] += 1
        return None
    s, e = np.round(start).astype(np.int64), np.round(end).astype(np.int64)
    order = np.lexsort((-pitch, s))  # skyline: by step, highest pitch first
    s, e, pitch = s[order], np.maximum(e[order], s[order] + 1), pitch[order]
    first = np.r_[True, s[1:] != s[:-1]]
    counts["notes moved by quantizing"] += int(np.sum(~on_grid))
    counts["notes moved by quantizing: triplets"] += int(np.sum(triplet))
    counts["notes dropped: lower notes of chords"] += int(chord.sum())
    counts["notes dropped: quantized onto an occupied step"] += int(np.sum(~first) - chord.sum())
    nxt = np.r_[s[first][1:], np.iinfo(np.int64).max]
    return np.stack([pitch[first], s[first], np.minimum(e[first], nxt)], axis=1)  # cut at the next onset


def parse_tune(abc: str, tune_id: str, collection: str, counts: Counter) -> Tune | None:
    """One ABC tune -> Tune, or None with the reason counted in `counts`."""
    import symusic

    head, body = _head_and_body(abc)
    meter_fields = re.findall(r"(?m)^M:\s*(\S*)", head)  # the tune's own M: overrides the file header's
    if meter_fields and not re.match(r"(C\|?|\d+/\d+)$", meter_fields[-1].split("%")[0]):
        counts["skipped: no or free meter"] += 1  # M:none, M:FREI4/4
        return None
    body = _clean_body(body)
    try:
        with _quiet_fds():
            score = symusic.Score.from_abc(head + _mark_first_bar_line(body))
    except Exception:
        counts["skipped: parse error"] += 1
        return None
    meters = {(int(t.numerator), int(t.denominator)) for t in score.time_signatures} or {(4, 4)}
    if len(meters) > 1:
        counts["skipped: meter change"] += 1
        return None
    meter, factor = normal_meter(*meters.pop())
    step_ticks = score.ticks_per_quarter / 4 * factor  # one 16th step of the normalized meter
    notes = _notes_of(score, step_ticks, counts)
    if notes is None:
        return None
    if len(notes) < MIN_NOTES:
        counts["skipped: fewer than 8 notes"] += 1
        return None
    spb = meter[0] * 16 // meter[1]
    marks = [t.time for t in score.tempos if abs(t.qpm - 7) < 0.01]
    pickup = round(min(marks) / step_ticks) if marks else 0  # length of the first bar
    pickup = pickup if 0 < pickup < spb else 0
    if pickup:
        notes[:, 1:] += spb - pickup
    tonic, mode = abc_key(head)
    if tonic is None:
        tonic, mode = estimate_key(notes)
        counts["keys estimated"] += 1
    elif collection == "essenFolksong" and not re.search(r"(?m)^K:\s*[A-G][#b]?[ \t]*[a-zA-Z]", head):
        # The Essen ABC spells every accidental out and its bare K: letter names a major key
        # the tune may only borrow: Hildebrandslied (K: G, _B throughout) is in G minor,
        # Hassler's Liebeslied (K: F) in D minor. Choose among the three readings.
        tonic, mode = estimate_key(notes, [(tonic, "major"), (tonic, "minor"), ((tonic - 3) % 12, "minor")])
        counts["keys read from K: letter + profile (essen)"] += 1
    return Tune(tune_id, collection, STYLES[collection], meter, (tonic, mode), pickup, notes.astype(np.int16))


def _folk_cache(cache_dir: Path, limit_files: int | None) -> Path:
    return Path(cache_dir) / f"{CORPUS_VERSION}-music21-{metadata.version('music21')}-{limit_files or 'all'}.pkl"


def load_folk_tunes_with_skips(cache_dir: Path = Path("var/cache"), limit_files: int | None = None, progress: bool = True) -> tuple[list[Tune], dict]:
    """(tunes, counts): counts holds tunes seen, skipped by reason, quantization and key counts,
    and the parse time. Cached; `limit_files` parses only the first N files (quick runs, tests)."""
    cache = _folk_cache(cache_dir, limit_files)
    if cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    files = [(c, p) for c in STYLES for p in sorted((corpus_root() / c).glob("*.abc"))][:limit_files]
    tunes, counts = [], Counter()
    started = time.monotonic()
    # a file per task on every core, results in file order: the same tunes and ids as one by one
    with ProcessPoolExecutor(max(1, min(os.cpu_count() or 1, len(files)))) as pool:
        for parsed, counted in tqdm(pool.map(_parse_file, files), total=len(files), desc="folk corpus", unit="file", disable=not progress):
            tunes += parsed
            counts.update(counted)
    counts = dict(sorted(counts.items()))
    counts["parse seconds"] = round(time.monotonic() - started, 1)
    _dump(cache, (tunes, counts))
    return tunes, counts


def _parse_file(job: tuple[str, Path]) -> tuple[list[Tune], Counter]:
    """The tunes of one ABC file that pass the filters, and its counts."""
    collection, path = job
    tunes, counts = [], Counter()
    for i, abc in enumerate(split_abc(path.read_text(encoding="utf-8", errors="replace"))):
        counts["tunes seen"] += 1
        tune = parse_tune(abc, f"{collection}/{path.stem}/{i}", collection, counts)
        if tune is not None:
            tunes.append(tune)
    return tunes, counts


def load_folk_tunes(cache_dir: Path = Path("var/cache"), limit_files: int | None = None, progress: bool = True) -> list[Tune]:
    """All folk tunes that pass the filters (cached; see the module docstring)."""
    return load_folk_tunes_with_skips(cache_dir, limit_files, progress)[0]


def _dump(path: Path, obj) -> None:
    """Write via a temporary file, so an interrupted run never leaves a truncated cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with tmp.open("wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def corpus_stats(tunes: list[Tune], skipped: dict | None = None) -> dict:
    """Counts per collection, style, meter, mode and split; notes; and, given the counts from
    `load_folk_tunes_with_skips`, the tunes skipped by reason."""
    stats = {
        "tunes": len(tunes),
        "notes": int(sum(len(t.notes) for t in tunes)),
        "with_pickup": sum(t.pickup_steps > 0 for t in tunes),
        "by_collection": dict(Counter(t.collection for t in tunes).most_common()),
        "by_style": dict(Counter(t.style for t in tunes).most_common()),
        "by_meter": {f"{a}/{b}": n for (a, b), n in Counter(t.meter for t in tunes).most_common()},
        "by_mode": dict(Counter(t.key[1] for t in tunes).most_common()),
        "by_split": dict(Counter(split_of(t.tune_id) for t in tunes).most_common()),
    }
    if skipped is not None:
        stats["skipped"] = {k.removeprefix("skipped: "): v for k, v in skipped.items() if k.startswith("skipped: ")}
        stats["processing"] = {k: v for k, v in skipped.items() if not k.startswith("skipped: ")}
    return stats


# What each collection is, from its own files: its B:/S: source fields and header comments. Only
# essenFolksong has a licence file; the others fall under music21's corpus-wide corpus/license.txt.
SOURCES = {
    "essenFolksong": "Essen Folksong Collection (EsAC), encoded under Helmut Schaffrath, continued by Ewa Dahlig-Turek; ABC conversion by Seymour Schlien",
    "oneills1850": "Francis O'Neill, 'The Music of Ireland: 1850 Melodies' (Chicago, 1903); ABC by volunteers named in Z: fields (Norbeck, Safranek, Chambers, Petersen, ...)",
    "ryansMammoth": "'Ryan's Mammoth Collection' (Boston, 1883); ABC by volunteers named in Z: fields (Ray Davies, John Chambers, ...)",
    "airdsAirs": "James Aird, 'A Selection of Scotch, English, Irish and Foreign Airs' (Glasgow, 1778-1803), books 1-6; ABC by Jack Campin (2009)",
    "miscFolk": "Bruce & Stokoe, 'Northumbrian Minstrelsy' (1882), and colonial / Civil War American fife music; ABC by Jack Campin",
}


def _stated(collection: str) -> dict:
    """What the corpus folder itself says: its licence file if it has one, and the comment
    header of its first ABC file."""
    folder = corpus_root() / collection
    licence = folder / "license.txt"
    text = " ".join(line for line in licence.read_text(errors="replace").splitlines() if not line.startswith("#")) if licence.exists() else ""
    first = sorted(folder.glob("*.abc"))[0].read_text(errors="replace").split("\nX:", 1)[0]
    header = " ".join(line.strip("% ") for line in first.splitlines() if line.startswith("%") and line.strip("%=- "))
    return {
        "licence_file": f"music21/corpus/{collection}/license.txt" if text else None,
        "stated_in_corpus": " ".join(text.split()) or "no licence file in the folder: music21's corpus/license.txt applies",
        "file_header": " ".join(header.split())[:400] or None,
    }


def provenance(tunes: list[Tune], skipped: dict | None = None) -> dict:
    """JSON-ready record of where the training tunes come from, on what terms, and how many of
    each collection were used; written next to a checkpoint."""
    used = Counter(t.collection for t in tunes)
    corpus_text = (corpus_root() / "license.txt").read_text(errors="replace").split("You may have")[0]
    collections = {c: {"style": style, "origin": SOURCES[c], **_stated(c), "tunes_used": used.get(c, 0)} for c, style in STYLES.items()}
    for info in collections.values():
        info["non_commercial"] = bool(re.search(r"non-commercial", info["stated_in_corpus"], re.I))
    return {
        "corpus": f"music21 {metadata.version('music21')} corpus, shipped inside the music21 wheel",
        "corpus_licence": " ".join(" ".join(line for line in corpus_text.splitlines() if not line.startswith("#")).split()),
        "corpus_version": CORPUS_VERSION,
        "non_commercial_collections": [c for c, info in collections.items() if info["non_commercial"]],
        "collections": collections,
        "stats": corpus_stats(tunes, skipped),
    }


# ---- Bach chorales: one chord and one soprano pitch class per beat, for the harmonizer ---------

CHORALE_VERSION = "chorales-v1"
QUALITIES = {"major": "maj", "minor": "min", "diminished": "dim", "augmented": "aug"}
VOICES = ("Soprano", "Alto", "Tenor", "Bass")


@dataclass(frozen=True)
class ChoraleChords:
    chorale_id: str  # file stem in music21's corpus, e.g. "bwv1.6"
    key: tuple[int, str]  # (tonic pitch class, "major" | "minor"), Krumhansl-Schmuckler over the four voices
    beats_per_bar: int
    pickup_beats: int  # beats before the first full bar, 0 if none
    chords: list[tuple[int, str]]  # [B] per beat: (root pitch class - tonic) % 12, "maj" | "min" | "dim" | "aug"
    soprano: np.ndarray  # [B] int8: (soprano pitch class - tonic) % 12 at the beat, -1 where the soprano rests
    carried_beats: int  # beats whose sonority was no triad (passing tones, open fifths) and kept the previous chord


def _vocal_parts(score) -> list | None:
    """The four voices, soprano first: parts named Soprano/Alto/Tenor/Bass (many chorales add
    horns, trumpets or a continuo), or the only four parts of an unlabelled score."""
    named = {v: [p for p in score.parts if (p.partName or "").splitlines()[0:1] == [v]] for v in VOICES}
    if all(len(found) == 1 for found in named.values()):
        return [named[v][0] for v in VOICES]
    return list(score.parts) if len(score.parts) == 4 else None


def _sounding_at(elements: list, offsets: np.ndarray) -> list:
    """For each offset, the element of a flat, sorted, gapless stream sounding there."""
    starts = np.array([float(e.offset) for e in elements])
    return [elements[i] for i in np.maximum(np.searchsorted(starts, offsets, side="right") - 1, 0)]


def chorale_chords(score, chorale_id: str) -> ChoraleChords | None:
    """Chordify the four voices and read, at each beat onset, the sonority sounding there: its
    root and triad quality (music21 reduces sevenths to their triad); anything else (a passing
    tone on the beat, an open fifth, a rest) keeps the previous chord."""
    import music21

    parts = _vocal_parts(score)
    if parts is None:
        return None
    voices = music21.stream.Score(parts)
    key = voices.analyze("key")
    tonic = key.tonic.pitchClass
    ts = voices.recurse().getElementsByClass("TimeSignature").first() or music21.meter.TimeSignature("4/4")
    beat = float(ts.beatDuration.quarterLength)
    first_bar = parts[0].getElementsByClass("Measure").first()
    pickup = round(first_bar.duration.quarterLength / beat) if first_bar.duration.quarterLength < ts.barDuration.quarterLength else 0
    offsets = np.arange(0.0, float(voices.highestTime), beat)  # [B]
    sonorities = _sounding_at(list(voices.chordify().flatten().notesAndRests), offsets)
    top = _sounding_at(list(parts[0].flatten().notesAndRests), offsets)
    chords, carried = [], 0
    for sonority in sonorities:
        quality = QUALITIES.get(sonority.quality) if sonority.isChord and len(set(sonority.pitchClasses)) >= 2 else None
        if quality is None:
            carried += 1
            chords.append(chords[-1] if chords else None)
        else:
            chords.append(((sonority.root().pitchClass - tonic) % 12, quality))
    first = next((c for c in chords if c is not None), None)
    if first is None:
        return None
    chords = [c or first for c in chords]  # a chorale opening on a non-triad takes its first triad
    soprano = np.array([(n.pitch.pitchClass - tonic) % 12 if n.isNote else -1 for n in top], dtype=np.int8)
    return ChoraleChords(chorale_id, (tonic, key.mode), int(ts.beatCount), pickup, chords, soprano, carried)


def load_chorale_chords(cache_dir: Path = Path("var/cache"), limit: int | None = None) -> list[ChoraleChords]:
    """Every four-voice Bach chorale of the music21 corpus (composer 'bach': MusicXML, plus
    Humdrum where no MusicXML of the same chorale exists; Roman-numeral analyses excluded),
    read one beat at a time. Parsing all ~400 takes a few minutes, hence the cache."""
    cache = Path(cache_dir) / f"{CHORALE_VERSION}-music21-{metadata.version('music21')}-{limit or 'all'}.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    import music21
    from tqdm import tqdm

    by_stem = {}
    for path in sorted(music21.corpus.getComposer("bach"), key=lambda p: p.suffix != ".mxl"):
        if path.suffix in (".mxl", ".xml", ".krn"):
            by_stem.setdefault(path.stem, path)
    paths = sorted(by_stem.values(), key=lambda p: p.name)[:limit]
    chorales = []
    for path in tqdm(paths, desc="chorales", unit="file"):
        found = chorale_chords(music21.corpus.parse(path), path.stem)
        if found is not None:
            chorales.append(found)
    _dump(cache, chorales)
    return chorales


# ---- drums: 2-bar grooves rendered from Debian's mma library ---------------------------------
