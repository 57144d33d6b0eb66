"""What a second process on Redis buys: the most Sort moves a second that closed-loop clients get
served (each sends its next move as soon as the last is acked, at most MAX_RATE a second, under
the server's flood limit) by one process in memory, one process on Redis, and two processes on
Redis (clients split between them).

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

MAX_RATE = 25  # moves a second per client: the server refuses more than 30 events a second from one connection


async def closed_loop(urls: list[str], clients: int, seconds: float) -> tuple[int, list[float], dict[str, int]]:
    """Each client sends its next move when the last is acked (but no faster than MAX_RATE): the
    moves served a second, their latencies, and the refusals by code (a refused move is not
    counted as served; the client carries on from the board the error carries)."""
    latencies: list[float] = []
    refused: dict[str, int] = {}
    done = 0

    async def client(i: int) -> None:
        nonlocal done
        sio = socketio.AsyncClient(reconnection=False)
        try:
            await sio.connect(urls[i % len(urls)], transports=["websocket"], wait_timeout=30)
            await sio.call("hello", {"name": f"c{i}"}, timeout=30)
            await sio.call("create_room", {"game": "sort", "ladder": "slices", "level": 0}, timeout=30)
            while not (started := await sio.call("start_round", {}, timeout=30))["ok"]:  # composer_busy: the pool ran dry
                await asyncio.sleep(1)
            view = started["round"]
            version, seq = view["board"]["version"], 0
            await ready.wait()
            while not finished.is_set():
                seq += 1
                sent = time.perf_counter()
                reply = await sio.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "swap", "slot": 0, "other": 1}}, timeout=30)
                if reply["ok"]:
                    latencies.append(time.perf_counter() - sent)
                    version = reply["board"]["version"]
                    done += 1
                else:
                    refused[reply["error"]["code"]] = refused.get(reply["error"]["code"], 0) + 1
                    version = reply["error"].get("board", {}).get("version", version)
                await asyncio.sleep(max(0.0, sent + 1 / MAX_RATE - time.perf_counter()))
        finally:
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
    failed = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if isinstance(r, BaseException)]
    if failed:
        print(f"  {len(failed)} of {clients} clients failed, the first with {failed[0]!r}")
    return moves / elapsed, latencies, refused


def run(label: str, urls: list[str], clients: int, seconds: float) -> float:
    per_second, latencies, refused = asyncio.run(closed_loop(urls, clients, seconds))
    ms = sorted(x * 1000 for x in latencies)
    print(f"{label:<28} {per_second:8.0f} moves/s   p50 {statistics.median(ms):6.1f} ms   p99 {ms[int(len(ms) * 0.99)]:6.1f} ms   refused {refused or 'none'}")
    return per_second


def main(clients: int = 100, seconds: float = 20) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    print(f"{clients} closed-loop clients (at most {MAX_RATE} moves/s each), {seconds:g} s each")
    with ExitStack() as stack:
        one = ServerProcess(tmp / "one", extra_env={"LOG_LEVEL": "ERROR", "MAX_CONNECTIONS_PER_ADDRESS": "0"})  # every client is 127.0.0.1
        (tmp / "one").mkdir()
        one.start(timeout=120)
        stack.callback(one.stop)
        memory = run("1 process, in memory", [one.url], clients, seconds)
        one.stop()
        url = stack.enter_context(redis_server())
        env = {"LOG_LEVEL": "ERROR", "REDIS_URL": url, "DATABASE_URL": f"sqlite:///{tmp / 'shared.db'}", "MAX_CONNECTIONS_PER_ADDRESS": "0"}
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
