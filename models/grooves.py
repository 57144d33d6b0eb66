"""Drum patterns for the drum VAE, rendered from Debian's `mma` groove library.

mma (Musical MIDI Accompaniment) ships ~1,100 grooves in /usr/share/mma/lib/stdlib. For each
library file we write one .mma script that plays every groove it defines for 4 bars of a C
chord, render it to MIDI with the `mma` command, and cut the drum channel back into grooves.
Bars 2-3 of each groove (bar 1 may hold an intro fill) become a 2-bar pattern on the 16th grid:
[32, 9] for 4-beat grooves, [24, 9] for 3-beat (waltz) grooves, in the 9 classes of
music.DRUM_CLASSES. Exact duplicates are dropped. Needed for training only; the
result is cached under var/cache.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from music import DRUM_CLASSES, GM_DRUM_CLASSES

VERSION = 1
LIBRARY = Path("/usr/share/mma/lib/stdlib")
TEMPO = 120  # quarter notes a minute: a 16th step is 0.125 s
BARS_PER_GROOVE = 4


def _mma() -> str:
    path = shutil.which("mma")
    if path is None:
        raise RuntimeError("the `mma` command is missing: install Debian's mma package (apt-get install mma) to render drum grooves")
    return path


def _mma_version() -> str:
    out = subprocess.run([_mma(), "-v"], capture_output=True, text=True, timeout=30).stdout.strip().splitlines()
    return out[-1] if out else "unknown"


def grooves_in(library_file: Path) -> list[tuple[str, int]]:
    """(groove name, beats per bar) for each DefGroove in a library file, with the `Time` in
    force where it is defined. Only 3- and 4-beat grooves are kept."""
    beats, found = 4, []
    for line in library_file.read_text(errors="replace").splitlines():
        time = re.match(r"^\s*Time\s+(\d+)", line, re.I)
        if time:
            beats = int(time.group(1))
        groove = re.match(r"^\s*DefGroove\s+(\S+)", line, re.I)
        if groove and beats in (3, 4):
            found.append((groove.group(1), beats))
    return found


def render(library_file: Path, workdir: Path) -> list[np.ndarray]:
    """The 2-bar patterns of every groove in one library file."""
    import pretty_midi

    grooves = grooves_in(library_file)
    if not grooves:
        return []
    script = [f"Tempo {TEMPO}"]
    for name, beats in grooves:
        script += [f"Time {beats}", f"Groove {name}"] + [f"{bar} C" for bar in range(1, BARS_PER_GROOVE + 1)]
    source, midi = workdir / f"{library_file.stem}.mma", workdir / f"{library_file.stem}.mid"
    source.write_text("\n".join(script) + "\n")
    subprocess.run([_mma(), str(source), "-f", str(midi)], capture_output=True, text=True, timeout=120)
    if not midi.exists():
        return []
    hits = [(n.start, GM_DRUM_CLASSES.get(n.pitch)) for inst in pretty_midi.PrettyMIDI(str(midi)).instruments if inst.is_drum for n in inst.notes]
    step_seconds = 60.0 / TEMPO / 4
    patterns, start_step = [], 0
    for _, beats in grooves:
        steps_per_bar = beats * 4
        lo = start_step + steps_per_bar  # bars 2-3
        pattern = np.zeros((2 * steps_per_bar, len(DRUM_CLASSES)), dtype=np.uint8)
        for seconds, cls in hits:
            step = int(round(seconds / step_seconds))
            if cls is not None and lo <= step < lo + 2 * steps_per_bar:
                pattern[step - lo, DRUM_CLASSES.index(cls)] = 1
        if pattern.any():
            patterns.append(pattern)
        start_step += BARS_PER_GROOVE * steps_per_bar
    return patterns


def load_mma_drum_patterns(cache_dir: Path = Path("var/cache")) -> dict[int, np.ndarray]:
    """{16: [M16, 32, 9], 12: [M12, 24, 9]} uint8, distinct patterns; cached."""
    version = re.sub(r"[^0-9A-Za-z.]", "", _mma_version())
    cache = Path(cache_dir) / f"mma-grooves-v{VERSION}-{version}.npz"
    if cache.exists():
        with np.load(cache) as data:
            return {int(k): data[k] for k in data.files}
    from tqdm import tqdm

    by_grid: dict[int, dict[bytes, np.ndarray]] = {16: {}, 12: {}}
    with tempfile.TemporaryDirectory() as tmp:
        for library_file in tqdm(sorted(LIBRARY.glob("*.mma")), desc="mma grooves", unit="file"):
            for pattern in render(library_file, Path(tmp)):
                grid = pattern.shape[0] // 2
                by_grid[grid].setdefault(pattern.tobytes(), pattern)
    result = {grid: np.stack(list(found.values())) for grid, found in by_grid.items() if found}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **{str(k): v for k, v in result.items()})
    return result
