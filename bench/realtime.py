"""Many players against one server process, beside the same load against a bare echo server.

Run: `.venv/bin/python bench/realtime.py [players=500] [seconds=30] [Sort moves per second per player=1]
[one player in N plays Run=5; 0: none] [one player in M plays Beat Hunt=5; 0: none]`
(`make bench-realtime`). Starts a game server (with its default pool, once the pool is full) and
bench/echo_server.py, each on a free loopback port; then, for each in turn, opens the same number
of python-socketio AsyncClient connections (websocket), dealt over $LOAD_PROCESSES (default 2)
load-generator processes (one asyncio loop serving 500 clients was itself most of the latency
tail: its replies queued behind each other); players start their rounds spread over a 60 s ramp
(as players arrive, so the pool refills between starts), then send
moves at a fixed rate for the measured seconds, each player on its own schedule (`on_schedule`):

- game: most players play Sort (solo slices-0: a swap of two slots per move, on the board
  version they hold), 1 in N play Run level 0 (the scripted bot's inputs, sent live as a client
  would; a new round when one ends), 1 in M (of all players; taken from those not on Run) play
  Beat Hunt (solo, their levels spread over the ladder's 0..4: at the Sort players' move rate
  (the third argument), a `hunt_move` to a random cell of the grid, every 10th a listen while
  listens are left; a submit after 20-40 moves, then the next round at once). Every ack is a
  move served: moves/s and move-to-ack latency p50 / p99, in all and per game; round starts:
  their latency p50 / p99, per game (ramp included; then those in the measured window alone),
  and Beat Hunt's per level. While the players play, /healthz is read once a second: the fewest
  pieces each shape of the pool had ready, and in how many reads none (a start then waits for
  the refill).
- echo: the same connections send a payload of the same size, same rate; moves/s and latency.
For each, the CPU time the servers, the game server's child processes (composers, database
writer) and the load generator used over the measured window (per move: what an event costs).
Then prints the ratio of the game server's moves/s to the echo server's, and RSS per connected
player and per live room (the game server's RSS before the players connect, with them connected).
Everything runs on this machine's cores beside the load generator, as the issue asks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import socketio  # noqa: E402

from game_server.composer_processes import state_and_cpu  # noqa: E402
from game_server.config import Config  # noqa: E402
from game_server.games.blend import rules as hunt_rules  # noqa: E402
from game_server.games.run import bot as run_bot  # noqa: E402
from game_server.games.run.physics import Lane, Platform  # noqa: E402
from tests.server import ServerProcess, free_port  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process so far; None once it has ended."""
    seen = state_and_cpu(pid)
    return None if seen is None else seen[1]


def cpu_used(pids: list[int], before: dict[int, float | None]) -> float:
    """CPU seconds the processes used since `before` (theirs then); one that has ended since
    counts what it had used when last read."""
    used = 0.0
    for pid in pids:
        then, now = before[pid] or 0.0, cpu_seconds(pid)
        used += (then if now is None else now) - then
    return used


def children(pid: int) -> list[int]:
    """A process's children (of any of its threads: the server's composers and database writer,
    a load generator's bot planner) but multiprocessing's resource tracker. A thread or child
    that ends while being read is skipped."""
    kids = [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in read_or_empty(task / "children").split()]
    return [kid for kid in kids if b"resource_tracker" not in read_or_empty(Path(f"/proc/{kid}/cmdline")).encode()]


