"""A composer line's child processes, watched: a call that does not answer within its deadline, or
a child that died, gets the line's children killed and new ones started at once; while they load
the line says it is down, so that a round start is refused at once instead of waiting on it.

Why: a frozen child (SIGSTOP, a deadlock, a machine swapping) was never noticed, and every round
start waited out the pool's 10 s and was told `composer_busy` for as long as it hung; a killed
one was replaced only at the next call, and its successor took 8-10 s to load torch and the
models while every start failed. A child cannot be asked to stop a call, only killed, so the
watch is by deadline: long enough that a slow machine is never taken for a frozen child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from models.threads import one_thread_each

log = logging.getLogger("game_server.composer")


class ComposerUnavailable(RuntimeError):
    """The line has no working child (frozen, dead, or its replacement still loading): try again
    in a few seconds."""


@dataclass(frozen=True)
class Deadlines:
    """Seconds a composer child may take before it is judged frozen, and why these.

    Measured on this 2-core machine (shared, one thread at nice 10): the slowest quick call was a
    morph path of 10 clips, 0.47 s (a batch of 24 8-bar pieces 0.26 s, of 24 16-bar pieces
    0.35 s); the slowest slow call a batch of two proven Run levels of 16 bars (rung 4), 2.6 s,
    rungs 0-1 under 1 s (a proof is 0.3-0.9 s of CPU, docs/performance.md). A deadline counts
    the seconds a call's child is stopped (neither running nor waiting for a CPU: frozen,
    deadlocked, hung) or computing, not the seconds it waits in a run queue (`CallWatch`): a
    child starved by busier processes is slow, not stopped, however long it waits (a loaded
    child composes only on CPU time nobody else wants, `run_in_background`). Each is about ten
    times the slowest call, 5 s quick and 30 s slow (for the default POOL_DEPTH: a refill batch
    grows with it, and the quick deadline should too). Loading (spawn, torch, the checkpoints) took 3.4 s on a quiet
    machine and 8-10 s under load: `load` 60 s, by the clock. An idle line asks its child every
    `idle_check` s whether it still answers (a ping computes nothing: the quick deadline), so
    that a child that died or froze between calls is found without waiting for a round start
    to need it.
    """

    quick: float = 5.0
    slow: float = 30.0
    load: float = 60.0
    idle_check: float = 2.0

    def __post_init__(self):
        if min(self.quick, self.slow, self.load, self.idle_check) <= 0:
            raise ValueError(f"composer deadlines are seconds above 0, got {self}")


class WatchedProcesses:
    """`processes` children that run a line's calls, loaded with `prepare()` as soon as they start
    (before any call needs them). One line per replacement in the log, at ERROR, and one at INFO
    when the new children are ready."""

    def __init__(self, name: str, processes: int, deadline: float, deadlines: Deadlines, initializer: Callable[[int], None], prepare: Callable[[], None] | None = None):
        self.name, self.processes, self.deadline, self.deadlines = name, processes, deadline, deadlines
        self._initializer, self._prepare = initializer, prepare
        self._lock = threading.Lock()
        self._in_flight = 0
        self._closed = False
        self.replacements = 0  # how many times the children were replaced
        self._start(why=None)

    def _start(self, why: str | None) -> None:
        # spawn, not fork: the server has threads, and a forked copy of their locks can deadlock
        self._executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=self._initializer, initargs=(os.getpid(),))
        self._since, self._why, self._announced = time.monotonic(), why, False
        # one load a child: each submit finds no idle child and spawns another
        self._loads: list[Future] = [self._executor.submit(_load, self._prepare) for _ in range(self.processes)]

    def up(self) -> bool:
        """Every child has loaded and none has been found frozen or dead since."""
        return all(f.done() and not f.cancelled() and f.exception() is None for f in self._loads)

    def problem(self) -> str | None:
        """Why the line cannot compose now (None: it can), for /readyz and the refusal's log."""
        if self.up():
            return None
        waited = time.monotonic() - self._since
        if self._why is None:
            return f"the {self.name} line's process is loading ({waited:.0f} s)"
        return f"the {self.name} line's process {self._why}; a new one is loading ({waited:.0f} s)"

    def pids(self) -> list[int]:
        return sorted(_processes_of(self._executor))

    def call(self, fn, *args, deadline: float | None = None):
        """fn(*args) in a child; ComposerUnavailable at once if the children are not up, or once
        they have been replaced because the call outlived its deadline (`CallWatch`) or a child
        died (found by this call, or by the idle check on another thread, which cancels the calls
        in flight)."""
        with self._lock:
            if not self.up():
                raise ComposerUnavailable(self.problem())
            executor = self._executor
            self._in_flight += 1
        deadline = deadline or self.deadline
        try:
            try:
                future = executor.submit(fn, *args)
            except BrokenProcessPool:
                raise  # a child died while idle: replaced below
            except RuntimeError:  # replaced or closed by another thread since: no call was made
                raise ComposerUnavailable(self.problem() or f"{self.name}: its composer processes were replaced") from None
            watch, left = CallWatch(self.pids()), deadline
            while True:
                try:
                    return future.result(timeout=min(left, CallWatch.POLL))
                except FutureTimeout:
                    left = watch.left(deadline)
                    if left <= 0:
                        raise
        except FutureTimeout:
            self._replace(executor, f"did not answer within {deadline:g} s")
        except BrokenProcessPool:
            self._replace(executor, "died")
        except CancelledError:  # another thread found the children dead and replaced them
            pass
        finally:
            with self._lock:
                self._in_flight -= 1
        raise ComposerUnavailable(self.problem())

    def settle(self, timeout: float) -> bool:
        """For the line's worker, between its steps: wait up to `timeout` for children that are
        loading, replace them if they failed to load or outlasted the load deadline. True when
        the children are up."""
        executor, loads = self._executor, self._loads
        wait(loads, timeout=timeout)
        if self._closed:
            return False
        if all(f.done() for f in loads):
            failures = [f.exception() for f in loads if not f.cancelled() and f.exception() is not None]
            if not failures and not any(f.cancelled() for f in loads):
                self._announce_ready(loads)
                return True
            self._replace(executor, f"failed to load ({failures[0]!r})" if failures and not isinstance(failures[0], BrokenProcessPool) else "died")
        elif time.monotonic() - self._since > self.deadlines.load:
            self._replace(executor, f"did not load within {self.deadlines.load:g} s")
        return False

    def _announce_ready(self, loads: list[Future]) -> None:
        if not self._announced:
            self._announced = True
            log.info("composer line %s ready: process %s loaded in %.1f s", self.name, ",".join(str(f.result()) for f in loads), time.monotonic() - self._since)

    def check(self) -> None:
        """For an idle line's worker: does the child still answer? (replaced if not)"""
        with self._lock:
            busy = self._in_flight > 0  # a call in flight is watched by its own deadline
        if busy or not self.up():
            return
        try:
            self.call(os.getpid, deadline=self.deadlines.quick)
        except ComposerUnavailable:
            pass  # replaced, and logged

    def _replace(self, executor: ProcessPoolExecutor, why: str) -> None:
        with self._lock:
            if executor is not self._executor or self._closed:  # replaced by another caller already
                return
            pids = self.pids()
            _kill(executor)
            self.replacements += 1
            self._start(why)
        log.error("composer line %s: process %s %s; killed, a new one is loading", self.name, ",".join(map(str, pids)) or "-", why)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            _kill(self._executor)


