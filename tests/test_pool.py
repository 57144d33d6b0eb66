"""The pool of composed pieces, with a stand-in composer that records its calls (the real one is
exercised by every socket test): batches, waiting for a refill, on-demand without a pool,
shapes taking turns, and slow shapes on a line of their own."""

from __future__ import annotations

import threading
import time

import pytest

from game_server.composer import ComposeTimeout, PiecePool


class Recorder:
    def __init__(self, slow: dict | None = None):
        self.calls: list[tuple] = []
        self.slow = slow or {}
        self.lock = threading.Lock()

    def compose(self, request, seed):
        time.sleep(self.slow.get(request, 0))
        with self.lock:
            self.calls.append(("one", request))
        return (f"{request}-{seed}",)

    def batch(self, request, count, seed):
        if request == "unbatchable":
            return None
        with self.lock:
            self.calls.append(("batch", request, count))
        return [(f"{request}-{seed}-{i}",) for i in range(count)]


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_refills_in_batches_and_serves_from_the_queue():
    rec = Recorder()
    pool = PiecePool(rec.compose, depth=5, compose_batch=rec.batch)
    pool.warm("a")
    wait_until(lambda: pool.ready("a") == 5)
    assert rec.calls == [("batch", "a", 5)]
    taken = [pool.take("a") for _ in range(3)]
    assert len({t.pieces for t in taken}) == 3
    wait_until(lambda: pool.ready("a") == 5)
    assert all(call[0] == "batch" for call in rec.calls)
    pool.close()


def test_a_batched_shape_is_refilled_once_half_is_gone_in_one_batch():
    """Takes that leave more than half the queue compose nothing; the take that leaves half starts
    one batch for every missing piece. A shape the composer cannot batch refills after each take."""
    rec = Recorder()
    pool = PiecePool(rec.compose, depth=6, compose_batch=rec.batch)
    pool.warm("a", "unbatchable")
    wait_until(lambda: pool.ready("a") == 6 and pool.ready("unbatchable") == 6)
    rec.calls.clear()
    pool.take("a"), pool.take("a"), pool.take("unbatchable")
    wait_until(lambda: pool.ready("unbatchable") == 6)
    time.sleep(0.1)
    assert rec.calls == [("one", "unbatchable")] and pool.ready("a") == 4
    pool.take("a")
    wait_until(lambda: pool.ready("a") == 6)
    assert rec.calls == [("one", "unbatchable"), ("batch", "a", 3)]
    pool.close()


def test_an_empty_queue_waits_for_its_refill_and_without_a_pool_composes_on_demand():
    rec = Recorder()
    pool = PiecePool(rec.compose, depth=2, compose_batch=rec.batch)
    first = pool.take("b")  # nothing ready: the take waits for the refill it starts
    assert first.pieces[0].startswith("b-")
    no_pool = PiecePool(rec.compose, depth=0)
    assert no_pool.take("c").pieces[0].startswith("c-") and ("one", "c") in rec.calls
    assert no_pool.ready("c") == 0
    pool.close()
    no_pool.close()


def test_a_slow_shape_does_not_starve_a_fast_one():
    rec = Recorder(slow={"slow": 0.05})
    pool = PiecePool(rec.compose, depth=4)  # no batches: one piece per step
    pool.warm("slow", "fast")
    wait_until(lambda: pool.ready("fast") == 4 and pool.ready("slow") == 4, timeout=10)
    assert [call[1] for call in rec.calls[:4]] == ["slow", "fast", "slow", "fast"]  # turns, not one shape filled first
    pool.close()


def test_a_take_times_out_when_nothing_comes():
    def broken(request, seed):
        raise RuntimeError("no model")

    pool = PiecePool(broken, depth=1, timeout=0.3)
    with pytest.raises(ComposeTimeout):
        pool.take("x")
    pool.close()


def test_a_failed_refill_is_tried_again_without_a_take():
    """A refill that fails (a morph with no steady path in its draws) is tried again by itself, a
    while later: the shape fills and the pool is warmed with no round asking for it; a shape that
    always fails is tried again and again, not in a spin."""
    failures = {"unlucky": 2, "broken": 10**9}
    tries: dict[str, int] = {}

    def compose(request, seed):
        tries[request] = tries.get(request, 0) + 1
        if failures.get(request, 0) >= tries[request]:
            raise RuntimeError(f"no steady morph path for {request}")
        return (f"{request}-{seed}",)

    pool = PiecePool(compose, depth=1)
    pool.warm("unlucky")
    wait_until(lambda: pool.ready("unlucky") == 1, timeout=10)
    assert tries["unlucky"] == 3 and pool.warmed()
    started = time.monotonic()
    pool.warm("broken")
    wait_until(lambda: tries.get("broken", 0) >= 2, timeout=10)
    assert time.monotonic() - started >= 0.9 and not pool.warmed()  # again after REFILL_RETRY_S (1 s), not at once
    pool.close()


class SlowShape(str):
    """A request shape that declares itself slow to make (as a proven Run level does)."""

    slow = True


def test_a_slow_shape_has_its_own_line_and_never_holds_up_a_quick_one():
    gate = threading.Event()
    rec = Recorder()

    def compose(request, seed):
        if getattr(request, "slow", False):
            gate.wait(10)  # a proof that takes a long time
        return rec.compose(request, seed)

    pool = PiecePool(compose, depth=1, timeout=2)
    slow = SlowShape("level")
    pool.warm(slow)
    time.sleep(0.05)  # the slow line is busy with it
    assert pool.take("piece").pieces[0].startswith("piece-")  # served while the slow one still works
    assert pool.ready(slow) == 0
    gate.set()
    wait_until(lambda: pool.ready(slow) == 1)
    pool.close()
