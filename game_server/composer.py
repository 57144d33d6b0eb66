"""The bridge from a round's request to models/: a pool of ready pieces, filled off the handlers.

Composing takes milliseconds, but torch and numpy hold a core while they run, and a socket
handler should never do that (DESIGN.md: composition belongs in a worker). So a single worker
thread keeps a small queue of finished pieces per request shape; starting a round takes one
from the queue at once, and the worker composes a replacement. If a queue is empty (a burst of
round starts), `take` composes one on a second worker, so it never waits behind refills, and
waits for it up to a timeout.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Callable

from game_server.music import Piece

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PieceRequest:
    """A whole piece for a slices board or a Run level."""

    bars: int
    meter: str = "4/4"
    style: str = "irish"


@dataclass(frozen=True)
class MorphRequest:
    """A morph path of n clips (2 bars each) from one fresh melody to another."""

    n: int
    meter: str = "4/4"
    style: str = "irish"


@dataclass(frozen=True)
class RunRequest:
    """A piece for rung `level` of the Run ladder, at the rung's tempo, proven playable."""

    level: int


@dataclass(frozen=True)
class Composed:
    seed: int
    pieces: tuple[Piece, ...]  # one for a PieceRequest or a RunRequest; n for a MorphRequest


class ComposeTimeout(RuntimeError):
    pass


class PiecePool:
    def __init__(self, compose: Callable[[object, int], tuple[Piece, ...]], depth: int = 3, timeout: float = 10.0):
        """`compose(request, seed)` makes the pieces for a request; it runs on the worker only."""
        self._compose = compose
        self._depth, self._timeout = depth, timeout
        self._queues: dict[object, queue.Queue[Composed]] = {}
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="composer")
        # A take that finds its queue empty must not wait behind the background refills.
        self._urgent = ThreadPoolExecutor(max_workers=1, thread_name_prefix="composer-now")

    def _make(self, request) -> Composed:
        seed = secrets.randbits(62)
        return Composed(seed, tuple(self._compose(request, seed)))

    def _queue(self, request) -> queue.Queue[Composed]:
        with self._lock:
            if request not in self._queues:
                self._queues[request] = queue.Queue(maxsize=max(1, self._depth))
            return self._queues[request]

    def _refill(self, request) -> None:
        if self._depth <= 0:  # no pool: every take composes on demand
            return
        q = self._queue(request)
        while not q.full():
            try:
                q.put_nowait(self._make(request))
            except queue.Full:
                return
            except Exception:  # a composer failure must not kill the worker; the next take retries
                log.exception("composing %s failed", request)
                return

    def warm(self, *requests) -> list[Future]:
        """Fill the queues for these request shapes in the background."""
        return [self._worker.submit(self._refill, r) for r in requests]

    def take(self, request) -> Composed:
        q = self._queue(request)
        try:
            composed = q.get_nowait()
        except queue.Empty:
            future = self._urgent.submit(self._make, request)
            try:
                composed = future.result(timeout=self._timeout)
            except FutureTimeout:
                raise ComposeTimeout(f"composing {request} took longer than {self._timeout} s") from None
        self._worker.submit(self._refill, request)
        return composed

    def ready(self, request) -> int:
        return self._queue(request).qsize()

    def sizes(self) -> dict[str, int]:
        """Ready pieces per request shape (for /healthz: is the pool keeping up?)."""
        with self._lock:
            return {repr(request): q.qsize() for request, q in self._queues.items()}

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
        self._urgent.shutdown(wait=False, cancel_futures=True)
