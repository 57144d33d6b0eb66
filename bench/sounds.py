"""The page's sampled instruments (music/note_samples.py, music/sampler.py, game_server/sounds.py,
web_client/src/audio.js): how dense a pitch grid, what it costs, and how close the page's playback
comes to FluidSynth's render of the same piece. docs/performance.md (2026-12-05) has the figures.

Run: `.venv/bin/python -m bench.sounds [pieces] [only_pieces]` (needs Debian's libfluidsynth3 and
fluid-soundfont-gm: `make run` installs them; ~3 minutes, `only_pieces` 1 skips to the last part).
On one thread it prints:
  - the velocity curve: a note's level at velocities 30..127 against 40·log10(v / 100) dB
  - grid density: a note played from a sample k semitones away, repitched as the page does
    (linear interpolation, as Chromium's AudioBufferSourceNode), against the note rendered
    directly, over 8 programs and pitches 36..84: the third-octave distance (dB, bands within
    40 dB of the loudest) of the first second; and its mean for grids every 1..12 semitones
  - every sample of the 128 programs (at every grid note) and of the 8 kits: its render and Ogg
    encode time (a first request's), its Ogg size, its peak (LEVEL's headroom)
  - for `pieces` 8-bar pieces the composer writes (4/4 and 6/8, the default instruments): the
    samples a page loads for one (count, KiB), and how close the page's mix (music/sampler.py)
    comes to FluidSynth's render of the whole piece, both on the samples' scale: their level
    ratio and third-octave distance, for the piece and its four 2-bar clips; and how much louder
    a clip would be as FluidSynth's peak-normalised render (why heard-only clips are mixed from
    the samples instead)
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from music import Chord, Piece, concatenate, note_samples, sampled, sampler, slice_piece
from music.sampler import repitched

RATE = sampled.SAMPLE_RATE
PROGRAMS = {0: "piano", 24: "nylon guitar", 33: "finger bass", 40: "violin", 48: "strings", 56: "trumpet", 73: "flute", 19: "church organ"}
STEPS = (1, 2, 3, 4, 6, 12)


def bands(samples: np.ndarray) -> np.ndarray:
    """Energy in third-octave bands from 50 Hz to 16 kHz, dB."""
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    edges = 50 * 2 ** np.arange(0, 8.4, 1 / 3)
    return 10 * np.log10(np.array([power[(freqs >= a) & (freqs < b)].sum() for a, b in zip(edges, edges[1:])]) + 1e-20)


def distance(test: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute difference of the band energies (dB), over the bands within 40 dB of truth's loudest."""
    a, b = bands(test), bands(truth)
    heard = b > b.max() - 40
    return float(np.abs(a - b)[heard].mean())


def grid_density() -> None:
    direct = {(p, pitch): note_samples.rendered_note(p, pitch)[:RATE] for p in PROGRAMS for pitch in range(24, 97)}
    # a note the SoundFont has no sound for (the finger bass above 84, the violin's 94) is left out
    direct = {key: samples for key, samples in direct.items() if np.abs(samples).max() > 1e-3}
    print("grid density: a note played from a sample k semitones away, repitched, against the note rendered directly")
    print("  (first second, third-octave distance in dB, 8 programs, pitches 36..84)")
    for shift in (1, 2, 3, 6):
        found = sorted(
            distance(repitched(direct[(p, pitch - by)], by), direct[(p, pitch)])
            for p in PROGRAMS
            for pitch in range(36, 85)
            for by in (shift, -shift)
            if (p, pitch - by) in direct and (p, pitch) in direct
        )
        print(f"  {shift} semitone{'s' if shift > 1 else ''} away: p50 {statistics.median(found):.2f}, p90 {found[int(0.9 * len(found))]:.2f}, max {found[-1]:.2f}")
    for step in STEPS:
        grid = list(range(24, 97, step))
        found = []
        for p in PROGRAMS:
            for pitch in range(36, 85):
                source = note_samples.nearest_grid_note(pitch) if step == note_samples.GRID_STEP else min(grid, key=lambda g: (abs(g - pitch), g))
                if (p, source) in direct and (p, pitch) in direct:
                    found.append(distance(repitched(direct[(p, source)], pitch - source), direct[(p, pitch)]))
        print(f"  a grid every {step:2d} semitones ({len(grid):2d} samples a program): mean over all pitches {statistics.mean(found):.2f}, p90 {sorted(found)[int(0.9 * len(found))]:.2f}")


def velocity_curve() -> None:
    def level(v):
        return 20 * np.log10(np.sqrt(np.mean(note_samples.rendered_note(0, 60, velocity=v)[:RATE] ** 2)))

    at100 = level(100)
    print("velocity: level re velocity 100 (piano C4), against 40·log10(v / 100):", ", ".join(f"{v} {level(v) - at100:+.1f} ({40 * np.log10(v / 100):+.1f})" for v in (30, 50, 70, 85, 110, 127)))


