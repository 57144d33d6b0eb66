"""Every frame gets an answer: frames that are not Socket.IO events of JSON are refused with
`bad_payload`, logged once (not a traceback each), counted against the flood limit; and a
connection past the flood limit is closed, transport and all; and a client that stops reading
is dropped at the ping timeout."""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time

import pytest

from game_server.transport import FLOOD_DISCONNECT

from .server import InProcessClient, Player, ServerProcess

BAD_FRAMES = [
    '42["hello", {"name": "Ada"',  # truncated JSON
    "42" + "[" * 1000 + "]" * 1000,  # nested past the parser's depth
    "42[]",  # no event name
    "42{}",  # not a list
    '42{"0": "hello"}',
    "42[1,2,3]",  # a name that is not a string
    "42[null]",
    "49",  # no such packet type
    "44",  # CONNECT_ERROR, which only a server sends
    "42x",
]


@pytest.mark.parametrize("frame", BAD_FRAMES, ids=range(len(BAD_FRAMES)))
def test_a_frame_that_is_not_an_event_is_refused_and_the_connection_goes_on(app, frame, caplog):
    ada = InProcessClient(app, "Ada")
    with caplog.at_level(logging.WARNING):
        ada.frame(frame)
    errors = ada.events("error")
    assert [e["code"] for e in errors] == ["bad_payload"], errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback
    assert ada.call("hello", {"name": "Ada", "token": ada.hello["token"]})["ok"]  # still in play


def test_a_bad_event_that_asks_for_an_ack_gets_the_refusal_as_its_ack(app):
    """`421[1,2,3]` asks for an ack (id 1): the refusal comes back through it too."""
    ada = InProcessClient(app, "Ada")
    ada.frame("421[1,2,3]")
    assert ada.sio.acks["args"][0]["error"]["code"] == "bad_payload"
    assert [e["code"] for e in ada.events("error")] == ["bad_payload"]


def test_the_warning_for_bad_frames_is_one_line_a_minute(app, caplog):
    ada = InProcessClient(app, "Ada")
    with caplog.at_level(logging.WARNING, logger="game_server.transport"):
        for _ in range(50):
            ada.frame("42[]")
    assert len(ada.events("error")) == 50
    assert len([r for r in caplog.records if "refused (bad_payload)" in r.getMessage()]) <= 1


@pytest.mark.slow  # a real server process: the websocket itself must close
def test_a_flooder_that_ignores_being_disconnected_loses_its_websocket(server):
    """A hostile client ignores the server's DISCONNECT packet (a python-socketio client whose
    handler for it does nothing): past the flood limit the server closes the websocket itself."""
    flooder = Player(server, "Flood")
    flooder.sio._handle_disconnect = lambda namespace: None
    try:
        for _ in range(FLOOD_DISCONNECT + 500):
            if flooder.sio.eio.state != "connected":
                break
            flooder.sio.emit("calibrate", {"offset_ms": 0})
        deadline = time.monotonic() + 20
        while flooder.sio.eio.state == "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flooder.sio.eio.state != "connected"
    finally:
        flooder.close()
    following = Player(server, "Next")  # the server serves on
    assert following.call("hello", {"name": "Next", "token": following.token})["ok"]


class RawWebsocket:
    """A websocket to the server written by hand, frame by frame: what a hostile or broken
    client sends is sent as it is, through the server's whole receive path."""

    def __init__(self, server, receive_buffer: int | None = None):
        self.sock = socket.create_connection(("127.0.0.1", server.port))
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: arcade\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer:  # the upgrade first: frames sent with the request would be read as HTTP
            answer += self.sock.recv(1)
        assert answer.startswith(b"HTTP/1.1 101"), answer

    def send(self, text: str) -> None:
        """One masked text frame (a client's frames are masked), shorter than 126 bytes."""
        data, mask = text.encode(), os.urandom(4)
        assert len(data) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def receive(self, within: float = 10.0) -> str:
        """The server's next text frame (unmasked)."""
        self.sock.settimeout(within)
        head = self._exactly(2)
        size = head[1] & 0x7F
        if size >= 126:
            size = int.from_bytes(self._exactly(2 if size == 126 else 8), "big")
        return self._exactly(size).decode()

    def receive_until(self, prefix: str, within: float = 10.0) -> str:
        deadline = time.monotonic() + within
        while (text := self.receive(max(0.1, deadline - time.monotonic()))) and not text.startswith(prefix):
            pass
        return text

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data


