"""How fast the composer writes a round's piece, and how much memory it holds.

Run: `.venv/bin/python -m bench.composer` (after the checkpoints exist; they are committed).
Prints, for a full 8-bar piece (melody + chords + bass + drums, memorization filter included):
  - latency on one thread: p50 / p99 over 200 pieces   (target p50 <= 25 ms, p99 <= 60 ms)
  - batched throughput, batches of 64                  (target >= 300 pieces/s)
  - process RSS with every model loaded                 (target <= 400 MB)
  - checkpoint load time
  - `python -m game_server generate`'s compose time, idle and with every core kept busy by
    other processes                                       (target <= 40 ms a piece)
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import time

import torch


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from models.composer import Composer

    started = time.perf_counter()
    composer = Composer.load()
    load_s = time.perf_counter() - started
    print(f"models loaded in {load_s * 1e3:.0f} ms; RSS {rss_mb():.0f} MB")

    # Composer.load pinned torch and BLAS to one thread each (models/threads.py says why)
    for seed in range(10):  # warm-up
        composer.compose(bars=8, meter="4/4", style="irish", seed=seed)
    samples = []
    for seed in range(200):
        meter = ("4/4", "6/8", "3/4", "2/4")[seed % 4]
        t = time.perf_counter()
        composer.compose(bars=8, meter=meter, style="irish", seed=1000 + seed)
        samples.append((time.perf_counter() - t) * 1e3)
    samples.sort()
    p50, p99 = statistics.median(samples), samples[int(0.99 * len(samples)) - 1]
    print(f"one 8-bar piece, 1 thread: p50 {p50:.1f} ms, p99 {p99:.1f} ms (targets 25 / 60 ms)")

    print(f"torch threads: {torch.get_num_threads()}")
    composer.compose_many(64, bars=8, seed=0)  # warm-up
    total, t = 0, time.perf_counter()
    for seed in range(8):
        total += len(composer.compose_many(64, bars=8, meter=("4/4", "6/8")[seed % 2], seed=seed))
    elapsed = time.perf_counter() - t
    print(f"batched, 1 thread, batches of 64: {total / elapsed:.0f} pieces/s ({total} pieces in {elapsed:.2f} s; target >= 300)")
    print(f"RSS with all models loaded, after generating: {rss_mb():.0f} MB (target <= 400 MB)")


def burn(stop) -> None:
    """Keep one core busy until told to stop (the 'busy machine' of the CLI figure)."""
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def cli_compose_ms(runs: int = 5) -> list[tuple[float, float]]:
    """(wall, CPU) ms of composing as the CLI reports them (after loading), a fresh process each."""
    times = []
    for seed in range(runs):
        result = subprocess.run([sys.executable, "-m", "game_server", "generate", "--bars", "8", "--seed", str(seed), "-o", os.devnull],
                                capture_output=True, text=True, timeout=120, check=True)
        found = re.search(r"composed in (\d+) ms, (\d+) ms of CPU", result.stderr)
        times.append((float(found.group(1)), float(found.group(2))))
    return times


def cli_figures() -> None:
    idle = cli_compose_ms()
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=burn, args=(stop,)) for _ in range(os.cpu_count() or 2)]
    for p in burners:
        p.start()
    try:
        busy = cli_compose_ms()
    finally:
        stop.set()
        for p in burners:
            p.join()
    for label, runs in (("idle", idle), (f"{len(burners)} busy processes", busy)):
        wall, cpu = zip(*runs)
        print(f"CLI generate, {label}: compose CPU median {statistics.median(cpu):.0f} ms (max {max(cpu):.0f}; target <= 40 ms), "
              f"wall median {statistics.median(wall):.0f} ms (max {max(wall):.0f})")


if __name__ == "__main__":
    main()
    cli_figures()
