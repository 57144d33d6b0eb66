"""Socket.IO to the lobby and the round path: every client event is validated here, answered
through its ack with {"ok": true, ...} or {"ok": false, "error": {"code", "message"}}, and a
refusal is also emitted as an `error` event, for a client that sent the event without an ack.
docs/protocol.md is the reference. No game is named here: a game's events come from the
registry."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO
from socketio.packet import Packet

from .games import GAMES
from .lobby import Lobby
from .protocol import MAX_EVENT_BYTES, Calibrate, CreateRoom, Hello, JoinRoom, LeaveRoom, ProtocolError, Resync, parse
from .rooms import RoomsUnavailable
from .rounds import Rounds
from .services import Background, Connection, Services, connections_log, rooms_unavailable

log = logging.getLogger(__name__)

FLOOD_DISCONNECT = 5000  # refused-for-rate events after which a connection is dropped
RESERVED_EVENTS = ("connect", "disconnect", "*")  # Socket.IO's own names: never a client's event


class BadFrame(ValueError):
    """A frame that does not decode as a Socket.IO packet of JSON."""


class JsonPacket(Packet):
    """Socket.IO packets for a protocol that is JSON only, both ways (docs/protocol.md). The
    stock packet searches every element of every outgoing payload for bytes to send as binary
    attachments, without stopping early: a packet carrying a piece took 3.5 times as long to
    build (bench/music.py), and a move a fifth more of the server's CPU (bench/realtime.py, 200
    players). A client's binary event still decodes, and is refused like any other bad payload.
    A frame that does not decode (truncated JSON, JSON nested past the parser's depth, a bad
    packet type) raises BadFrame, which `guard_frames` answers."""

    uses_binary_events = False

    def decode(self, encoded_packet):
        try:
            return super().decode(encoded_packet)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
            raise BadFrame(f"{type(exc).__name__}: {exc}"[:200]) from None


class FrameWarnings:
    """At most one WARNING line a minute for frames that do not decode (a client sending junk in a
    loop must not fill the log); the lines left out are counted in the next one."""

    def __init__(self, every: float = 60.0):
        self.every, self.last, self.unsaid = every, -every, 0

    def warn(self, sid: str | None, why: str) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            self.unsaid += 1
            return
        log.warning("a frame that is not a Socket.IO event of JSON from sid=%s refused (bad_payload): %s%s",
                    sid, why, f" ({self.unsaid} more since the last line)" if self.unsaid else "")
        self.last, self.unsaid = now, 0


def guard_frames(server, refused: Callable[[str], None]) -> None:
    """Every frame gets an answer. Before python-socketio dispatches it:
    - a frame that does not decode, or an event that is not [name, ...] with a string name
      (`42[]`, `42{}`, `42[1,2,3]`), is refused with `bad_payload` (an `error` event, and the ack
      when the frame asked for one), and counts against the connection's flood limit (`refused`);
    - Socket.IO's own names ('connect', 'disconnect', and '*' for the catch-all) are refused as
      unknown events: dispatched, they would reach the app's own connection handlers and make a
      connection forget its hello or mark its seat away."""
    from socketio import packet

    warnings = FrameWarnings()
    dispatch_message, dispatch_event = server._handle_eio_message, server._handle_event

    def answer(eio_sid, namespace, id, code: str, message: str, event) -> None:
        reply = ProtocolError(code, message).reply()
        server._send_packet(eio_sid, server.packet_class(packet.EVENT, namespace=namespace or "/", data=["error", {**reply["error"], "event": event}]))
        if id is not None:
            server._send_packet(eio_sid, server.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[reply]))

    def on_message(eio_sid, data):
        try:
            return dispatch_message(eio_sid, data)
        except ValueError as exc:  # BadFrame, or a packet type a client may not send (python-socketio's ValueError)
            sid = server.manager.sid_from_eio_sid(eio_sid, "/")
            warnings.warn(sid, str(exc))
            answer(eio_sid, "/", None, "bad_payload", "the frame is not a Socket.IO event of JSON", None)
            if sid is not None:
                refused(sid)

    def on_event(eio_sid, namespace, id, data):
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            sid = server.manager.sid_from_eio_sid(eio_sid, namespace or "/")
            warnings.warn(sid, f"event {str(data)[:60]}")
            answer(eio_sid, namespace, id, "bad_payload", "an event is [name, payload] with a string name", None)
            if sid is not None:
                refused(sid)
            return
        if data[0] in RESERVED_EVENTS:
            answer(eio_sid, namespace, id, "unknown_event", f"no event called {data[0]!r}", data[0])
            return
        return dispatch_event(eio_sid, namespace, id, data)

    # Engine.IO holds the message handler it was given when the server was built: on_message is
    # registered there, or frames off the wire would pass it by.
    server.eio.on("message", on_message)
    server._handle_event = on_event


def close_on_the_wire(server, linger: float = 2.0) -> None:
    """A connection Engine.IO closes (ping timeout, a flooder dropped) is closed on the network
    too. Engine.IO's close queues a CLOSE packet for the connection's writer and leaves the
    socket to it; a client that stops reading blocks that writer in `send` for good, and the
    socket, its two greenlets and its kernel buffers stayed long past the ping timeout. So each
    websocket's Engine.IO socket, when it closes, gives its writer `linger` seconds to finish,
    then shuts the TCP connection down: the blocked send fails, the read ends, the handler
    returns and the server closes the socket."""
    transport = server.eio._async["websocket"]
    if transport is None:  # an async mode without websockets
        return

    class ClosingWebSocket(transport):
        def __call__(self, environ, start_response):
            eio_socket = getattr(self.app, "__self__", None)  # the handler is a bound method of the Engine.IO socket
            if eio_socket is not None:
                close = eio_socket.close

                def close_then_shut_down(*args, **kwargs):
                    if not (eio_socket.closed or eio_socket.closing):
                        server.start_background_task(self.shut_down_after, linger)
                    return close(*args, **kwargs)

                eio_socket.close = close_then_shut_down
            self.served = False
            try:
                return super().__call__(environ, start_response)
            finally:
                self.served = True

        def shut_down_after(self, seconds: float) -> None:
            server.sleep(seconds)
            sock = getattr(getattr(self, "ws", None), "sock", None)  # simple-websocket's connection
            if not self.served and sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    server.eio._async = {**server.eio._async, "websocket": ClosingWebSocket}


def refuse(server, sid: str, refusal: ProtocolError, event) -> dict:
    """A refusal as the ack's reply, and pushed as an `error` event for a client without an ack."""
    reply = refusal.reply()
    server.emit("error", {**reply["error"], "event": event}, to=sid)
    return reply


