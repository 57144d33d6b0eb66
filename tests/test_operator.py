"""What an operator and a player see around the game itself: the server's log lines, the error
for a busy port, a second tab taking the player over, and a restarted server.

Real server processes (tests/server.py) and real clients: python-socketio, and the page's own
web_client/src/net.js run by Node against the real socket.io-client from web_client/node_modules
(two "tabs" share one localStorage, as two tabs of one site do)."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .server import ROOT, Clock, Player, ServerProcess, answer_of, free_port, solve

pytestmark = pytest.mark.timeout(240)

SESSION_MOVED = {"message": "this game is open in another tab or window"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A game server that logs at INFO, as `make run` does."""
    proc = ServerProcess(tmp_path_factory.mktemp("server"), extra_env={"LOG_LEVEL": "INFO"}).start()
    yield proc
    proc.stop()


def start(player: Player, mode: str = "solo", partner: Player | None = None) -> tuple[str, dict]:
    """A room on Sort's first level with a round started: its code and the round."""
    room = player.call("create_room", {"game": "sort", "mode": mode, "level": 0})
    assert room["ok"], room
    if partner is not None:
        assert partner.call("join_room", {"code": room["room"]["code"]})["ok"]
    started = player.call("start_round", {})
    assert started["ok"], started
    return room["room"]["code"], started["round"]


