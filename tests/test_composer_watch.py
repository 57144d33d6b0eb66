"""The composer's watch, on real child processes that load the committed models: a frozen child
(SIGSTOP) and a killed one (SIGKILL) are replaced, round starts are refused at once while the
replacement loads (served from the queue where it has a piece), and served again after."""

from __future__ import annotations

import logging
import os
import signal
import time
from functools import partial
from pathlib import Path

import pytest

from game_server.app import compose_batch_with_models, compose_with_models, create_app, load_models, services_of
from game_server.composer import ComposerUnavailable, Deadlines, PiecePool
from game_server.config import Config
from game_server.material import PieceRequest

from .server import InProcessClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]  # child processes that load torch and the models

MODELS = str(Path(__file__).resolve().parent.parent / "models" / "checkpoints")
LOAD = 60  # seconds a child may take to load (Deadlines.load): a bound, not a figure


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)


def gone(pid: int) -> bool:
    """The process has exited (reaped, or a zombie), not stopped or running."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def composer_warnings(caplog) -> list[str]:
    """What the composer logged at WARNING and above: one line per replacement, nothing else
    (no traceback for the refill the freeze cut short)."""
    return [r.getMessage() for r in caplog.records if r.name == "game_server.composer" and r.levelno >= logging.WARNING]


def test_a_frozen_composer_is_replaced_and_takes_meanwhile_are_refused_at_once(caplog):
    deadline = 2.0
    pool = PiecePool(partial(compose_with_models, MODELS), depth=2, compose_batch=partial(compose_batch_with_models, MODELS), processes=1,
                     deadlines=Deadlines(quick=deadline, slow=deadline, idle_check=0.5), prepare=partial(load_models, MODELS))
    shape = PieceRequest(bars=8)
    pool.warm(shape)
    wait_until(lambda: pool.ready(shape) == 2 and pool.unavailable() is None, LOAD, "the pool loaded and filled")
    [frozen] = pool.composers()["composer"]["pids"]
    os.kill(frozen, signal.SIGSTOP)
    try:
        assert all(pool.take(shape).pieces for _ in range(2))  # the queue's pieces are served all the same
        wait_until(lambda: pool.unavailable() is not None, deadline + 5, "the frozen refill noticed")
        started = time.monotonic()
        with pytest.raises(ComposerUnavailable, match="did not answer within 2 s"):
            pool.take(shape)  # nothing ready, the replacement still loading: refused at once
        assert time.monotonic() - started < 0.5
        wait_until(lambda: gone(frozen), 5, "the frozen child killed")
        wait_until(lambda: pool.unavailable() is None, LOAD, "the replacement loaded")
        assert pool.take(shape).pieces[0].bars == 8
        [successor] = pool.composers()["composer"]["pids"]
        assert successor != frozen and pool.composers()["composer"]["replacements"] == 1
        assert composer_warnings(caplog) == [f"composer line composer: process {frozen} did not answer within 2 s; killed, a new one is loading"]
    finally:
        if not gone(frozen):
            os.kill(frozen, signal.SIGKILL)
        pool.close()


def start_sort(app, name: str) -> dict:
    player = InProcessClient(app, name)
    assert player.call("create_room", {"game": "sort", "mode": "solo", "level": 0})["ok"]
    return player.call("start_round", {})


def test_a_killed_composer_is_replaced_while_readyz_says_not_ready_and_starts_are_refused_at_once(tmp_path, caplog):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path}/rounds.db", pool_depth=0, composer_processes=1, log_level="WARNING"))
    client = app.test_client()
    pool = services_of(app).pool
    try:
        wait_until(lambda: client.get("/readyz").status_code == 200, LOAD, "ready")
        assert start_sort(app, "Ada")["ok"]  # composed on demand in the child
        [killed] = pool.composers()["composer"]["pids"]
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: client.get("/readyz").status_code == 503, Deadlines.idle_check + 5, "readyz not ready")
        assert "died; a new one is loading" in client.get("/readyz").get_json()["checks"]["composer"]
        started = time.monotonic()
        refused = start_sort(app, "Bob")
        assert refused["error"]["code"] == "composer_unavailable" and refused["error"]["retry"] is True
        assert time.monotonic() - started < 1
        wait_until(lambda: client.get("/readyz").status_code == 200, LOAD, "ready again")
        assert start_sort(app, "Cyd")["ok"]
        assert killed not in pool.composers()["composer"]["pids"]
        assert composer_warnings(caplog) == [f"composer line composer: process {killed} died; killed, a new one is loading"]
    finally:
        pool.close()
        services_of(app).storage.close()


def test_calls_queued_behind_children_replaced_by_another_thread_are_refused_with_the_code():
    """The idle check (another thread) replaces dead children and cancels the calls still queued
    for them: those callers get ComposerUnavailable, as a caller that found the death itself."""
    import threading

    from game_server.composer_processes import WatchedProcesses

    line = WatchedProcesses("test", 1, 30, Deadlines(), initializer=os.getpgid)
    try:
        wait_until(line.up, LOAD, "children up")
        outcomes: dict[str, BaseException | None] = {}

        def call(name: str, seconds: float) -> None:
            try:
                line.call(time.sleep, seconds)
                outcomes[name] = None
            except BaseException as exc:  # the outcome is what the test checks
                outcomes[name] = exc

        running = threading.Thread(target=call, args=("running", 3))
        running.start()
        time.sleep(0.5)
        # one child, busy: these wait in the executor (past the couple it hands on at once)
        queued = [threading.Thread(target=call, args=(f"queued {i}", 0)) for i in range(4)]
        for thread in queued:
            thread.start()
        time.sleep(0.5)
        line._replace(line._executor, "died")  # what the idle check does on finding it dead
        for thread in [running, *queued]:
            thread.join(10)
        assert len(outcomes) == 5 and all(isinstance(o, ComposerUnavailable) for o in outcomes.values()), outcomes
    finally:
        line.close()


def compute(cpu_seconds: float) -> str:
    """In a child: spend `cpu_seconds` of its own CPU time, then say which scheduling class it has."""
    end = time.process_time() + cpu_seconds
    while time.process_time() < end:
        pass
    return "idle" if os.sched_getscheduler(0) == os.SCHED_IDLE else "other"


OCCUPY = "import time\nend = time.monotonic() + 3\nwhile time.monotonic() < end:\n    pass"  # a core for 3 s


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc to tell a starved child from a frozen one")
def test_a_child_starved_past_its_deadline_is_waited_for_and_one_that_computes_past_it_is_replaced(caplog):
    """A composer child runs in the idle class once loaded: while ordinary processes hold every
    core it gets no CPU at all, and its call outlasts the deadline by the clock; it is slow, not frozen, and
    answers once the cores are free. A call that computes past its deadline is replaced as before."""
    import subprocess
    import sys

    from game_server.composer_processes import WatchedProcesses

    deadline = 1.0
    line = WatchedProcesses("test", 1, deadline, Deadlines(quick=deadline, slow=deadline), initializer=os.getpgid)
    try:
        wait_until(line.up, LOAD, "children up")
        assert line.call(compute, 0.0, deadline=LOAD) == "idle"  # the child imports this module: a second or two of CPU
        # every core held by ordinary processes (bare interpreters: one that imports this module
        # would leave the cores free for moments while it reads the disk), two a core: with one a
        # core, the child once finished in 0.8 s under the parallel suite (moments a core was left free)
        busy = [subprocess.Popen([sys.executable, "-c", OCCUPY]) for _ in range(2 * len(os.sched_getaffinity(0)))]
        time.sleep(0.3)
        started = time.monotonic()
        assert line.call(compute, 0.2) == "idle"
        assert time.monotonic() - started > deadline * 1.5  # it waited past the deadline for a CPU
        for process in busy:
            process.wait()
        assert line.replacements == 0 and composer_warnings(caplog) == []

        with pytest.raises(ComposerUnavailable):
            line.call(compute, 30.0)
        assert line.replacements == 1
        assert composer_warnings(caplog)[0].endswith(f"did not answer within {deadline:g} s; killed, a new one is loading")
    finally:
        line.close()