class FloodLimit:
    """Each connection's events against its rate (Connection.bucket). Past FLOOD_DISCONNECT
    refusals the connection is closed, transport and all: a client that ignores Socket.IO's
    DISCONNECT would otherwise keep its websocket."""

    def __init__(self, server, connections: dict[str, Connection]):
        self.server, self.connections = server, connections

    def over(self, conn: Connection) -> bool:
        """Counts an event: True if it is over the rate (the event is refused)."""
        if conn.bucket.allow():
            return False
        conn.flood_refusals += 1
        if conn.flood_refusals > FLOOD_DISCONNECT:
            eio_sid = self.server.manager.eio_sid_from_sid(conn.sid, "/")
            self.server.disconnect(conn.sid)
            eio_socket = self.server.eio.sockets.get(eio_sid)
            if eio_socket is not None:  # not Engine.IO's disconnect: it waits for the writer, which a client that does not read blocks
                eio_socket.close(wait=False, abort=True)
        return True

    def bad_frame(self, sid: str) -> None:
        """A frame refused before any handler counts like any event."""
        conn = self.connections.get(sid)
        if conn is not None:
            self.over(conn)


def too_many_connections(limit: int) -> tuple[str, dict]:
    """A refused connect's reason, as Socket.IO's connect_error carries it: `message`, and
    `data` with the code (docs/protocol.md)."""
    message = f"too many connections from your address (at most {limit} at once): close another tab or window and try again"
    return message, {"code": "too_many_connections", "limit": limit}


