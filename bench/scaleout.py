"""What a second process on Redis buys: the most Sort moves a second that closed-loop clients get
served (each sends its next move as soon as the last is acked) by one process in memory, one
process on Redis, and two processes on Redis (clients split between them).

Run: `.venv/bin/python bench/scaleout.py [clients=100] [seconds=20]` (`make bench-scaleout`);
needs Debian's redis-server. Everything shares this machine's cores with the load generator, so
the gain is bounded by them: on 2 cores, two server processes and the clients compete for two.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import socketio  # noqa: E402

from tests.server import ServerProcess  # noqa: E402
from tests.services import redis_server  # noqa: E402


async def closed_loop(urls: list[str], clients: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    done = 0

    async def client(i: int) -> None:
        nonlocal done
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(urls[i % len(urls)], transports=["websocket"], wait_timeout=30)
        await sio.call("hello", {"name": f"c{i}"}, timeout=30)
        await sio.call("create_room", {"game": "sort", "ladder": "slices", "level": 0}, timeout=30)
        view = (await sio.call("start_round", {}, timeout=30))["round"]
        version, seq = view["board"]["version"], 0
        await ready.wait()
        while not finished.is_set():
            seq += 1
            started = time.perf_counter()
            reply = await sio.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "swap", "slot": 0, "other": 1}}, timeout=30)
            latencies.append(time.perf_counter() - started)
            version = reply["board"]["version"]
            done += 1
        await sio.disconnect()

    ready, finished = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await asyncio.sleep(8)  # connect, hello, room, round
    done, latencies[:] = 0, []
    started = time.monotonic()
    ready.set()
    await asyncio.sleep(seconds)
    moves = done
    elapsed = time.monotonic() - started
    finished.set()  # each client ends its move in flight, then disconnects
    await asyncio.gather(*tasks, return_exceptions=True)
    return moves / elapsed, latencies


def run(label: str, urls: list[str], clients: int, seconds: float) -> float:
    per_second, latencies = asyncio.run(closed_loop(urls, clients, seconds))
    ms = sorted(x * 1000 for x in latencies)
    print(f"{label:<28} {per_second:8.0f} moves/s   p50 {statistics.median(ms):6.1f} ms   p99 {ms[int(len(ms) * 0.99)]:6.1f} ms")
    return per_second


def main(clients: int = 100, seconds: float = 20) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    print(f"{clients} closed-loop clients, {seconds:g} s each")
    with ExitStack() as stack:
        one = ServerProcess(tmp / "one", extra_env={"LOG_LEVEL": "ERROR"})
        (tmp / "one").mkdir()
        one.start(timeout=120)
        stack.callback(one.stop)
        memory = run("1 process, in memory", [one.url], clients, seconds)
        one.stop()
        url = stack.enter_context(redis_server())
        env = {"LOG_LEVEL": "ERROR", "REDIS_URL": url, "DATABASE_URL": f"sqlite:///{tmp / 'shared.db'}"}
        servers = []
        for name in ("a", "b"):
            (tmp / name).mkdir()
            servers.append(ServerProcess(tmp / name, extra_env=env).start(timeout=120))
            stack.callback(servers[-1].stop)
        single = run("1 process, on Redis", [servers[0].url], clients, seconds)
        double = run("2 processes, on Redis", [s.url for s in servers], clients, seconds)
        print(f"2 processes / 1 process on Redis: {double / single:.2f}x; Redis / memory on 1 process: {single / memory:.2f}x")


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    main(int(args[0]) if args else 100, args[1] if len(args) > 1 else 20)
