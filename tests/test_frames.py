"""Every frame gets an answer: frames that are not Socket.IO events of JSON are refused with
`bad_payload`, logged once (not a traceback each), counted against the flood limit; and a
connection past the flood limit is closed, transport and all."""

from __future__ import annotations

import logging
import time

import pytest

from game_server.transport import FLOOD_DISCONNECT

from .server import InProcessClient, Player

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
