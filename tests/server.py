"""A real game server process for socket tests, and a small python-socketio client around it."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`python -m game_server serve` on a free loopback port with its own SQLite file."""

    def __init__(self, tmp: Path, secret: str = "test-secret", extra_env: dict | None = None):
        self.port = free_port()
        self.db = tmp / "arcade.db"
        self.log = tmp / f"server-{self.port}.log"
        self.env = {**os.environ, "PORT": str(self.port), "DATABASE_URL": f"sqlite:///{self.db}", "SECRET_KEY": secret, "LOG_LEVEL": "WARNING", **(extra_env or {})}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        self.process = subprocess.Popen([sys.executable, "-m", "game_server", "serve"], cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if self.get("/healthz")["ready"]:  # up, and a piece of every shape composed
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            body = response.read()
            return json.loads(body) if response.headers.get_content_type() == "application/json" else body

    def stored_round(self, round_id: str, timeout: float = 10):
        """The round as this server's database holds it (None if it is not there within `timeout`)."""
        from game_server.storage import Storage

        storage = Storage(f"sqlite:///{self.db}")
        try:
            return wait_for_round(storage, round_id, timeout)
        finally:
            storage.engine.dispose()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Player:
    """A python-socketio client that records every event the server pushes."""

    def __init__(self, server: ServerProcess, name: str, token: str | None = None):
        self.sio = socketio.Client(reconnection=False)
        self.events: queue.Queue = queue.Queue()  # consumed by wait_for
        self.seen: list[tuple[str, object]] = []  # every pushed event, in order, never consumed
        self.sio.on("*", self._record)
        self.sio.connect(server.url, transports=["websocket"], wait_timeout=10)
        self.hello = self.call("hello", {"name": name, **({"token": token} if token else {})})
        assert self.hello["ok"], self.hello
        self.player_id, self.token = self.hello["player_id"], self.hello["token"]
        self.seq = 0

    def _record(self, event: str, data=None) -> None:
        self.seen.append((event, data))
        self.events.put((event, data))

    def call(self, event: str, data=None, timeout: float = 15):
        return self.sio.call(event, data, timeout=timeout)

    def move(self, round_id: str, version: int, kind: str, seq: int | None = None, **fields):
        if seq is None:
            self.seq += 1
            seq = self.seq
        return self.call("sort_move", {"round_id": round_id, "seq": seq, "version": version, "move": {"kind": kind, **fields}})

    def wait_for(self, event: str, timeout: float = 15, where=lambda data: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                name, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if name == event and where(data):
                return data
        raise AssertionError(f"no {event!r} event within {timeout} s")

    def close(self) -> None:
        disconnect(self.sio)


def disconnect(sio: socketio.Client) -> None:
    """Disconnect a python-socketio client without its 3 s wait: python-engineio's read loop
    takes the server's websocket close frame, and websocket-client's close waits its whole
    timeout for it (every close of a test's clients cost 3 s)."""
    if not sio.connected:
        return
    ws = getattr(sio.eio, "ws", None)
    if ws is not None:
        close = ws.close
        ws.close = lambda *args, **kwargs: close(timeout=0.2)
    sio.disconnect()


def wait_for_round(storage, round_id: str, timeout: float = 10):
    """The round as `storage` holds it, once its row has committed (None if not within `timeout`)."""
    deadline = time.monotonic() + timeout
    while (stored := storage.get_round(round_id)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return stored


def answer_of(server: ServerProcess, round_id: str) -> list[str]:
    return server.stored_round(round_id).setup["answer"]


def start_sort(player: Player, ladder="slices", level=0, mode="solo", partner: Player | None = None) -> dict:
    room = player.call("create_room", {"game": "sort", "mode": mode, "ladder": ladder, "level": level})
    assert room["ok"], room
    if partner is not None:
        joined = partner.call("join_room", {"code": room["room"]["code"]})
        assert joined["ok"], joined
    started = player.call("start_round", {})
    assert started["ok"], started
    return started["round"]


def solve(player: Player, round_: dict, answer: list[str], board: dict | None = None) -> dict:
    """Place the right clips in the empty slots, starting from `board` (default: the round's)."""
    board = board or round_["board"]
    for slot, clip in enumerate(answer):
        if board["slots"][slot] is None:
            reply = player.move(round_["round_id"], board["version"], "place", clip=clip, slot=slot)
            assert reply["ok"], reply
            board = reply["board"]
    return board


TICK = 1 / 60  # seconds: the Run round clock's tick


class Clock:
    """The round's clock on this side, set from a view's clock_tick."""

    def __init__(self, view: dict):
        self.t0 = time.monotonic() - view["run"]["clock_tick"] * TICK

    def now(self) -> int:
        return int((time.monotonic() - self.t0) / TICK)

    def wait_for(self, tick: int) -> None:
        time.sleep(max(0.0, self.t0 + tick * TICK - time.monotonic()))


class InProcessClient:
    """A player on Flask-SocketIO's test client: `call` is an event with its ack."""

    def __init__(self, app, name: str | None, address: str = "127.0.0.1"):
        """Connect from `address` (the per-address limits count it) and say hello as a new
        player named `name` (None: connect only; a refused connection is not `connected`)."""
        from game_server.app import socketio_of

        http = app.test_client()
        http.environ_base["REMOTE_ADDR"] = address
        self.sio = socketio_of(app).test_client(app, flask_test_client=http)
        if name is not None:
            self.hello = self.call("hello", {"name": name})
            self.player_id = self.hello["player_id"]

    @property
    def connected(self) -> bool:
        return self.sio.is_connected()

    def call(self, event: str, payload=None) -> dict:
        return self.sio.emit(event, payload, callback=True)

    def events(self, name: str) -> list[dict]:
        """The pushes of that name received since the last look (acks are not pushes)."""
        return [e["args"][0] for e in self.sio.get_received() if e["name"] == name]

    def frame(self, raw: str) -> None:
        """A raw websocket text frame as a client would send it (`42["hello",{}]`: Engine.IO's
        message `4`, then the Socket.IO packet, or anything else after the `4`)."""
        assert raw.startswith("4"), "an Engine.IO message frame starts with 4"
        self.sio.socketio.server.eio._trigger_event("message", self.sio.eio_sid, raw[1:])  # as Engine.IO's socket hands it on


def in_process_app(tmp_path, **overrides):
    """The real app in this process: SQLite in `tmp_path`, rooms in memory, the committed models
    composing on demand in this process (no pool kept, no child process); `overrides` replace
    Config fields."""
    from game_server.app import create_app
    from game_server.config import Config

    return create_app(Config(database_url=f"sqlite:///{tmp_path}/rounds.db", pool_depth=0, composer_processes=0, log_level="WARNING"), **overrides)


def fill_in_the_answer(app, player: InProcessClient, code: str, view: dict, seq: int = 0, version: int | None = None) -> tuple[int, int]:
    """Place every free slot's right clip (after the moves up to `seq`, on the board at `version`:
    by default the view's, no move made); returns the next seq and the board's version."""
    from game_server.app import services_of

    with services_of(app).store.locked(code) as room:
        answer = room.round.puzzle.answer
    board, version = view["board"], view["board"]["version"] if version is None else version
    for slot, clip in enumerate(answer):
        if slot not in board["fixed"]:
            seq += 1
            reply = player.call("sort_move", {"round_id": view["round_id"], "seq": seq, "version": version, "move": {"kind": "place", "clip": clip, "slot": slot}})
            assert reply["ok"], reply
            version = reply["board"]["version"]
    return seq + 1, version


def heard_only_rate() -> int:
    """The sample rate of heard-only WAVs here: the SoundFont's samples (44.1 kHz) where this
    machine has FluidSynth and the SoundFont, music/audio.py's synths (22.05 kHz) where not."""
    from music import audio, sampled

    try:
        sampled.load()
    except sampled.SynthUnavailable:
        return audio.SAMPLE_RATE
    return sampled.SAMPLE_RATE


def asked_at_once(app, path: str, count: int = 4) -> list[bytes]:
    """`count` clients GET `path` of the in-process app at the same moment (a barrier lets them go
    together): what a result screen shown to several players, or a page's first sounds, asks."""
    import threading

    start = threading.Barrier(count)
    answers: list[bytes] = []

    def ask(client):
        start.wait()
        answers.append(client.get(path).data)

    players = [threading.Thread(target=ask, args=(app.test_client(),)) for _ in range(count)]
    for p in players:
        p.start()
    for p in players:
        p.join()
    return answers
