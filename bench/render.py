"""How fast a round's piece becomes sound to take home (music/sampled.py), and how big the files are.

Run: `.venv/bin/python -m bench.render` (needs Debian's libfluidsynth3 and fluid-soundfont-gm:
`make run` installs them). On one thread, as the server's render thread is, it prints:
  - the SoundFont's load time (once per process), the RSS it adds, the first render's time
  - render time p50 / p99 of 8-bar and 16-bar pieces the composer writes, 4/4 and 6/8 at their
    own tempi                                               (target 8 bars p50 <= 0.3 s)
  - WAV and Ogg Vorbis encode times and file sizes
  - the process RSS after it all
"""

from __future__ import annotations

import statistics
import time

from bench.composer import rss_mb


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(0.99 * len(ordered)) - 1)]


def main(per_shape: int = 20) -> None:
    from models.composer import default_composer
    from music import sampled

    composer = default_composer()  # pins torch and BLAS to one thread (models/threads.py)
    shapes = {(bars, meter): [composer.compose(bars=bars, meter=meter, seed=seed) for seed in range(per_shape)] for bars in (8, 16) for meter in ("4/4", "6/8")}
    before = rss_mb()
    started = time.perf_counter()
    sampled.load()
    print(f"SoundFont {sampled.SOUNDFONT} loaded in {(time.perf_counter() - started) * 1e3:.0f} ms; +{rss_mb() - before:.0f} MB RSS ({sampled.engine_name()})")

    t = time.perf_counter()
    sampled.render(shapes[(8, "4/4")][0])  # the first: its presets' samples are read from the SoundFont
    print(f"first render (8 bars, samples read on first use): {(time.perf_counter() - t) * 1e3:.0f} ms")
    for bars in (8, 16):
        seconds, lengths, wav_ms, ogg_ms, wav_kb, ogg_kb = [], [], [], [], [], []
        for meter in ("4/4", "6/8"):
            for piece in shapes[(bars, meter)]:
                t = time.perf_counter()
                samples = sampled.render(piece)
                seconds.append(time.perf_counter() - t)
                lengths.append(len(samples) / sampled.SAMPLE_RATE)
                t = time.perf_counter()
                wav = sampled.to_wav(samples)
                wav_ms.append((time.perf_counter() - t) * 1e3)
                t = time.perf_counter()
                ogg = sampled.to_ogg(samples)
                ogg_ms.append((time.perf_counter() - t) * 1e3)
                wav_kb.append(len(wav) / 1024)
                ogg_kb.append(len(ogg) / 1024)
        p50, p99 = percentiles(seconds)
        print(f"{bars} bars ({len(seconds)} pieces, {min(lengths):.1f}-{max(lengths):.1f} s of audio with the tail): render p50 {p50 * 1e3:.0f} ms, "
              f"p99 {p99 * 1e3:.0f} ms ({statistics.median(lengths) / p50:.0f}x real time){' (target p50 <= 300 ms)' if bars == 8 else ''}")
        print(f"  WAV: encode p50 {statistics.median(wav_ms):.0f} ms, size median {statistics.median(wav_kb):.0f} KiB (max {max(wav_kb):.0f}); "
              f"OGG: encode p50 {statistics.median(ogg_ms):.0f} ms, size median {statistics.median(ogg_kb):.0f} KiB (max {max(ogg_kb):.0f})")
    print(f"RSS after it all: {rss_mb():.0f} MB (composer and torch included), {rss_mb() - before:+.0f} MB since before the SoundFont")


if __name__ == "__main__":
    main()
