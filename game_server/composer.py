"""The bridge from a round's request to models/: a pool of ready pieces, filled off the handlers.

Composing takes milliseconds, but torch and numpy hold a core while they run, and a socket
handler must never wait on that. So a worker keeps a queue of finished pieces per request shape
(game_server.material); starting a round takes one from the queue at once, and the worker
composes replacements, in one batch where the request can (the melody model decodes a batch
several times faster per piece).

If a queue is empty (a burst of round starts), `take` waits, up to a timeout, for the next piece
its refill makes. A shape that batches is refilled once half its queue is gone, so that a refill
is one batch of several pieces, not a batch of one after every take. With `processes` > 0 the
composing runs in child processes: in the server's own process a CPU-bound thread starves
behind the connection threads taking turns at the GIL. Shapes that are slow to make (`slow =
True`: proven Run levels) are refilled on a line of their own, with its own worker and children,
so that they never hold up the quick ones. A line's children are watched (composer_processes):
one that froze or died is replaced at once, and while a line has none that works a take that
finds its queue empty is refused at once (ComposerUnavailable) instead of waiting.
"""

from __future__ import annotations

import itertools
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from music import Piece

from .composer_processes import ComposerUnavailable, Deadlines, WatchedProcesses, composer_process_setup
from .material import SEED_BITS

log = logging.getLogger(__name__)
# How often a take waiting for a refill asks whether its line went down: under a rush of Run
# starts a hundred takes wait at once, and each check wakes the event loop.
LINE_CHECK_S = 0.5
# A refill that failed is tried again this much later: a failure is mostly bad luck (no steady
# morph path in its draws), and a shape left empty keeps /healthz not ready and makes its next
# start wait; the pause keeps a shape that always fails from taking its line's every turn.
REFILL_RETRY_S = 1.0


@dataclass(frozen=True)
class Composed:
    seed: int
    pieces: tuple[Piece, ...]  # one piece, or a morph path's clips


class ComposeTimeout(RuntimeError):
    pass


class _Line:
    """A worker thread and its refill steps (and its child processes, watched, when the pool has
    them): slow shapes (a request class with `slow = True`) have a line of their own, so that the
    quick shapes' refills never wait behind theirs (a Run level is proven for human timing: a
    third of a second or more, where a piece takes milliseconds)."""

    def __init__(self, name: str, processes: int, deadline: float, deadlines: Deadlines, prepare, work: Callable[[_Line], None]):
        self.name = name
        self.children = WatchedProcesses(name, processes, deadline, deadlines, composer_process_setup, prepare) if processes > 0 else None
        self.closed = False
        # refill steps: the shapes a take is waiting for first (priority 0), then the rest in turn
        self.steps: queue.PriorityQueue = queue.PriorityQueue()
        self.order = itertools.count()
        threading.Thread(target=work, args=(self,), name=name, daemon=True).start()

    def call(self, fn, *args):
        """fn(*args) here, or in a child process (ComposerUnavailable: the line's children are
        down, or were replaced because this call froze or a child died)."""
        return fn(*args) if self.children is None else self.children.call(fn, *args)

    def problem(self) -> str | None:
        """Why this line cannot compose now; None when it can (threads always can)."""
        return None if self.children is None else self.children.problem()

    def close(self) -> None:
        self.closed = True
        if self.children is not None:
            self.children.close()
        self.steps.put((-1, -1, None))