def _load(prepare: Callable[[], None] | None) -> int:
    """In a new child: load what the calls need (the models) before any call is made, at nice 10
    (a busy machine should not keep the line down for minutes), then compose in the background."""
    if prepare is not None:
        prepare()
    run_in_background()
    return os.getpid()


def run_in_background() -> None:
    """This process runs from now on only on CPU time that no ordinary process wants (Linux's
    SCHED_IDLE). The pool composes ahead of the rounds that need it, so a refill can wait and a
    player's event cannot: where the server, its database writer and other programs keep the
    cores busy, a proof or a refill waits instead of taking its nice-10 share (a tenth of a
    core) from them, and a core it holds counts as free to a waking handler, which takes it at
    once. The server alone cannot starve it: its events run on one thread. Elsewhere the
    process stays at nice 10. Figures: docs/performance.md."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass


class CallWatch:
    """The seconds a call has counted against its deadline: the longer of the time its children
    have been stopped and the most CPU time one of them has spent on it. Stopped is neither
    computing nor waiting for a CPU: a child frozen (SIGSTOP), deadlocked or hung in the kernel.
    One that computes counts as it computes; one that is runnable but starved by busier
    processes (state R in /proc, no CPU time gained) counts nothing. Read each `POLL` s, each
    interval judged by what the children did in it; with more than one child, an interval in
    which any of them ran or waited to run is not counted (a frozen child beside a busy one is
    found once the busy one is done). Where /proc cannot be read, every second counts."""

    POLL = 0.1

    def __init__(self, pids: list[int]):
        self.pids = pids
        seen = self._read()
        self.cpu = self.cpu_at_start = None if seen is None else seen[1]
        self.read_at, self.stopped = time.monotonic(), 0.0

    def _read(self) -> tuple[bool, dict[int, float]] | None:
        """(whether any child is running or waiting for a CPU, each child's CPU seconds)."""
        seen = {pid: state_and_cpu(pid) for pid in self.pids}
        if not seen or None in seen.values():
            return None
        return any(state == "R" for state, _ in seen.values()), {pid: cpu for pid, (_, cpu) in seen.items()}

    def left(self, deadline: float) -> float:
        """Seconds the call may still count before it is judged stopped (0 or less: now)."""
        now = time.monotonic()
        seen = self._read() if self.cpu is not None else None
        if seen is None:
            self.cpu = None
            self.stopped += now - self.read_at
        else:
            runnable, cpu = seen
            if not runnable and cpu == self.cpu:
                self.stopped += now - self.read_at
            self.cpu = cpu
        self.read_at = now
        computed = max(self.cpu[pid] - self.cpu_at_start[pid] for pid in self.cpu) if self.cpu else 0.0
        return deadline - max(self.stopped, computed)


def state_and_cpu(pid: int) -> tuple[str, float] | None:
    """A process's state letter (R: running or waiting for a CPU) and the CPU seconds it has
    used, from /proc; None where that cannot be read (another system, the process gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes_of(executor: ProcessPoolExecutor) -> dict:
    # The executor's children by pid. Python 3.14 has kill_workers(); 3.11 only this attribute.
    return dict(getattr(executor, "_processes", None) or {})


def _kill(executor: ProcessPoolExecutor) -> None:
    """SIGKILL every child (SIGTERM waits in a stopped one), then let the executor go."""
    for process in _processes_of(executor).values():
        process.kill()
    executor.shutdown(wait=False, cancel_futures=True)


def composer_process_setup(server_pid: int) -> None:
    """In a composer process: be killed when the server dies, even by SIGKILL (Linux), instead of
    composing on for nobody: asked for first, and if the server died before that, exit (a server
    killed while its children still load torch left them behind, blocked forever on their
    queue); then give way to the socket handlers while it loads (nice 10; once loaded it
    composes in the idle class, `run_in_background`): a refill can wait, a move's reply should
    not."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != server_pid:
        os._exit(0)
    os.nice(COMPOSER_NICENESS)
    one_thread_each()


COMPOSER_NICENESS = 10
