// The connection to the game server: Socket.IO over a websocket, every event sent with an ack
// (docs/protocol.md). It says hello with the stored token after every (re)connection, so a
// dropped connection comes back as the same player, in the same room and round.
//
// Events: `status` (detail: "connecting", "connected", "reconnecting", "offline", "refused" or
// "session_moved"), `welcome` (the hello reply), `refused` (a refused hello, or a connection the
// server refused: too many from this address; it stays closed until `start` is called again),
// `session_moved` (another tab or window now plays for this player: this one stays disconnected
// until `start` is called again), `session_lost` (detail: {reason}, for the player: a reconnection
// found the server restarted, and the room or the player gone (not when the hello says
// `rooms_unavailable`: the room is only out of reach); or the stored token had expired,
// and the page plays on as a new player with the same name), and every event the server pushes (`resync` among them).
import { io } from "/vendor/socket.io.esm.min.js";

const TOKEN_KEY = "melody-arcade.token";
const RESTARTED = "the server restarted";
const ROUND_ENDED = ": your round has ended";
const ROOM_GONE = "your room has closed (the server restarted, or you were away too long)";
const EXPIRED = "you had been away a long time, and the server no longer knows your player: you play on as a new player, with the same name";

export class Net extends EventTarget {
  constructor() {
    super();
    this.name = "";
    this.playerId = null;
    this.roomCode = null; // the room the server last said this player is in
    this.state = "idle"; // until `start`: nothing is sent, nothing fired
    this.socket = io({ transports: ["websocket"], reconnectionDelay: 300, reconnectionDelayMax: 2000, autoConnect: false });
    // A hello on a connection after a welcome on an earlier one is a reconnection.
    this.socket.on("connect", () => this.#hello(this.playerId !== null));
    this.socket.on("disconnect", (reason) => this.#dropped(reason === "io client disconnect" ? "offline" : "reconnecting"));
    this.socket.on("connect_error", (err) => (err.data?.code ? this.#connectionRefused(err) : this.#dropped("reconnecting")));
    this.socket.on("session_moved", (data) => this.#sessionMoved(data));
    this.socket.onAny((event, data) => {
      if (event !== "session_moved") this.#fire(event, data);
    });
  }

  start(name) {
    this.name = name;
    if (this.socket.connected) return this.#hello(false);
    this.#status("connecting");
    this.socket.connect();
  }

  /** Listen to events by name (one, or a list): `listener(detail, type)` for each of them. Returns
   * a function that stops listening. The shell routes the game pages' events (their `events`) so. */
  on(types, listener) {
    const listeners = [].concat(types).map((type) => [type, (e) => listener(e.detail, type)]);
    for (const [type, l] of listeners) this.addEventListener(type, l);
    return () => {
      for (const [type, l] of listeners) this.removeEventListener(type, l);
    };
  }

  /** Send an event; resolves with the server's reply ({ok, ...} or {ok: false, error}). */
  async call(event, data = {}, timeoutMs = 10000) {
    if (!this.socket.connected) return { ok: false, error: { code: "offline", message: "not connected to the server: reconnecting…" } };
    let reply;
    try {
      reply = await this.socket.timeout(timeoutMs).emitWithAck(event, data);
    } catch {
      return { ok: false, error: { code: "timeout", message: `the server did not answer ${event} in time` } };
    }
    this.#trackRoom(event, reply);
    return reply;
  }

  /** Drop the transport as a network failure would (used to test recovery). */
  dropForTest() {
    this.socket.io.engine.close();
  }

  async #hello(reconnected) {
    const hadRoom = this.roomCode !== null;
    const token = localStorage.getItem(TOKEN_KEY);
    let lost = null;
    let reply = await this.call("hello", token ? { name: this.name, token } : { name: this.name });
    const refused = reply.ok ? null : reply.error.code;
    if (refused === "bad_token" || refused === "token_expired") {
      // An expired token: the player was away longer than the server keeps tokens (said once: the
      // new player's token is stored below). A bad one on a reconnection: tokens are signed with
      // the server's key, so the server restarted with another and knows neither player nor room.
      if (refused === "token_expired") lost = EXPIRED;
      else if (reconnected) lost = RESTARTED + (hadRoom ? ROUND_ENDED : "");
      localStorage.removeItem(TOKEN_KEY);
      reply = await this.call("hello", { name: this.name });
    }
    if (!reply.ok) return this.#fire("refused", reply.error);
    // rooms_unavailable: the server could not look the room up (Redis away), not "no room"
    if (reconnected && hadRoom && !reply.room && !reply.rooms_unavailable) lost ??= ROOM_GONE + ROUND_ENDED;
    localStorage.setItem(TOKEN_KEY, reply.token);
    this.playerId = reply.player_id;
    this.#status("connected");
    this.#fire("welcome", reply);
    if (lost) this.#fire("session_lost", { reason: lost });
  }

  /** The room the player is in, as the server's replies say: to tell, after a reconnection, that
   * a room they were in is gone. */
  #trackRoom(event, reply) {
    if (!reply?.ok) return;
    if (event === "leave_room") this.roomCode = null;
    else if ("room" in reply) this.roomCode = reply.room?.code ?? null;
  }

  /** Another tab or window said hello as this player: stay disconnected (reconnecting would take
   * the player back, and the two would take turns forever) until `start` is called again. */
  #sessionMoved(data) {
    this.#status("session_moved");
    this.socket.disconnect();
    this.#fire("session_moved", data);
  }

  /** The server refused the connection itself (too many from this address: error.data.code).
   * socket.io-client does not retry that on its own; `start` tries again. */
  #connectionRefused(err) {
    this.#status("refused");
    this.#fire("refused", { code: err.data.code, message: err.message });
  }

  #dropped(state) {
    if (this.state !== "session_moved") this.#status(state);
  }

  #status(state) {
    this.state = state;
    this.#fire("status", state);
  }

  #fire(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
