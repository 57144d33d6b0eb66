"""Socket.IO to the lobby and the round path: every client event is validated here, answered
through its ack with {"ok": true, ...} or {"ok": false, "error": {"code", "message"}}, and a
refusal is also emitted as an `error` event, for a client that sent the event without an ack.
docs/protocol.md is the reference. No game is named here: a game's events come from the
registry."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from flask import request
from flask_socketio import SocketIO
from socketio.packet import Packet

from .games import GAMES
from .lobby import Lobby
from .protocol import MAX_EVENT_BYTES, Calibrate, CreateRoom, Hello, JoinRoom, LeaveRoom, ProtocolError, parse
from .rounds import Rounds
from .services import Background, Connection, Services, connections_log

log = logging.getLogger(__name__)

FLOOD_DISCONNECT = 5000  # refused-for-rate events after which a connection is dropped
RESERVED_EVENTS = ("connect", "disconnect", "*")  # Socket.IO's own names: never a client's event


class JsonPacket(Packet):
    """Socket.IO packets for a protocol that is JSON only, both ways (docs/protocol.md). The
    stock packet searches every element of every outgoing payload for bytes to send as binary
    attachments, without stopping early: a packet carrying a piece took 3.5 times as long to
    build (bench/music.py), and a move a fifth more of the server's CPU (bench/realtime.py, 200
    players). A client's binary event still decodes, and is refused like any other bad payload."""

    uses_binary_events = False


def refuse_reserved_events(server) -> None:
    """python-socketio hands a client-sent event named 'connect' or 'disconnect' to the app's own
    connection handlers (and '*' to the catch-all): such a packet would make a connection forget
    its hello or mark its seat away. Refuse them before dispatch, as unknown events."""
    from socketio import packet

    dispatch = server._handle_event

    def guarded(eio_sid, namespace, id, data):
        if data and data[0] in RESERVED_EVENTS:
            reply = ProtocolError("unknown_event", f"no event called {data[0]!r}").reply()
            server._send_packet(eio_sid, server.packet_class(packet.EVENT, namespace=namespace or "/", data=["error", {**reply["error"], "event": data[0]}]))
            if id is not None:
                server._send_packet(eio_sid, server.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[reply]))
            return
        return dispatch(eio_sid, namespace, id, data)

    server._handle_event = guarded


def register(socketio: SocketIO, services: Services) -> Rounds:
    """Wire every event; returns the round path (its clock is running)."""
    s = services
    # The game's events are handled on python-socketio's server directly, with the connection's
    # sid passed in: Flask-SocketIO's dispatch would build a Flask request context for every
    # event (a fifth of a move's CPU), and no handler needs one. Connect and disconnect still
    # go through Flask-SocketIO. Every emit goes through python-socketio's server too.
    server = socketio.server
    refuse_reserved_events(server)
    background = Background(socketio.start_background_task, socketio.sleep)
    rounds = Rounds(s, server, background)
    lobby = Lobby(s, server, background, rounds)

    def on(event: str, model, fn: Callable) -> None:
        """Answer `event` with fn(connection, payload): flood guard, size limit, payload
        validation (`model`; None: fn parses it), errors as replies."""

        def handle(sid, *args):
            conn = s.connections.get(sid) or s.connections.setdefault(sid, Connection(sid))
            data = args[0] if args else None
            try:
                if len(args) > 1:
                    raise ProtocolError("bad_payload", "send one payload object per event")
                if not conn.bucket.allow():
                    conn.flood_refusals += 1
                    if conn.flood_refusals > FLOOD_DISCONNECT:
                        server.disconnect(sid)
                    raise ProtocolError("rate_limited", "too many events: slow down")
                if len(json.dumps(data, default=str)) > MAX_EVENT_BYTES:
                    raise ProtocolError("payload_too_large", f"events are limited to {MAX_EVENT_BYTES} bytes")
                if event != "hello" and conn.player_id is None:
                    raise ProtocolError("no_hello", "say hello first")
                payload = parse(model, data) if model is not None else data
                return {"ok": True, **fn(conn, payload)}
            except ProtocolError as exc:
                reply = exc.reply()
                server.emit("error", {**reply["error"], "event": event}, to=sid)
                return reply
            except Exception:
                log.exception("handler %s failed", event)
                reply = ProtocolError("server_error", "the server failed on this event; the room is unchanged").reply()
                server.emit("error", {**reply["error"], "event": event}, to=sid)
                return reply

        server.on(event, handle)

    on("hello", Hello, lobby.hello)
    on("create_room", CreateRoom, lobby.create_room)
    on("join_room", JoinRoom, lobby.join)
    on("leave_room", LeaveRoom, lobby.leave)
    on("calibrate", Calibrate, lobby.calibrate)
    on("start_round", None, rounds.start)  # its payload is the room's game's start_model
    for game in GAMES.values():
        for event, move in game.moves.items():
            on(event, move.model, lambda conn, payload, event=event: rounds.move(event, conn, payload))

    @socketio.on("connect")
    def on_connect(auth=None):
        s.connections[request.sid] = Connection(request.sid)
        connections_log.info("connect sid=%s addr=%s", request.sid, request.remote_addr)

    @socketio.on("disconnect")
    def on_disconnect(reason=None, *_):
        lobby.disconnected(request.sid, reason)

    @socketio.on("*")
    def unknown(event, *args):
        reply = ProtocolError("unknown_event", f"no event called {str(event)[:40]!r}").reply()
        server.emit("error", {**reply["error"], "event": str(event)[:40]}, to=request.sid)
        return reply

    socketio.start_background_task(rounds.tick_forever)
    return rounds