@pytest.mark.slow  # a real server process: the frame comes off the wire
def test_a_bad_frame_off_the_wire_is_refused_and_the_connection_goes_on(server):
    """Found: Engine.IO kept the message handler it was built with, so on the wire a frame that
    did not decode passed the guard by (a traceback in the log, no answer); only the in-process
    path had met it."""
    raw = RawWebsocket(server)
    try:
        raw.send("40")
        raw.receive_until("40")  # connected to the namespace
        raw.send('421["hello", {"name": "Ada"')  # truncated JSON
        refusal = raw.receive_until('42["error"')
        assert json.loads(refusal[2:])[1]["code"] == "bad_payload"
        raw.send('422["hello",{"name":"Ada"}]')
        reply = json.loads(raw.receive_until("432")[3:])[0]
        assert reply["ok"], reply
    finally:
        raw.sock.close()
    assert "handler error" not in server.log.read_text()


class SilentClient(RawWebsocket):
    """A raw websocket that joins a room and then never reads (nor answers a ping) again: a
    client stuck, or one that keeps sockets open on purpose. Its receive buffer is kept small so
    that the server's sends back up."""

    def __init__(self, server, code: str):
        super().__init__(server, receive_buffer=4096)
        for text in ("40", '421["hello",{"name":"Silent"}]', '422["join_room",' + json.dumps({"code": code}) + ']'):
            self.send(text)

    def closed_by_the_server(self, within: float) -> bool:
        """Reads everything now: True if the server has closed the connection (EOF after it)."""
        self.sock.settimeout(within)
        try:
            while self.sock.recv(65536):
                pass
            return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.close()


@pytest.mark.timeout(120)
def test_a_client_that_stops_reading_is_dropped_at_the_ping_timeout_and_its_partner_plays_on(tmp_path):
    """Found: such a client kept its socket (and kernel buffers) for good, its writer blocked in
    send; and its disconnect, noticed inside the partner's emit, waited on the room's lock the
    partner's move held: the room froze. Now its seat is marked away at the ping timeout, its
    connection is closed, and the partner's moves are answered throughout."""
    server = ServerProcess(tmp_path, extra_env={"PING_INTERVAL": "2", "PING_TIMEOUT": "3", "POOL_DEPTH": "1"}).start(timeout=120)
    host = Player(server, "Host")
    host.sio.eio.ping_timeout = 60  # the host's own client must not give up on a busy machine
    try:
        code = host.call("create_room", {"game": "sort", "mode": "coop", "ladder": "slices", "level": 0})["room"]["code"]
        silent = SilentClient(server, code)
        host.wait_for("room", where=lambda room: len(room["seats"]) == 2)
        view = host.call("start_round", {})["round"]
        started, away_at = time.monotonic(), None
        while time.monotonic() - (away_at or started) < (2 if away_at else 20):  # the partner plays on: every move answered
            reply = host.move(view["round_id"], view["board"]["version"], "listen_board")
            assert reply["ok"] or reply["error"]["code"] == "round_paused", reply  # paused once the partner is away
            away = [data for event, data in host.seen if event == "partner_away"]
            away_at = away_at or (time.monotonic() if away else None)
            time.sleep(0.03)
        assert away and away[0]["player_id"] != host.player_id
        assert silent.closed_by_the_server(within=10)
    finally:
        host.close()
        server.stop()