class PiecePool:
    def __init__(self, compose: Callable[[object, int], tuple[Piece, ...]], depth: int | Callable[[object], int] = 3, timeout: float = 10.0, compose_batch=None, processes: int = 0,
                 deadlines: Deadlines = Deadlines(), prepare: Callable[[], None] | None = None):
        """`compose(request, seed)` makes the pieces for a request; `compose_batch(request, count,
        seed)` makes `count` of them at once, or returns None for a request it cannot batch. Both
        run on the workers only (in child processes when `processes` > 0, that many a line: then
        both must pickle, and `prepare()`, run in each child as it starts, loads what they need).
        `depth`: pieces kept ready, for every request shape or per shape. `timeout`: how long a
        take waits for a piece from a line that works but is behind (then ComposeTimeout): a
        burst of starts, or Run levels asked for faster than one child proves them. 10 s is
        twice the quick deadline: a waiting take's step is next, behind at most the call in
        progress, so a quick line that works has its piece by then. `deadlines`:
        when a child is judged frozen and replaced (composer_processes.Deadlines)."""
        self._compose, self._compose_batch = compose, compose_batch
        self._processes, self._deadlines, self._prepare = processes, deadlines, prepare
        self._lines: dict[bool, _Line] = {}  # slow or not -> its line, made on first use
        self._depth_of = depth if callable(depth) else (lambda request: depth)
        self._timeout = timeout
        self._queues: dict[object, queue.Queue[Composed]] = {}
        self._lock = threading.Lock()
        self._refilling: set = set()  # shapes with a refill step queued
        self._one_at_a_time: set = set()  # shapes compose_batch declined: refilled after every take
        self._line(False)
        # Without a pool (depth 0), takes compose on their own thread, not behind refills.
        self._urgent = ThreadPoolExecutor(max_workers=1, thread_name_prefix="composer-now")

    def _line(self, slow: bool) -> _Line:
        with self._lock:
            if slow not in self._lines:
                deadline = self._deadlines.slow if slow else self._deadlines.quick
                self._lines[slow] = _Line("composer-slow" if slow else "composer", self._processes, deadline, self._deadlines, self._prepare, self._work)
            return self._lines[slow]

    def _line_of(self, request) -> _Line:
        return self._line(getattr(request, "slow", False))

    def _make(self, request) -> Composed:
        seed = getattr(request, "seed", None)
        if seed is None:
            seed = secrets.randbits(SEED_BITS)
        return Composed(seed, tuple(self._line_of(request).call(self._compose, request, seed)))

    def _queue(self, request) -> queue.Queue[Composed]:
        with self._lock:
            if request not in self._queues:
                self._queues[request] = queue.Queue(maxsize=max(1, self._depth_of(request)))
            return self._queues[request]

    def _schedule_refill(self, request, wanted: bool = False) -> None:
        """Queue one refill step for this shape unless one is queued already; `wanted` (a take
        is waiting for it) puts a step at the front even so."""
        if self._depth_of(request) <= 0:  # no pool: every take composes on demand
            return
        with self._lock:
            if request in self._refilling and not wanted:
                return
            self._refilling.add(request)
        line = self._line_of(request)
        line.steps.put((0 if wanted else 1, next(line.order), request))

    def _work(self, line: _Line) -> None:
        """The line's worker: refill steps in turn, none while the line's children are down or
        loading (the steps wait), and an idle line's children asked now and then whether they
        still answer (composer_processes)."""
        every = self._deadlines.idle_check
        while not line.closed:
            if line.children is not None and not line.children.settle(every):
                continue
            try:
                _, _, request = line.steps.get(timeout=every)
            except queue.Empty:
                if line.children is not None:
                    line.children.check()
                continue
            if request is None:
                return
            self._refill_step(request)

    def _refill_step(self, request) -> None:
        """One batch (or one piece) for one shape, then to the back of the line if it is still
        short: shapes take turns, so a slow one (Run levels) never starves a fast one."""
        q = self._queue(request)
        if q.full():  # a second step queued for a waiting take, already served
            return
        try:
            for composed in self._make_some(request, q.maxsize - q.qsize()):
                q.put_nowait(composed)
        except queue.Full:
            pass
        except ComposerUnavailable:  # replaced (and logged): the step waits for the new children
            with self._lock:
                self._refilling.discard(request)
            self._schedule_refill(request)
            return
        except Exception:  # a composer failure must not kill the worker
            log.exception("composing %s failed; trying again in %.0f s", request, REFILL_RETRY_S)
            self._retry_later(request)
            return
        with self._lock:
            self._refilling.discard(request)
        if not q.full():
            self._schedule_refill(request)

    def _retry_later(self, request) -> None:
        """The shape's refill step again after REFILL_RETRY_S; it stays marked as refilling
        meanwhile (a waiting take still puts a step at the front)."""
        line = self._line_of(request)

        def again() -> None:
            if not line.closed:
                line.steps.put((1, next(line.order), request))

        timer = threading.Timer(REFILL_RETRY_S, again)
        timer.daemon = True
        timer.start()

    def _make_some(self, request, count: int) -> list[Composed]:
        if count > 1 and self._compose_batch is not None:
            seed = secrets.randbits(SEED_BITS)
            batch = self._line_of(request).call(self._compose_batch, request, count, seed)
            if batch is not None:
                return [Composed(seed, tuple(pieces)) for pieces in batch]  # the batch's seed
            self._one_at_a_time.add(request)
        return [self._make(request)]

    def warm(self, *requests) -> None:
        """Fill the queues for these request shapes in the background."""
        for request in requests:
            self._queue(request)
            self._schedule_refill(request)

    def warmed(self) -> bool:
        """Every shape asked for so far that the pool keeps ready has a piece ready (with no pool,
        depth 0, pieces are composed on demand: nothing to wait for)."""
        with self._lock:
            queues = list(self._queues.items())
        return all(q.qsize() > 0 for request, q in queues if self._depth_of(request) > 0)

    def take(self, request) -> Composed:
        """A ready piece; if none is, the next one the refill makes (a batch is quicker per piece
        than composing one on demand, and under a rush on-demand composes only pile up). With
        none ready and the line's composer down (frozen, dead, or its replacement loading):
        ComposerUnavailable at once, never a wait on a composer that cannot answer."""
        if self._depth_of(request) <= 0:  # no pool for this shape (or none at all): nothing kept for it
            return self.compose_now(request)
        q = self._queue(request)
        line = self._line_of(request)
        try:
            composed = q.get_nowait()
        except queue.Empty:
            if (problem := line.problem()) is not None:
                self._schedule_refill(request)  # made once the line is back
                raise ComposerUnavailable(problem) from None
            composed = self._wait_for_refill(request, q, line)
        if self._compose_batch is None or request in self._one_at_a_time or q.qsize() <= q.maxsize // 2:
            self._schedule_refill(request)
        return composed

    def compose_now(self, request) -> Composed:
        """Compose `request` now, with no queue kept for it (a take of a shape without a pool, or
        a game's tool: games.base.Tool): on the urgent thread, not behind refills, in the line's
        child processes where the pool has them. ComposerUnavailable at once when that line's
        composer is down, ComposeTimeout after the pool's timeout; an error of the request's own
        compose is raised as it is."""
        if (problem := self._line_of(request).problem()) is not None:
            raise ComposerUnavailable(problem)
        future = self._urgent.submit(self._make, request)
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            raise ComposeTimeout(f"composing {request} took longer than {self._timeout} s") from None

    def _wait_for_refill(self, request, q: queue.Queue[Composed], line: _Line) -> Composed:
        """The next piece the refill makes, up to the timeout; refused within LINE_CHECK_S of the
        line going down meanwhile (its call froze and the watch replaced its children)."""
        self._schedule_refill(request, wanted=True)
        give_up = time.monotonic() + self._timeout
        while True:
            try:
                return q.get(timeout=max(0.0, min(LINE_CHECK_S, give_up - time.monotonic())))
            except queue.Empty:
                if (problem := line.problem()) is not None:
                    raise ComposerUnavailable(problem) from None
                if time.monotonic() >= give_up:
                    raise ComposeTimeout(f"no {request} was composed within {self._timeout} s") from None

    def ready(self, request) -> int:
        return self._queue(request).qsize()

    def sizes(self) -> dict[str, int]:
        """Ready pieces per request shape (for /healthz: is the pool keeping up?)."""
        with self._lock:
            return {repr(request): q.qsize() for request, q in self._queues.items()}

    def unavailable(self) -> str | None:
        """Why a line cannot compose now (its composer is down or loading), or None (/readyz)."""
        with self._lock:
            lines = list(self._lines.values())
        return next((problem for line in lines if (problem := line.problem()) is not None), None)

    def composers(self) -> dict[str, dict]:
        """Each line's composer processes (/healthz): up or not, their pids, replacements so far."""
        with self._lock:
            lines = list(self._lines.values())
        return {line.name: {"up": line.problem() is None, "pids": line.children.pids(), "replacements": line.children.replacements}
                for line in lines if line.children is not None}

    def close(self) -> None:
        for line in list(self._lines.values()):
            line.close()
        self._urgent.shutdown(wait=False, cancel_futures=True)