def read_or_empty(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def pct(values: list[float], q: float) -> float:
    """The q-th percentile, interpolated between the samples (numpy's default): never past the
    largest, as the 'exclusive' method puts a p99 of fewer than 100 samples."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else float("nan")


class Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.moves: dict[str, list[float]] = {"sort": [], "run": [], "blend": []}  # game -> the move acks' seconds (of `latencies`)
        self.round_starts: dict[str, list[float]] = {"sort": [], "run": [], "blend": []}  # game -> seconds, ramp included
        self.hunt_starts: dict[int, list[float]] = {}  # Beat Hunt's round starts by level
        self.window_starts: dict[str, list[float]] = {"sort": [], "run": [], "blend": []}  # those of `round_starts` made in the measured window
        self.refused: dict[str, int] = {}
        self.start_refusals: dict[str, int] = {}
        self.counting = False
        self.cpu: dict[str, float] = {}  # seconds of CPU over the measured window, per process


async def timed_call(sio, stats: Stats, event: str, data: dict, game: str | None = None) -> dict:
    """A move, timed to its ack (counted, as `game`'s too, once the window is open)."""
    started = time.perf_counter()
    reply = await sio.call(event, data, timeout=30)
    if stats.counting:
        stats.latencies.append(time.perf_counter() - started)
        if game is not None:
            stats.moves[game].append(stats.latencies[-1])
        if not reply.get("ok", True):
            code = reply["error"]["code"]
            stats.refused[code] = stats.refused.get(code, 0) + 1
    return reply


async def start_round(sio, stats: Stats, game: str, level: int | None = None) -> dict:
    """Timed (`level`: Beat Hunt's, kept apart too); a refusal (composer_busy: the pool ran dry
    and composing on demand took over 10 s) is counted and retried a second later."""
    while True:
        started = time.perf_counter()
        reply = await sio.call("start_round", {}, timeout=30)
        took = time.perf_counter() - started
        stats.round_starts[game].append(took)
        if stats.counting:
            stats.window_starts[game].append(took)
        if level is not None:
            stats.hunt_starts.setdefault(level, []).append(took)
        if reply["ok"]:
            return reply["round"]
        stats.start_refusals[reply["error"]["code"]] = stats.start_refusals.get(reply["error"]["code"], 0) + 1
        await asyncio.sleep(1)


async def run_player(sio, stats: Stats, stop: float, planner) -> None:
    """Run level 0 with the bot's inputs sent live; when a round ends, the next starts (timed).
    The bot plans its run in `planner` (a process pool), not on this loop: a plan takes ~9 ms of
    CPU, about 11 plans a second start, and the replies of every client on the loop would wait
    behind each (a player's own machine plans beside nobody else's replies)."""
    ended = asyncio.Event()
    sio.on("round_ended", lambda data=None: ended.set())
    await sio.call("create_room", {"game": "run", "level": 0}, timeout=30)
    seq = 0
    while time.monotonic() < stop:
        ended.clear()
        view = await start_round(sio, stats, "run")
        run = view["run"]
        t0 = time.monotonic() - run["clock_tick"] / 60
        lane = run["lanes"][0]
        plan = await asyncio.get_running_loop().run_in_executor(planner, bot_inputs, lane["platforms"], lane["goal"], lane["start_x"], run["tempo"])
        for tick, inputs in plan:
            await asyncio.sleep(max(0.0, t0 + (tick - 10) / 60 - time.monotonic()))
            if time.monotonic() >= stop:
                return
            seq += 1
            reply = await timed_call(sio, stats, "run_input", {"round_id": view["round_id"], "seq": seq, "inputs": inputs}, "run")
            if not reply.get("ok") and reply["error"]["code"] in ("round_over", "lane_over"):
                break
        try:
            await asyncio.wait_for(ended.wait(), timeout=max(0.1, stop - time.monotonic()))
        except TimeoutError:
            return


def bot_inputs(platforms: list, goal: int, start_x: int, tempo: int) -> list[tuple[int, list[dict]]]:
    """The scripted bot's run of a lane (lane 0): its inputs as run_input batches, by tick."""
    bot = run_bot.play(Lane(tuple(Platform(*p) for p in platforms), goal, start_x, tempo))
    by_tick: dict[int, list[dict]] = {}
    for tick, key, down in bot.inputs:
        by_tick.setdefault(tick, []).append({"tick": tick, "lane": 0, "key": key, "down": down})
    return sorted(by_tick.items())


async def hunt_player(sio, stats: Stats, interval: float, stop: float, level: int) -> None:
    """Beat Hunt, solo, at `level`: a round; then, every `interval` (`on_schedule`), the puck to a
    random cell of the grid, every 10th event a listen again while the level has listens left;
    a submit after 20-40 of them, and the next round at once (timed), as Run's players go on.
    `seq` counts on over the rounds (one counter per seat)."""
    await sio.call("create_room", {"game": "blend", "level": level}, timeout=30)
    schedule = on_schedule(interval, stop)
    seq = 0
    while time.monotonic() < stop:
        view = await start_round(sio, stats, "blend", level)
        hunt = view["hunt"]
        cells, listens_left, submit_after = hunt["grid"], hunt["listens_left"], random.randint(20, 40)
        sent = 0
        while True:
            if await anext(schedule, None) is None:
                return
            sent += 1
            if sent > submit_after:
                event = {"kind": "submit"}
            elif sent % 10 == 0 and listens_left > 0:
                event = {"kind": "listen"}
            else:
                event = {"kind": "move", "x": random.randrange(cells), "y": random.randrange(cells)}
            seq += 1
            reply = await timed_call(sio, stats, "hunt_move", {"round_id": view["round_id"], "seq": seq, **event}, "blend")
            if reply.get("ok"):
                listens_left = reply["hunt"]["listens_left"]
                if "result" in reply:
                    break
            elif reply["error"]["code"] in ("round_over", "wrong_round"):
                break
            elif reply["error"]["code"] == "too_late":  # the level's time is up: a submit is still taken
                submit_after = 0


async def echo_player(sio, stats: Stats, interval: float, stop: float) -> None:
    payload = {"round_id": "r_0123456789abcdef", "seq": 0, "version": 0, "move": {"kind": "swap", "slot": 0, "other": 1}}
    async for _ in on_schedule(interval, stop):
        payload["seq"] += 1
        await timed_call(sio, stats, "sort_move", payload)


def load(url: str, players: int, seconds: float, rate: float, echo: bool, rss_of=None, processes: dict | None = None, children_of: int | None = None) -> tuple[Stats, dict]:
    """The players, dealt over LOAD_PROCESSES load-generator processes: they all connect, then
    start at one moment; the measured window opens after the ramp.
    `processes`: name -> pid, whose CPU time over the window is reported beside the load
    generator's; and, as "its children", the child processes of `children_of` when the window
    opens (the database writer starts with the first write)."""
    context = multiprocessing.get_context("spawn")
    everyone = roles(players, RUN_EVERY, HUNT_EVERY)
    pipes, workers = [], []
    try:
        for share in range(LOAD_PROCESSES):
            here, there = context.Pipe()
            # Not daemonic: each has a child of its own (the Run bot's planner); ended below.
            indices = range(share, players, LOAD_PROCESSES)
            worker = context.Process(target=load_share, args=(there, url, indices, seconds, rate, echo, RAMP_SECONDS, [everyone[i] for i in indices]))
            worker.start()
            pipes.append(here)
            workers.append(worker)
        for pipe in pipes:
            assert pipe.recv() == "connected"
        memory = {"connected": rss_of() if rss_of else None}
        start = time.time() + 0.5
        for pipe in pipes:
            pipe.send(start)
        time.sleep(max(0.0, start + RAMP_SECONDS + 2 - time.time()))
        memory["rooms"] = rss_of() if rss_of else None
        generators = [pid for w in workers for pid in (w.pid, *children(w.pid))]
        watched = {"load generator": generators, **{name: [pid] for name, pid in (processes or {}).items()}}
        if children_of is not None:
            watched["its children"] = children(children_of)
        cpu_before = {pid: cpu_seconds(pid) for pids in watched.values() for pid in pids}
        shares = [pipe.recv() for pipe in pipes]
        stats = Stats()
        stats.cpu = {name: cpu_used(pids, cpu_before) for name, pids in watched.items()}
        stats.elapsed = max(share.elapsed for share in shares)
        for share in shares:
            stats.latencies += share.latencies
            for game, acks in share.moves.items():
                stats.moves[game] += acks
            for game, starts in share.round_starts.items():
                stats.round_starts[game] += starts
                stats.window_starts[game] += share.window_starts[game]
            for level, starts in share.hunt_starts.items():
                stats.hunt_starts.setdefault(level, []).extend(starts)
            for mine, theirs in ((stats.refused, share.refused), (stats.start_refusals, share.start_refusals)):
                for code, count in theirs.items():
                    mine[code] = mine.get(code, 0) + count
        for worker in workers:
            worker.join(timeout=30)
        return stats, memory
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()


def roles(players: int, run_every: int, hunt_every: int) -> list[tuple[str, int]]:
    """Each player's game and level: 1 in `run_every` plays Run (every run_every-th, as before
    Beat Hunt came), `players // hunt_every` play Beat Hunt, spread evenly over the others, their
    levels in turn over the ladder; the rest Sort (0: nobody on that game)."""
    everyone = [("run" if run_every and i % run_every == run_every - 1 else "sort", 0) for i in range(players)]
    rest = [i for i, (game, _) in enumerate(everyone) if game == "sort"]
    hunters = min(len(rest), players // hunt_every) if hunt_every else 0
    for k in range(hunters):
        everyone[rest[k * len(rest) // hunters]] = ("blend", k % len(hunt_rules.LADDER))
    return everyone


def load_share(pipe, url: str, indices: range, seconds: float, rate: float, echo: bool, ramp: float, games: list[tuple[str, int]]) -> None:
    """One load-generator process: connects its players, tells the parent, waits for the common
    start, plays, and sends back its Stats. `games`: each player's game and level (`roles`)."""
    asyncio.run(play_share(pipe, url, indices, seconds, rate, echo, ramp, games))


async def play_share(pipe, url: str, indices: range, seconds: float, rate: float, echo: bool, ramp: float, games: list[tuple[str, int]]) -> None:
    stats, clients = Stats(), []
    sem = asyncio.Semaphore(50)  # connect 50 at a time

    async def connect(i: int):
        async with sem:
            sio = socketio.AsyncClient(reconnection=False)
            await sio.connect(url, transports=["websocket"], wait_timeout=30)
            if not echo:
                await sio.call("hello", {"name": f"bench{i}"}, timeout=30)
            clients.append(sio)
            return sio

    connected = await asyncio.gather(*(connect(i) for i in indices))
    # No cyclic garbage collection while playing: measured, a full pass over 250 clients' objects
    # came once or twice in the 30 s window, held this loop (and every reply it had to read) for
    # 55-60 ms of CPU and freed next to nothing (0-6 objects). These processes stand in for the
    # players' own machines: what stalls them is not the server's latency.
    gc.freeze()
    gc.disable()
    pipe.send("connected")
    start = await asyncio.to_thread(pipe.recv)
    await asyncio.sleep(max(0.0, start - time.time()))
    warmup = ramp + 2
    stop = time.monotonic() + warmup + seconds
    tasks = []
    plays_run = not echo and any(game == "run" for game, _ in games)
    planner = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) if plays_run else None
    for (game, level), sio in zip(games, connected):
        if echo:
            tasks.append(echo_player(sio, stats, 1 / rate, stop))
        elif game == "run":
            tasks.append(arrive(run_player(sio, stats, stop, planner), ramp))
        elif game == "blend":
            tasks.append(arrive(hunt_player(sio, stats, 1 / rate, stop, level), ramp))
        else:
            tasks.append(arrive(sort_player(sio, stats, 1 / rate, stop), ramp))
    runner = asyncio.gather(*tasks)
    await asyncio.sleep(warmup)
    stats.counting = True
    started = time.monotonic()
    await asyncio.sleep(max(0.0, stop - time.monotonic()))
    # The window closes at `stop`, for the figures and the CPU read with them: a player still
    # finishing a round then (a Run start waiting on the composer) is not measured.
    stats.counting = False
    stats.elapsed = time.monotonic() - started
    pipe.send(stats)
    await runner
    if planner is not None:
        planner.shutdown()
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    await asyncio.sleep(0.5)  # let the transports close before the loop does


RAMP_SECONDS = 60.0
RUN_EVERY = 5  # one player in RUN_EVERY plays Run (0: nobody)
HUNT_EVERY = 5  # one player in HUNT_EVERY plays Beat Hunt (0: nobody)
LOAD_PROCESSES = int(os.environ.get("LOAD_PROCESSES", "2"))  # the load generator's processes


async def on_schedule(interval: float, stop: float):
    """Yields when each of a player's moves is due: at a random phase, then every `interval`
    seconds, until `stop` (a move whose ack came after the next was due is followed at once).
    Due times, not a pause after each ack: with pauses, players whose acks were late together
    stayed together, and within seconds the whole load moved in waves (bursts of 1,900 moves/s
    against 1,250 offered, quarter-seconds of 150 between them) that were most of the latency
    tail, the echo server's too (500 players: p99 40 ms; on a schedule, 4 ms)."""
    due = time.monotonic() + random.random() * interval
    while due < stop:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        yield due
        due += interval


async def arrive(play, ramp: float):
    """Start playing at a random moment of the ramp."""
    await asyncio.sleep(random.random() * ramp)
    await play


async def sort_player(sio, stats: Stats, interval: float, stop: float) -> None:
    """A solo Sort round, then a swap of two slots every `interval`, on the version it holds."""
    await sio.call("create_room", {"game": "sort", "ladder": "slices", "level": 0}, timeout=30)
    view = await start_round(sio, stats, "sort")
    version, seq = view["board"]["version"], 0
    async for _ in on_schedule(interval, stop):
        seq += 1
        reply = await timed_call(sio, stats, "sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "swap", "slot": 0, "other": 1}}, "sort")
        if reply.get("ok"):
            version = reply["board"]["version"]


def report(name: str, stats: Stats, server: str) -> float:
    """Prints the figures of one load; `server`: the name its server's CPU is reported under."""
    per_second = len(stats.latencies) / stats.elapsed
    ms = [x * 1000 for x in stats.latencies]
    print(f"{name:>5}: {len(ms):>7} moves in {stats.elapsed:.1f} s = {per_second:7.1f} moves/s; move-to-ack p50 {pct(ms, 50):6.1f} ms, p99 {pct(ms, 99):6.1f} ms" + (f"; refused {stats.refused}" if stats.refused else ""))
    print("       CPU over the window: " + ", ".join(f"{name} {100 * cpu / stats.elapsed:.0f} %" for name, cpu in stats.cpu.items())
          + f"; {1e6 * stats.cpu['load generator'] / max(1, len(ms)):.0f} µs of the load generator's and {1e6 * stats.cpu[server] / max(1, len(ms)):.0f} µs of the server's a move"
          + (f" ({1e6 * (stats.cpu[server] + stats.cpu['its children']) / max(1, len(ms)):.0f} µs with its children)" if "its children" in stats.cpu else ""))
    return per_second


def report_games(stats: Stats) -> None:
    """The game load's move acks per game (of the figures above), round starts per game, Beat Hunt's per level."""
    acks = {game: [x * 1000 for x in xs] for game, xs in stats.moves.items() if xs}
    print("       per game: " + "; ".join(f"{game} {len(xs)} moves = {len(xs) / stats.elapsed:.1f}/s, p50 {pct(xs, 50):.1f} ms, p99 {pct(xs, 99):.1f} ms" for game, xs in acks.items()))
    starts = {game: [x * 1000 for x in xs] for game, xs in stats.round_starts.items()}
    every = [x for xs in starts.values() for x in xs]
    print(f"round starts: {len(every)} timed, p50 {pct(every, 50):.1f} ms, p99 {pct(every, 99):.1f} ms ("
          + "; ".join(f"{game} {len(xs)}: {pct(xs, 50):.1f} / {pct(xs, 99):.1f}" for game, xs in starts.items() if xs)
          + f"); refused {stats.start_refusals or 'none'}")
    print("  of them in the measured window (p50 / p99 ms): " + "; ".join(
        f"{game} {len(xs)}: {pct(ms, 50):.1f} / {pct(ms, 99):.1f}" for game, xs in stats.window_starts.items() if xs for ms in [[x * 1000 for x in xs]]))
    if stats.hunt_starts:
        print("  blend starts by level (p50 / p99 / max ms): " + "; ".join(
            f"{level} ({hunt_rules.LADDER[level].name}) {len(xs)}: {pct(ms, 50):.1f} / {pct(ms, 99):.1f} / {max(ms):.1f}"
            for level, xs in sorted(stats.hunt_starts.items()) for ms in [[x * 1000 for x in xs]]))


class PoolWatch(threading.Thread):
    """/healthz's pool once a second while the game load runs: the fewest pieces each shape had
    ready, and in how many reads it had none (a start then waits for the refill)."""

    def __init__(self, server: ServerProcess):
        super().__init__(daemon=True)
        self.server, self.done = server, threading.Event()
        self.reads, self.fewest, self.empty = 0, {}, {}

    def run(self) -> None:
        while not self.done.wait(1.0):
            try:
                pool = self.server.get("/healthz")["pool"]
            except OSError:
                continue
            self.reads += 1
            for shape, ready in pool.items():
                self.fewest[shape] = min(ready, self.fewest.get(shape, ready))
                self.empty[shape] = self.empty.get(shape, 0) + (ready == 0)

    def report(self) -> str:
        def short(shape: str) -> str:  # GridRequest(n=5, contrast='contrasting', ...) -> Grid 5 contrasting
            name, _, fields = shape.partition("(")
            return f"{name.removesuffix('Request')} " + " ".join(v.split("=")[1].strip("'") for v in fields.rstrip(")").split(", ")[:2])
        return f"{self.reads} reads: " + ", ".join(f"{short(shape)} {fewest}" + (f" (none in {self.empty[shape]})" if self.empty[shape] else "") for shape, fewest in self.fewest.items())


def main(players: int = 500, seconds: float = 30, rate: float = 1.0) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    games = [game for game, _ in roles(players, RUN_EVERY, HUNT_EVERY)]
    sort_players, run_players, hunt_players = games.count("sort"), games.count("run"), games.count("blend")
    # as served (INFO: a line per connection, room, round start and end), unless LOG_LEVEL says otherwise
    # every player is 127.0.0.1 here: no per-address cap on connections
    server = ServerProcess(tmp, extra_env={"LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"), "MAX_CONNECTIONS_PER_ADDRESS": "0"}).start(timeout=120)
    echo_port = free_port()
    echo = subprocess.Popen([sys.executable, str(ROOT / "bench" / "echo_server.py"), str(echo_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300  # let the pool fill (every warmed shape to its depth)
        while time.monotonic() < deadline and not (len(pool := server.get("/healthz")["pool"]) >= 7 and all(v >= (24 if "Piece" in k else 12 if "Run" in k else 3) for k, v in pool.items())):
            time.sleep(1)
        idle = rss_mb(server.process.pid)
        print(f"{players} players ({sort_players} Sort, {run_players} Run, {hunt_players} Beat Hunt), {rate:g} moves/s each for Sort and Beat Hunt, {seconds:g} s measured after a {RAMP_SECONDS:g} s ramp; both servers {Config.from_env().async_mode}")
        watch = PoolWatch(server)
        watch.start()
        try:
            game_stats, memory = load(server.url, players, seconds, rate, echo=False, rss_of=lambda: rss_mb(server.process.pid), processes={"game server": server.process.pid}, children_of=server.process.pid)
        finally:
            watch.done.set()
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{echo_port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        echo_stats, _ = load(f"http://127.0.0.1:{echo_port}", players, seconds, len(game_stats.latencies) / game_stats.elapsed / players, echo=True, processes={"echo server": echo.pid})
        game = report("game", game_stats, "game server")
        report_games(game_stats)
        base = report("echo", echo_stats, "echo server")
        print(f"pool at the end: {json.dumps(server.get('/healthz')['pool'])}")
        print(f"pool's fewest ready while playing (ramp included), {watch.report()}")
        print(f"throughput ratio game/echo at the same offered load: {game / base:.2f}")
        print(f"game server RSS: idle {idle:.0f} MB, {players} players connected {memory['connected']:.0f} MB, with their {players} rooms live {memory['rooms']:.0f} MB"
              f" -> {(memory['connected'] - idle) * 1024 / players:.0f} KB per connected player, {(memory['rooms'] - memory['connected']) * 1024 / players:.0f} KB per live room")
    finally:
        server.stop()
        echo.terminate()
        shutil.rmtree(tmp, ignore_errors=True)  # the database and the server's log: ~20 MB a run


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    if len(args) > 3:
        RUN_EVERY = int(args[3])
    if len(args) > 4:
        HUNT_EVERY = int(args[4])
    main(int(args[0]) if args else 500, args[1] if len(args) > 1 else 30, args[2] if len(args) > 2 else 1.0)