def admitted(event: str, args: tuple, conn: Connection, flood: FloodLimit):
    """An event's payload, once it passes what every event must, in this order (docs/protocol.md,
    "Which code wins"): one payload, the rate, the size, hello first."""
    if len(args) > 1:
        raise ProtocolError("bad_payload", "send one payload object per event")
    if flood.over(conn):
        raise ProtocolError("rate_limited", "too many events: slow down")
    data = args[0] if args else None
    if len(json.dumps(data, default=str)) > MAX_EVENT_BYTES:
        raise ProtocolError("payload_too_large", f"events are limited to {MAX_EVENT_BYTES} bytes")
    if event != "hello" and conn.player_id is None:
        raise ProtocolError("no_hello", "say hello first")
    return data


def register(socketio: SocketIO, services: Services) -> Lobby:
    """Wire every event; returns the lobby (its round path's clock is running)."""
    s = services
    # The game's events are handled on python-socketio's server directly, with the connection's
    # sid passed in: Flask-SocketIO's dispatch would build a Flask request context for every
    # event (a fifth of a move's CPU), and no handler needs one. Connect and disconnect still
    # go through Flask-SocketIO. Every emit goes through python-socketio's server too.
    server = socketio.server
    background = Background(socketio.start_background_task, socketio.sleep)
    rounds = Rounds(s, server, background)
    lobby = Lobby(s, server, background, rounds)

    flood = FloodLimit(server, s.connections)
    guard_frames(server, flood.bad_frame)
    close_on_the_wire(server)

    def on(event: str, model, fn: Callable, context: Callable[[Connection], dict] | None = None) -> None:
        """Answer `event` with fn(connection, payload): flood guard, size limit, payload
        validation (`model`; None: fn parses it), errors as replies. `context(connection)`:
        what a payload refused as `bad_payload` carries besides (a Run round's clock)."""

        def handle(sid, *args):
            conn = s.connections.get(sid) or s.connections.setdefault(sid, Connection(sid))
            try:
                data = admitted(event, args, conn, flood)
                try:
                    payload = parse(model, data) if model is not None else data
                except ProtocolError as exc:
                    exc.extra.update(context(conn) if context is not None else {})
                    raise
                return {"ok": True, **fn(conn, payload)}
            except ProtocolError as exc:
                return refuse(server, sid, exc, event)
            except RoomsUnavailable:  # Redis is down: said once by the message queue, not per event
                return refuse(server, sid, rooms_unavailable(), event)
            except Exception:
                log.exception("handler %s failed", event)
                return refuse(server, sid, ProtocolError("server_error", "the server failed on this event: ask `resync` for the room as it is"), event)

        server.on(event, handle)

    on("hello", Hello, lobby.hello)
    on("create_room", CreateRoom, lobby.create_room)
    on("join_room", JoinRoom, lobby.join)
    on("leave_room", LeaveRoom, lobby.leave)
    on("calibrate", Calibrate, lobby.calibrate)
    on("resync", Resync, lobby.resync)
    on("start_round", None, rounds.start)  # its payload is the room's game's start_model
    for game in GAMES.values():
        for event, move in game.moves.items():
            on(event, move.model, lambda conn, payload, event=event: rounds.move(event, conn, payload), context=rounds.refusal_context)

    @socketio.on("connect")
    def on_connect(auth=None):
        address = request.remote_addr or ""
        if not s.addresses.admit(address):
            connections_log.info("connect refused addr=%s reason=too_many_connections", address)
            raise ConnectionRefusedError(*too_many_connections(s.addresses.limit))
        s.connections[request.sid] = Connection(request.sid, address)
        connections_log.info("connect sid=%s addr=%s", request.sid, address)

    @socketio.on("disconnect")
    def on_disconnect(reason=None, *_):
        conn = s.connections.get(request.sid)
        lobby.disconnected(request.sid, reason)
        if conn is not None and conn.address is not None:
            s.addresses.release(conn.address)

    @socketio.on("*")
    def unknown(event, *args):
        return refuse(server, request.sid, ProtocolError("unknown_event", f"no event called {str(event)[:40]!r}"), str(event)[:40])

    socketio.start_background_task(rounds.tick_forever)
    return lobby
