// The connection to the game server: Socket.IO over a websocket, every event sent with an ack
// (docs/protocol.md). It says hello with the stored token after every (re)connection, so a
// dropped connection comes back as the same player, in the same room and round.
import { io } from "/vendor/socket.io.esm.min.js";

const TOKEN_KEY = "melody-arcade.token";

export class Net extends EventTarget {
  constructor() {
    super();
    this.name = "";
    this.playerId = null;
    this.state = "connecting";
    this.socket = io({ transports: ["websocket"], reconnectionDelay: 300, reconnectionDelayMax: 2000, autoConnect: false });
    this.socket.on("connect", () => this.#hello());
    this.socket.on("disconnect", (reason) => this.#status(reason === "io client disconnect" ? "offline" : "reconnecting"));
    this.socket.on("connect_error", () => this.#status("reconnecting"));
    this.socket.onAny((event, data) => this.#fire(event, data));
  }

  start(name) {
    this.name = name;
    if (this.socket.connected) return this.#hello();
    this.socket.connect();
  }

  /** Send an event; resolves with the server's reply ({ok, ...} or {ok: false, error}). */
  async call(event, data = {}, timeoutMs = 10000) {
    if (!this.socket.connected) return { ok: false, error: { code: "offline", message: "not connected to the server: reconnecting…" } };
    try {
      return await this.socket.timeout(timeoutMs).emitWithAck(event, data);
    } catch {
      return { ok: false, error: { code: "timeout", message: `the server did not answer ${event} in time` } };
    }
  }

  /** Drop the transport as a network failure would (used to test recovery). */
  dropForTest() {
    this.socket.io.engine.close();
  }

  async #hello() {
    const token = localStorage.getItem(TOKEN_KEY);
    let reply = await this.call("hello", token ? { name: this.name, token } : { name: this.name });
    if (!reply.ok && reply.error.code === "bad_token") {
      localStorage.removeItem(TOKEN_KEY);
      reply = await this.call("hello", { name: this.name });
    }
    if (!reply.ok) return this.#fire("refused", reply.error);
    localStorage.setItem(TOKEN_KEY, reply.token);
    this.playerId = reply.player_id;
    this.#status("connected");
    this.#fire("welcome", reply);
  }

  #status(state) {
    this.state = state;
    this.#fire("status", state);
  }

  #fire(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