def log_lines(server: ServerProcess, pattern: str, count: int = 1, timeout: float = 10) -> list[re.Match]:
    """The server's log lines matching `pattern` (a regex after "INFO melody_arcade.<x>: "), once
    there are at least `count` (a line can land a moment after the event it tells of)."""
    regex = re.compile(r"^\S+ \S+ INFO melody_arcade\.\w+: " + pattern + "$", re.M)
    deadline = time.monotonic() + timeout
    while len(found := list(regex.finditer(server.log.read_text()))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(found) >= count, f"{pattern!r} {count} times in:\n{server.log.read_text()[-3000:]}"
    return found


def test_a_sort_round_in_the_operator_log(server):
    player = Player(server, "Ada")
    pid = player.player_id
    try:
        code, round_ = start(player)
        board = solve(player, round_, answer_of(server, round_["round_id"]))
        assert player.move(round_["round_id"], board["version"], "submit")["result"]["score"] == 1000
        assert player.call("leave_room", {})["ok"]
    finally:
        player.close()

    sid = log_lines(server, rf"hello sid=(\S+) player={pid} name='Ada' returning=False room=- moved_from=-")[0][1]
    log_lines(server, rf"connect sid={sid} addr=127\.0\.0\.1")
    log_lines(server, rf"room created room={code} game=sort mode=solo ladder=slices level=0 host={pid}")
    log_lines(server, rf"round start round={round_['round_id']} room={code} game=sort level=slices-0 players={pid}:'Ada'")
    log_lines(server, rf"round end round={round_['round_id']} room={code} game=sort level=slices-0 score=1000 ended=submitted moves=5 seconds=\d+\.\d")
    log_lines(server, rf"room left room={code} player={pid} seats=0/1")
    log_lines(server, rf"room closed room={code} reason=empty")
    log_lines(server, rf"disconnect sid={sid} player={pid} name='Ada' reason='[a-z ]+'")
    # No line for a move: the round's id is on its start and end lines only.
    assert server.log.read_text().count(round_["round_id"]) == 2


def test_rooms_joined_and_rounds_abandoned_in_the_operator_log(server):
    host, guest = Player(server, "Host"), Player(server, "O'Neil, Bo")  # a quote and a comma: names are quoted
    try:
        code, round_ = start(host, mode="coop", partner=guest)
        log_lines(server, rf"room joined room={code} player={guest.player_id} name=\"O'Neil, Bo\" seats=2/2")
        log_lines(server, rf"round start round={round_['round_id']} room={code} game=sort level=slices-0 players={host.player_id}:'Host',{guest.player_id}:\"O'Neil, Bo\"")
        assert host.call("leave_room", {})["ok"] and guest.call("leave_room", {})["ok"]
        log_lines(server, rf"round end round={round_['round_id']} room={code} game=sort level=slices-0 score=- ended=abandoned moves=0 seconds=\d+\.\d")
        log_lines(server, rf"room closed room={code} reason=empty")
    finally:
        host.close()
        guest.close()


def test_a_run_round_in_the_operator_log(server):
    player = Player(server, "Runner")
    try:
        room = player.call("create_room", {"game": "run", "mode": "solo", "level": 0})
        code = room["room"]["code"]
        view = player.call("start_round", {})["round"]
        log_lines(server, rf"round start round={view['round_id']} room={code} game=run level=run-0 players={player.player_id}:'Runner'")
        clock = Clock(view)
        clock.wait_for(10)  # after the count-in
        held = player.call("run_input", {"round_id": view["round_id"], "seq": 1, "inputs": [{"tick": clock.now() + 5, "lane": 0, "key": "right", "down": True}]})
        assert held["ok"], held
        status = player.wait_for("round_ended", timeout=40)["lanes"][0]["status"]  # holding right, it runs until it falls or scrolls off
        log_lines(server, rf"round end round={view['round_id']} room={code} game=run level=run-0 score=\d+ ended={status} moves=1 seconds=\d+\.\d")
    finally:
        player.close()


def test_a_second_connection_moves_the_session(server):
    first = Player(server, "Tab")
    _, round_ = start(first)
    answer = answer_of(server, round_["round_id"])
    assert first.move(round_["round_id"], 0, "place", clip=answer[0], slot=0)["ok"]
    second = Player(server, "Tab", token=first.token)
    try:
        assert second.player_id == first.player_id
        assert second.hello["round"]["round_id"] == round_["round_id"] and second.hello["last_seq"] == 1
        assert first.wait_for("session_moved") == SESSION_MOVED
        deadline = time.monotonic() + 10
        while first.sio.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not first.sio.connected, "the server did not drop the connection the session moved from"
        second.seq = second.hello["last_seq"]
        board = solve(second, second.hello["round"], answer)
        done = second.move(round_["round_id"], board["version"], "submit")
        assert done["ok"] and done["result"]["score"] == 1000
        assert not [event for event, _ in second.seen if event in ("partner_away", "session_moved")]
        old = log_lines(server, rf"hello sid=\S+ player={first.player_id} name='Tab' returning=True room=\S+ moved_from=(\S+)")[0][1]
        log_lines(server, rf"disconnect sid={old} player={first.player_id} name='Tab' reason='server disconnect'")
    finally:
        first.close()
        second.close()


def test_the_same_connection_saying_hello_again_keeps_its_session(server):
    player = Player(server, "Once")
    try:
        again = player.call("hello", {"name": "Once", "token": player.token})
        assert again["ok"] and again["player_id"] == player.player_id
        time.sleep(0.3)
        assert player.sio.connected and not [e for e, _ in player.seen if e == "session_moved"]
    finally:
        player.close()


# --- the command line ------------------------------------------------------------------------


def serve_command(port: int, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("ASYNC_MODE", "HOST")}
    return subprocess.run([sys.executable, "-m", "game_server", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**base, "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "LOG_LEVEL": "INFO", **env})


@pytest.mark.slow  # a server process of its own
@pytest.mark.parametrize("async_mode", ["gevent", "threading"])
def test_a_busy_port_is_one_line_and_status_2(tmp_path, async_mode):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve_command(port, tmp_path, ASYNC_MODE=async_mode)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"melody-arcade: port {port} on 127.0.0.1 is already in use (is another server running? set PORT=... to use another)\n"


@pytest.mark.slow  # a server process of its own
def test_an_unknown_log_level_is_refused_in_one_line(tmp_path):
    done = serve_command(free_port(), tmp_path, LOG_LEVEL="loud")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got 'loud'"


# --- the page's net.js, in Node --------------------------------------------------------------

HOOKS = """
export async function resolve(specifier, context, next) {
  if (specifier === "/vendor/socket.io.esm.min.js") return next("socket.io-client", { ...context, parentURL: PARENT });
  return next(specifier, context);
}
"""

DRIVER = """
import { register } from "node:module";
import readline from "node:readline";
register(HOOKS);
globalThis.location = new URL(process.argv[2]);
const stored = new Map(); // one localStorage for every tab: one site
globalThis.localStorage = { getItem: (k) => stored.get(k) ?? null, setItem: (k, v) => stored.set(k, String(v)), removeItem: (k) => stored.delete(k) };
const { Net } = await import(NET);
const tabs = {};
const out = (message) => process.stdout.write(JSON.stringify(message) + "\\n");
const report = (tab) => out({ tab, report: true, state: tabs[tab].state, connected: tabs[tab].socket.connected, active: tabs[tab].socket.active });
for await (const line of readline.createInterface({ input: process.stdin })) {
  const { op, tab, ...args } = JSON.parse(line);
  if (op === "open") {
    tabs[tab] = new Net();
    for (const type of ["status", "welcome", "refused", "session_moved", "session_lost"]) {
      tabs[tab].addEventListener(type, (e) => out({ tab, event: type, detail: type === "welcome" ? { player_id: e.detail.player_id, room: e.detail.room } : e.detail }));
    }
    report(tab);
  } else if (op === "start") tabs[tab].start(args.name);
  else if (op === "call") tabs[tab].call(args.event, args.data).then((reply) => out({ tab, reply_to: args.event, ok: reply.ok, room: reply.room ?? null }));
  else if (op === "state") report(tab);
  else if (op === "drop") tabs[tab].dropForTest();
  else if (op === "store") stored.set(args.key, args.value);
}
"""


class Page:
    """`net.js` in a Node process: tabs opened and driven by JSON lines on stdin; what they fire
    comes back as JSON lines."""

    def __init__(self, tmp: Path, url: str):
        client = ROOT / "web_client" / "node_modules" / "socket.io-client"
        if shutil.which("node") is None or not client.exists():
            pytest.skip("needs node and web_client/node_modules (npm ci)")
        hooks, driver = tmp / "hooks.mjs", tmp / "driver.mjs"
        hooks.write_text(HOOKS.replace("PARENT", json.dumps((ROOT / "web_client" / "package.json").as_uri())))
        driver.write_text(DRIVER.replace("HOOKS", json.dumps(hooks.as_uri())).replace("NET", json.dumps((ROOT / "web_client" / "src" / "net.js").as_uri())))
        self.process = subprocess.Popen(["node", str(driver), url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.messages: queue.Queue = queue.Queue()
        self.seen: list[dict] = []  # every message, in order
        self.pending: list[dict] = []  # those no `wait` has taken yet
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self.messages.put(json.loads(line))
            except ValueError:
                self.messages.put({"output": line})

    def send(self, op: str, tab: str, **args) -> None:
        self.process.stdin.write(json.dumps({"op": op, "tab": tab, **args}) + "\n")

    def wait(self, timeout: float = 20, **match) -> dict:
        """The first message not yet taken with these fields (taken: the others stay pending)."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((m for m in self.pending if all(m.get(k) == v for k, v in match.items())), None)
            if found is not None:
                self.pending.remove(found)
                return found
            if not self.quiet(deadline - time.monotonic(), until_one=True):
                raise AssertionError(f"no message like {match} within {timeout} s; seen {self.seen[-10:]}")

    def quiet(self, seconds: float, until_one: bool = False) -> list[dict]:
        """The messages that come within `seconds` (or the first one)."""
        got, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not (until_one and got):
            try:
                got.append(self.messages.get(timeout=left))
            except queue.Empty:
                break
        self.seen += got
        self.pending += got
        return got

    def state(self, tab: str) -> dict:
        """The tab's state, connected and active (whether socket.io-client would reconnect)."""
        self.send("state", tab)
        return self.wait(tab=tab, report=True)

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def test_the_page_idles_until_started_and_stops_when_another_tab_takes_the_session(server, tmp_path):
    page = Page(tmp_path, server.url)
    try:
        page.send("open", "one")
        assert page.wait(tab="one") == {"tab": "one", "report": True, "state": "idle", "connected": False, "active": False}
        assert page.quiet(0.5) == []  # nothing fired, nothing sent before start
        page.send("start", "one", name="Ada")
        assert page.wait(tab="one", event="status")["detail"] == "connecting"
        assert page.wait(tab="one", event="status")["detail"] == "connected"
        player = page.wait(tab="one", event="welcome")["detail"]["player_id"]

        page.send("open", "two")
        page.wait(tab="two", report=True, state="idle")
        page.send("start", "two", name="Ada")
        assert page.wait(tab="two", event="welcome")["detail"]["player_id"] == player
        assert page.wait(tab="one", event="status")["detail"] == "session_moved"
        assert page.wait(tab="one", event="session_moved")["detail"] == SESSION_MOVED
        later = page.quiet(2.5)  # longer than the reconnection delays: a tab fighting back would show
        assert [m for m in later if m.get("tab") == "one"] == []
        assert page.state("one") == {"tab": "one", "report": True, "state": "session_moved", "connected": False, "active": False}
        assert page.state("two")["state"] == "connected"
        page.send("call", "two", event="create_room", data={"game": "sort", "mode": "solo", "level": 0})
        assert page.wait(tab="two", reply_to="create_room")["ok"]
        assert not [m for m in page.seen if m.get("tab") == "two" and m.get("event") in ("session_moved", "session_lost")]
    finally:
        page.close()


@pytest.mark.slow  # a server process of its own
def test_the_page_tells_the_player_when_a_restart_lost_their_round(tmp_path):
    """A restart with another SECRET_KEY (the default: a random one) refuses the old token; with
    the same key the token is good but the room is gone. Either way the page hears
    `session_lost`, and plays on as a player of the new server."""
    (tmp_path / "first").mkdir()
    first = ServerProcess(tmp_path / "first", secret="key-one").start()
    page = Page(tmp_path, first.url)
    servers = [first]
    try:
        page.send("open", "tab")
        page.send("start", "tab", name="Ada")
        player = page.wait(tab="tab", event="welcome")["detail"]["player_id"]
        page.send("call", "tab", event="create_room", data={"game": "sort", "mode": "solo", "level": 0})
        assert page.wait(tab="tab", reply_to="create_room")["ok"]

        for name, secret, reason in (("second", "key-two", "the server restarted: your round has ended"),
                                     ("third", "key-two", "your room has closed (the server restarted, or you were away too long): your round has ended")):
            servers[-1].kill()
            page.wait(tab="tab", event="status", detail="reconnecting")
            (tmp_path / name).mkdir()
            restarted = ServerProcess(tmp_path / name, secret=secret)
            restarted.port = first.port
            restarted.env["PORT"] = str(first.port)
            servers.append(restarted.start())
            welcome = page.wait(tab="tab", event="welcome", timeout=30)["detail"]
            assert welcome["room"] is None
            assert page.wait(tab="tab", event="session_lost")["detail"] == {"reason": reason}
            assert (welcome["player_id"] != player) == (name == "second")  # a refused token: a new player
            player = welcome["player_id"]
            page.send("call", "tab", event="create_room", data={"game": "sort", "mode": "solo", "level": 0})
            assert page.wait(tab="tab", reply_to="create_room")["ok"]
        # LOG_LEVEL=WARNING (ServerProcess's default) keeps the INFO lines out.
        assert all("melody_arcade" not in proc.log.read_text() for proc in servers)
    finally:
        page.close()
        for proc in servers:
            proc.stop()


def test_a_reconnection_that_loses_nothing_is_not_a_lost_session(server, tmp_path):
    """Dropped in a room, back in it; dropped in the lobby, back in the lobby: no `session_lost`."""
    page = Page(tmp_path, server.url)
    try:
        page.send("open", "tab")
        page.send("start", "tab", name="Bo")
        page.wait(tab="tab", event="welcome")
        page.send("call", "tab", event="create_room", data={"game": "sort", "mode": "solo", "level": 0})
        code = page.wait(tab="tab", reply_to="create_room")["room"]["code"]
        page.send("drop", "tab")
        page.wait(tab="tab", event="status", detail="reconnecting")
        assert page.wait(tab="tab", event="welcome")["detail"]["room"]["code"] == code
        page.send("call", "tab", event="leave_room", data={})
        assert page.wait(tab="tab", reply_to="leave_room")["ok"]
        page.send("drop", "tab")
        assert page.wait(tab="tab", event="welcome")["detail"]["room"] is None
        page.quiet(0.5)
        assert not [m for m in page.seen if m.get("event") in ("session_lost", "session_moved")]
    finally:
        page.close()


def test_the_page_with_an_expired_token_plays_on_as_a_new_player_and_says_so_once(server, tmp_path):
    """A token past its lifetime (issued 31 days ago with the server's key, as if the player had
    been away that long): the page says hello as a new player with the same name, tells the
    player once, and stores the new player's token."""
    from game_server.rooms import Tokens

    old = Tokens("test-secret", clock=lambda: time.time() - 31 * 86400).issue("p_0123456789abcdef")
    page = Page(tmp_path, server.url)
    try:
        page.send("open", "tab")
        page.send("store", "tab", key="melody-arcade.token", value=old)
        page.send("start", "tab", name="Away")
        welcome = page.wait(tab="tab", event="welcome")["detail"]
        assert welcome["player_id"] != "p_0123456789abcdef"
        assert "new player, with the same name" in page.wait(tab="tab", event="session_lost")["detail"]["reason"]
        page.send("drop", "tab")
        assert page.wait(tab="tab", event="welcome")["detail"]["player_id"] == welcome["player_id"]  # the new token was stored
        page.quiet(0.5)
        assert [m for m in page.seen if m.get("event") == "session_lost"] and len([m for m in page.seen if m.get("event") == "session_lost"]) == 1
    finally:
        page.close()