def every_sample() -> dict:
    """All samples: {("program", p, note) or ("kit", k, drum): (samples, ogg bytes)}; prints peaks, times, sizes."""
    made, render_ms, encode_ms, peaks = {}, [], [], []
    jobs = [("program", p, n) for p in range(128) for n in note_samples.GRID_NOTES] + [("kit", k, d) for k in note_samples.DRUM_KITS for d in note_samples.DRUMS]
    for job in jobs:
        started = time.perf_counter()
        samples = note_samples.note_sample(job[1], job[2]) if job[0] == "program" else note_samples.drum_sample(job[1], job[2])
        rendered = time.perf_counter()
        ogg = sampled.to_ogg(samples)
        render_ms.append((rendered - started) * 1e3)
        encode_ms.append((time.perf_counter() - rendered) * 1e3)
        peaks.append((float(np.abs(samples).max()), job))
        made[job] = (samples, len(ogg))
    peaks.sort()
    sizes = sorted(size for _, size in made.values())
    p = lambda xs, q: sorted(xs)[int(q * (len(xs) - 1))]  # noqa: E731
    print(
        f"{len(jobs)} samples: render p50 {statistics.median(render_ms):.0f} ms p99 {p(render_ms, 0.99):.0f} ms, Ogg encode p50 {statistics.median(encode_ms):.0f} ms "
        f"p99 {p(encode_ms, 0.99):.0f} ms; size p50 {statistics.median(sizes) / 1024:.1f} KiB, max {sizes[-1] / 1024:.1f} KiB, all {sum(sizes) / 2**20:.1f} MiB"
    )
    print(f"  peaks at LEVEL {note_samples.LEVEL}: p50 {peaks[len(peaks) // 2][0]:.2f}, loudest {peaks[-3:]}")
    return made


def rendered_at_page_scale(piece: Piece) -> np.ndarray:
    """FluidSynth's render of the piece, mono, on the samples' scale: the reference chord played
    two bars before it (the piece's own chords and bass programs must be the reference's)."""
    assert (piece.instruments.chords, piece.instruments.bass) == (note_samples.REFERENCE.chords, note_samples.REFERENCE.bass)
    lead = Piece(tempo=piece.tempo, meter=piece.meter, key=piece.key, bars=2, chords=(Chord(0, note_samples.REFERENCE_STEPS, 0, "maj"),), instruments=piece.instruments)
    out = note_samples.mono(sampled.render(concatenate([lead, piece])))
    start = round(lead.duration_seconds * RATE)
    return out[start:] * np.float32(note_samples.LEVEL / np.abs(out[:start]).max())


def pieces_compared(made: dict, count: int) -> None:
    from models.composer import default_composer

    composer = default_composer()
    loads, kib, levels, dists, clip_levels, clip_dists, heard_gain = [], [], [], [], [], [], []
    for seed in range(count):
        piece = composer.compose(bars=8, meter=("4/4", "6/8")[seed % 2], seed=seed)
        needed = sampler.needed(piece)
        loads.append(len(needed))
        kib.append(sum(made[job][1] for job in needed) / 1024)
        for whole, part in [(True, piece), *((False, clip) for clip in slice_piece(piece, 4))]:
            page = sampler.mix(part, lambda job: made[job][0], part.duration_seconds + sampled.TAIL_SECONDS) / np.float32(sampler.PAGE_GAIN)
            truth = rendered_at_page_scale(part)
            n = min(len(page), len(truth))
            level = 20 * np.log10(np.sqrt(np.mean(page[:n] ** 2)) / np.sqrt(np.mean(truth[:n] ** 2)))
            (levels if whole else clip_levels).append(level)
            (dists if whole else clip_dists).append(distance(page[:n], truth[:n]))
            if whole:
                peak_page = float(np.abs(page).max())
            else:  # the clip as FluidSynth's whole render, peak-normalised (the download's way), mono, its length
                heard = note_samples.mono(sampled.render(part))[: round(part.duration_seconds * RATE)]
                heard_gain.append(20 * np.log10(np.sqrt(np.mean(heard**2)) / np.sqrt(np.mean(page[: len(heard)] ** 2)) / sampler.PAGE_GAIN))
        print(f"  seed {seed}: {len(needed)} samples {kib[-1]:.0f} KiB, page/render level {levels[-1]:+.2f} dB, distance {dists[-1]:.2f} dB, page peak {peak_page:.2f}")
    q = lambda xs: f"median {statistics.median(xs):+.2f}, {min(xs):+.2f} .. {max(xs):+.2f}"  # noqa: E731
    print(f"a piece's samples: {statistics.median(loads):.0f} ({min(loads)}..{max(loads)}), {statistics.median(kib):.0f} KiB ({min(kib):.0f}..{max(kib):.0f})")
    print(f"page mix against FluidSynth's render, whole pieces: level {q(levels)} dB; distance {q(dists)} dB")
    print(f"                                   Sort's 2-bar clips: level {q(clip_levels)} dB; distance {q(clip_dists)} dB")
    print(f"a heard-only clip rendered whole by FluidSynth (peak-normalised) over the page's mix: {q(heard_gain)} dB")


class Made(dict):
    """Samples made when first asked for: {job: (samples, ogg bytes)}."""

    def __missing__(self, job):
        samples = note_samples.note_sample(job[1], job[2]) if job[0] == "program" else note_samples.drum_sample(job[1], job[2])
        self[job] = (samples, len(sampled.to_ogg(samples)))
        return self[job]


def main(count: int = 10, only_pieces: int = 0) -> None:
    started = time.perf_counter()
    sampled.load()
    print(f"SoundFont loaded in {(time.perf_counter() - started) * 1e3:.0f} ms ({sampled.engine_name()})")
    if not only_pieces:
        velocity_curve()
        grid_density()
    made = Made() if only_pieces else Made(every_sample())
    pieces_compared(made, count)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
