// Beat Hunt in the page (docs/protocol.md, "Beat Hunt"): an n × n board of drum beats blended
// between four corners, a puck, and a target beat that is heard only (a WAV the server renders).
// The player drags the puck (mouse, pen or finger: pointer events) or moves it with the arrow
// keys; the beat under it loops at the round's tempo with the page's drum voices (audio.js), and
// its 16th steps are drawn as a grid, one row per drum. In co-op each player steers one axis (the
// round's `owners`) and the partner's moves (`hunt` events) move the puck live.
//
// When the beat changes: at once, in time. The loop keeps its place in the two bars, and from the
// next 16th on it plays the new cell's hits (each step is handed to the playback just before it
// sounds, LEAD s ahead): a drag over the board blends from beat to beat without losing the groove,
// as Beat Blender does; waiting for the bar line would leave up to 2.7 s between a move and its sound.
// Hearing the target pauses the loop (the target alone); the loop starts again from its first step
// when the target ends.
//
// Moves go to the server only when the cell changes (never the same cell twice in a row), at
// most MOVES_PER_SECOND a second (blend_grid.js's MoveOutbox: the latest cell goes); a submit first
// sends the cell on screen. The server judges everything (time, listens, score).
// The page module (games/index.js: the interface the shell uses) is at the end: the lobby card,
// the markup, the result (the target and the answer on the board, the score's parts).
import * as audio from "../audio.js";
import { MoveOutbox, arrowMove, beatPiece, breakdown, cellAt, cellName, moveFields, newLoop, scheduleLoop, stepPiece, steer } from "./blend_grid.js";
import { buildBoard, buildSteps, markPlayhead, showPuck } from "./beat_board.js";
import { instrument } from "./blend_instrument.js";
import { downloadLinks, el, fromTemplate, levelCard, stylesheet } from "./kit.js";

const LEAD = 0.12; // s: a loop step is handed to the playback this long before it sounds (the change's delay)
const SCHEDULE_MS = 25; // ms between two passes of the loop's scheduler (and the clock's redraw)
const START_DELAY = 0.05; // s: a sound starts this long after it is asked for
const AXIS_WORDS = { x: "left and right", y: "up and down" };
const PARTNER_SAY_MS = 700; // the partner's moves are said once they pause this long (not every cell)

const same = (a, b) => a[0] === b[0] && a[1] === b[1];
const formatTime = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

export class HuntView {
  /** `root`: the markup (VIEW below), in the document or not yet. */
  constructor(app, root) {
    this.app = app;
    this.round = null;
    this.active = false;
    this.playback = null;
    const $ = (id) => root.querySelector(`#${id}`);
    this.el = { section: root, title: $("hunt-title"), clock: $("hunt-clock"), role: $("hunt-role"), board: $("hunt-board"), puck: $("hunt-puck"), rail: $("hunt-rail"), target: $("hunt-target"), loop: $("hunt-loop"), submit: $("hunt-submit"), status: $("hunt-status"), steps: $("hunt-steps"), cell: $("hunt-cell") };
    this.el.target.addEventListener("click", () => this.playTarget());
    this.el.loop.addEventListener("click", () => this.#loopOn(!this.loopWanted));
    this.el.submit.addEventListener("click", () => this.submit());
    const board = this.el.board;
    board.addEventListener("pointerdown", (e) => this.#pointerDown(e));
    board.addEventListener("pointermove", (e) => this.#pointerMove(e));
    board.addEventListener("pointerup", (e) => this.#pointerEnd(e));
    board.addEventListener("pointercancel", (e) => this.#pointerEnd(e));
    board.addEventListener("contextmenu", (e) => e.preventDefault());
    addEventListener("keydown", (e) => this.#key(e));
  }

  enter(round) {
    const h = round.hunt;
    const fresh = !this.round || this.round.round_id !== round.round_id;
    this.round = round;
    this.hunt = h;
    this.axes = h.owners[this.app.net.playerId] ?? ""; // "xy" solo, "x" or "y" co-op, "" seated after the start
    if (fresh) {
      audio.stopAll(); // a result's "Play it" of the round before
      audio.prepare({ drums: h.drums.map((drum) => ({ drum })) }); // the kit's samples of every drum on the board
      this.heard = false; // the first hearing of the target is free (no `listen`)
      this.visited = new Set();
      this.loopWanted = false;
      this.loop = null;
      this.targetUntil = 0;
      this.submitting = false;
      this.#say("");
      this.#build();
    }
    this.puck = [...h.puck];
    this.outbox = new MoveOutbox();
    this.outbox.reset(moveFields(this.puck, this.axes));
    this.#fromServer(h);
    this.el.title.textContent = `Beat Hunt · ${this.app.levelName(round.level)}`;
    this.el.role.textContent = this.#roleText();
    this.active = !round.result;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.#tick(), SCHEDULE_MS);
    this.#visit();
    this.#draw();
    this.el.board.focus({ preventScroll: true });
  }

  /** Off the stage (the result, the lobby): nothing sounds, nothing more is sent. */
  exit() {
    this.active = false;
    clearInterval(this.timer);
    clearTimeout(this.sendTimer);
    clearTimeout(this.partnerTimer);
    this.sendTimer = null;
    this.drag = null;
    this.loopWanted = false;
    this.loop = null;
    this.#silence();
    audio.stopAll(); // and whatever else of this page sounds
  }

  // --- the server's word ----------------------------------------------------------------------

  /** {puck, listens_left, clock} as the server has them (a reply, the partner's `hunt`, a view):
   * the axes this player steers stay where they have them (their moves may be on the way). */
  #fromServer(hunt) {
    for (const i of [0, 1]) if (!this.axes.includes(i ? "y" : "x")) this.puck[i] = hunt.puck[i];
    this.listensLeft = hunt.listens_left;
    this.deadline = performance.now() + (this.hunt.seconds - hunt.clock) * 1000;
  }

  /** The partner's accepted move: the puck on their axis moves here too. */
  onHunt(data) {
    if (!this.round || data.round_id !== this.round.round_id || data.by === this.app.net.playerId) return;
    const before = [...this.puck];
    this.#fromServer(data.hunt);
    this.#visit();
    this.#draw();
    const name = this.app.room?.seats?.find((s) => s.player_id === data.by)?.name || "Your partner";
    if (data.kind === "move" && !same(before, this.puck)) {
      this.el.puck.classList.remove("partner-moved");
      void this.el.puck.offsetWidth; // the flash again for every move
      this.el.puck.classList.add("partner-moved");
      clearTimeout(this.partnerTimer);
      this.partnerTimer = setTimeout(() => this.#say(`${name} moved the puck to ${cellName(this.puck)}`), PARTNER_SAY_MS);
    } else if (data.kind === "listen") this.#say(`${name} heard the target again: ${this.listensLeft} listens left`);
    else if (data.kind === "submit") this.#say(`${name} submitted ${cellName(this.puck)}`);
  }

  // --- moves ----------------------------------------------------------------------------------

  #canMove() {
    return this.active && !this.round.result && this.axes !== "" && !this.submitting && this.#secondsLeft() > 0;
  }

  /** The puck to `cell` (on this player's axes already): drawn at once, sent when it may go. */
  #moveTo(cell) {
    if (same(cell, this.puck)) return false;
    this.puck = cell;
    this.#visit();
    this.#draw();
    this.outbox.want(moveFields(cell, this.axes));
    this.#pump();
    return true;
  }

  #pump() {
    if (!this.active || this.sending || this.sendTimer) return;
    const next = this.outbox.take(performance.now());
    if (!next) return;
    if (next.wait !== undefined) {
      this.sendTimer = setTimeout(() => {
        this.sendTimer = null;
        this.#pump();
      }, next.wait);
      return;
    }
    this.#send(next.fields);
  }

  async #send(fields) {
    const round = this.round;
    this.sending = true;
    let reply;
    try {
      reply = await this.app.send("hunt_move", { round_id: round.round_id, kind: "move", ...fields });
    } finally {
      this.sending = false;
    }
    if (round !== this.round) return;
    if (reply.ok) this.#fromServer(reply.hunt);
    else this.outbox.reset(null); // refused: nothing is sent again until the puck moves (or a submit sends its cell)
    this.#draw();
    this.#pump();
  }

  async submit() {
    if (!this.active || this.round.result || this.axes === "" || this.submitting) return;
    this.submitting = true;
    this.#drawControls();
    clearTimeout(this.sendTimer);
    this.sendTimer = null;
    const round = this.round;
    this.outbox.want(moveFields(this.puck, this.axes)); // the cell on screen goes first, unless the server has it
    const last = this.outbox.take(performance.now(), true);
    if (last?.fields) this.app.send("hunt_move", { round_id: round.round_id, kind: "move", ...last.fields });
    this.#say(`Submitting ${cellName(this.puck)}…`);
    const reply = await this.app.send("hunt_move", { round_id: round.round_id, kind: "submit" });
    if (round !== this.round) return;
    if (!reply.ok) {
      this.submitting = false;
      this.#drawControls();
    }
  }

  // --- sound ----------------------------------------------------------------------------------

  #playbackNow() {
    if (!this.playback) this.playback = new audio.Playback();
    return this.playback;
  }

  #silence() {
    this.playback?.stop();
    this.playback = null;
  }

  /** The target: the first hearing is free, each one after it a `listen` (the server counts it). */
  async playTarget() {
    if (!this.round || this.round.result || this.targetBusy) return;
    if (this.heard && (this.listensLeft <= 0 || this.axes === "")) return;
    const round = this.round;
    this.targetBusy = true;
    this.#drawControls();
    try {
      await audio.unlock();
      let address = this.hunt.target.audio;
      if (this.heard) {
        const reply = await this.app.send("hunt_move", { round_id: round.round_id, kind: "listen" });
        if (round !== this.round) return;
        if (!reply.ok) {
          if (reply.error.code === "no_listens_left") this.listensLeft = 0;
          return;
        }
        this.#fromServer(reply.hunt);
        address = reply.target?.audio ?? address;
      }
      let buffer;
      try {
        buffer = await audio.loadSound(address);
      } catch {
        return this.#say("The target could not be loaded: press Target again");
      }
      if (round !== this.round || !this.active) return;
      this.heard = true;
      this.#silence(); // the target alone: what the loop had handed over stops
      const playback = this.#playbackNow();
      this.targetUntil = playback.sound(buffer, audio.now() + START_DELAY);
      this.loop = null; // the loop starts again from its first step after the target
      this.#say(`Playing the target (${round.hunt.target.seconds.toFixed(1)} s)`);
      const said = this.el.status.textContent;
      setTimeout(() => this.el.status.textContent === said && this.#say(""), (this.targetUntil - audio.now()) * 1000 + 200);
    } finally {
      this.targetBusy = false;
      this.#drawControls();
    }
  }

  #loopOn(on) {
    if (on && !this.active) return;
    this.loopWanted = on;
    if (on) audio.unlock();
    else {
      this.loop = null;
      if (audio.now() >= this.targetUntil) this.#silence();
    }
    this.#drawControls();
  }

  /** Every SCHEDULE_MS: the loop's next steps to the playback, the playhead, the clock. */
  #tick() {
    if (!this.active) return;
    const h = this.hunt;
    const t = audio.now();
    const sps = 60 / (h.tempo * 4);
    let playhead = -1;
    if (this.loopWanted && t >= this.targetUntil) {
      if (!this.loop) this.loop = newLoop(t + START_DELAY);
      const step = scheduleLoop(this.loop, t, sps, LEAD, (next, at) => {
        const piece = stepPiece(h, this.puck, next % h.steps);
        if (piece.drums.length) this.#playbackNow().piece(piece, at);
      });
      if (step >= 0) playhead = step % h.steps;
    } else if (this.loopWanted) this.loop = null;
    markPlayhead(this.stepGrid, this.playhead, playhead);
    this.playhead = playhead;
    this.#drawClock();
  }

  // --- input: pointer (mouse, pen, touch) and keys ---------------------------------------------

  #pointerDown(e) {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    this.el.board.focus({ preventScroll: true });
    if (!this.#canMove()) return;
    this.drag = { id: e.pointerId };
    try {
      this.el.board.setPointerCapture(e.pointerId);
    } catch {
      // the pointer is gone already: its pointerup or pointercancel ends the drag
    }
    this.el.board.classList.add("dragging");
    this.#pointTo(e);
    this.#loopOn(true);
  }

  #pointerMove(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    e.preventDefault();
    if (this.#canMove()) this.#pointTo(e);
  }

  #pointerEnd(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    this.drag = null;
    this.el.board.classList.remove("dragging");
  }

  #pointTo(e) {
    const cell = cellAt(this.el.board.getBoundingClientRect(), e.clientX, e.clientY, this.hunt.grid);
    this.#moveTo(steer(this.puck, cell, this.axes));
  }

  /** ← → ↑ ↓ move one cell (on your axes), Enter submits (a focused button does its own), T plays
   * the target, Space starts or stops the puck's beat. Only while a round is on the stage. An
   * arrow takes the focus to the board: a player who clicked a button, then steered with the
   * keys, means the submit when they press Enter, not that button again. */
  #key(e) {
    if (!this.active || !this.round || this.round.result || e.altKey || e.ctrlKey || e.metaKey) return;
    if (!this.el.section.isConnected || e.target.closest?.("input, select, textarea")) return;
    const onControl = Boolean(e.target.closest?.("button, a"));
    const arrow = arrowMove(this.puck, e.key, this.axes, this.hunt.grid);
    if (arrow) {
      e.preventDefault();
      if (onControl) this.el.board.focus({ preventScroll: true });
      if (!this.#canMove()) return;
      if (arrow.refused) return this.#say(`Your partner steers ${AXIS_WORDS[arrow.axis]}; you steer ${AXIS_WORDS[this.axes]}`);
      this.#loopOn(true);
      if (this.#moveTo(arrow.cell)) this.#say(`Puck on ${cellName(this.puck)}`);
      return;
    }
    if (e.key === "Enter" && !onControl) {
      e.preventDefault();
      if (!e.repeat) this.submit();
    } else if ((e.key === "t" || e.key === "T") && !e.repeat) {
      e.preventDefault();
      this.playTarget();
    } else if (e.key === " " && !onControl) {
      e.preventDefault();
      if (!e.repeat) this.#loopOn(!this.loopWanted);
    }
  }

  // --- drawing --------------------------------------------------------------------------------

  /** The round's board (n × n cells) and its step grid (a row per drum), made once a round. */
  #build() {
    this.cells = buildBoard(this.el.board, this.hunt.grid, [this.el.rail, this.el.puck]);
    this.stepGrid = buildSteps(this.el.steps, this.hunt);
    this.playhead = -1;
  }

  #visit() {
    const key = this.puck.join(",");
    if (this.visited.has(key)) return;
    this.visited.add(key);
    this.cells.get(key)?.classList.add("visited");
  }

  #draw() {
    const [x, y] = this.puck;
    showPuck(this.el, this.stepGrid, this.hunt, this.hunt.grid, this.puck);
    const rail = this.el.rail;
    rail.hidden = this.axes.length !== 1; // co-op: the line your puck slides on
    rail.className = `hunt-rail ${this.axes}`;
    rail.style.setProperty("--px", x);
    rail.style.setProperty("--py", y);
    this.#drawControls();
  }

  #drawControls() {
    const { target, loop, submit } = this.el;
    const live = this.active && this.round && !this.round.result;
    const watching = this.axes === "";
    if (!this.heard) target.textContent = "▶ Target (first hearing free)";
    else target.textContent = this.listensLeft > 0 ? `▶ Target again · ${this.listensLeft} left` : "Target: no listens left";
    target.dataset.left = this.listensLeft;
    target.disabled = !live || this.targetBusy || (this.heard && (this.listensLeft <= 0 || watching));
    loop.textContent = this.loopWanted ? "■ Stop the beat" : "▶ Beat under the puck";
    loop.setAttribute("aria-pressed", String(Boolean(this.loopWanted)));
    loop.disabled = !live;
    submit.disabled = !live || watching || this.submitting;
    submit.textContent = `Submit ${cellName(this.puck)}`;
  }

  #drawClock() {
    const left = this.#secondsLeft();
    const shown = Math.ceil(left);
    if (shown === this.shownClock) return;
    this.shownClock = shown;
    this.el.clock.textContent = formatTime(shown);
    this.el.clock.classList.toggle("low", shown <= 10);
    if (shown === 0) this.#drawControls();
  }

  #secondsLeft() {
    return Math.max(0, (this.deadline - performance.now()) / 1000);
  }

  #roleText() {
    const h = this.hunt;
    const last = String.fromCharCode(64 + h.grid);
    if (this.axes === "xy") return `Hear the target, then move the puck until the beat under it sounds the same, and submit. ${h.listens} listens again after the first.`;
    if (this.axes === "") return "You joined after this round started: you are watching it.";
    const partner = this.app.room?.seats?.find((s) => s.player_id !== this.app.net.playerId)?.name || "your partner";
    const mine = this.axes === "x" ? `↔ left and right (the columns, A–${last})` : `↕ up and down (the rows, 1–${h.grid})`;
    const theirs = this.axes === "x" ? "↕ up and down" : "↔ left and right";
    return `You steer ${mine}; ${partner} steers ${theirs}. Either of you may hear the target again or submit, once, for both.`;
  }

  #say(text) {
    const status = this.el.status;
    // the same words again are still news: a no-break space makes them a change for screen readers
    status.textContent = text && status.textContent === text ? text + "\u00a0" : text;
  }
}

// --- the page module ---------------------------------------------------------------------------

stylesheet(new URL("blend.css", import.meta.url));

const VIEW = `
<section id="hunt">
  <div class="row hunt-head">
    <h2 id="hunt-title">Beat Hunt</h2>
    <span class="hunt-clock-box">Time <b id="hunt-clock" role="timer">0:00</b></span>
  </div>
  <p id="hunt-role" class="hint"></p>
  <div class="hunt-main">
    <div id="hunt-board" class="hunt-board" tabindex="0" role="application" aria-roledescription="beat grid" aria-describedby="hunt-keys">
      <div id="hunt-rail" class="hunt-rail" hidden></div>
      <div id="hunt-puck" class="hunt-puck" aria-hidden="true"></div>
    </div>
    <div class="hunt-side">
      <div class="row hunt-controls">
        <button id="hunt-target" type="button">▶ Target</button>
        <button id="hunt-loop" type="button" class="secondary" aria-pressed="false">▶ Beat under the puck</button>
        <button id="hunt-submit" type="button">Submit</button>
      </div>
      <p id="hunt-status" class="hunt-status" role="status" aria-live="polite"></p>
      <p class="hunt-cell-line">The beat under the puck, <b id="hunt-cell"></b>:</p>
      <div id="hunt-steps" class="hunt-steps" role="img"></div>
      <p id="hunt-keys" class="hint">Drag the puck (or click, or tap a cell). Keys: ← → ↑ ↓ move one cell, T plays the target, Space starts or stops the beat, Enter submits.</p>
    </div>
  </div>
</section>`;

let section = null;
let view = null;

/** The result's board: the target (★) and the answer (●), the same cell when exact. */
function resultBoard(n, target, answer) {
  const board = document.createElement("div");
  board.className = "hunt-result-board";
  board.setAttribute("role", "img");
  board.setAttribute("aria-label", `The target ${cellName(target)}, your answer ${cellName(answer)}`);
  const cells = buildBoard(board, n);
  cells.get(`${answer}`).classList.add("answer");
  cells.get(`${answer}`).textContent = "●";
  cells.get(`${target}`).classList.add("target");
  cells.get(`${target}`).textContent = "★"; // the target's mark wins where the answer is exact
  return board;
}

export const blendPage = {
  lobbyCard(entry, ctx) {
    section = fromTemplate(VIEW);
    view = new HuntView(ctx, section);
    const free = el("button", { id: "blend-instrument", type: "button", className: "secondary", textContent: "Instrument: Beat Blender" });
    free.addEventListener("click", () => ctx.openTool("blend"));
    return levelCard(entry, ctx, {
      about: "A grid of drum beats blended between four corners. Hear the hidden target beat, slide the puck until the beat under it sounds the same, and submit its cell.",
      levelHint: (l) => `What changes: ${l.changes}. ${l.listens} listens again, ${l.seconds} s.`,
      options: [el("p", { className: "hint" }, "Or play the grid freely, with corners of your own: ", free)],
    }).card;
  },

  /** Beat Blender's instrument, at /blend (blend_instrument.js): no round, no connection. */
  tool: instrument,

  mount(container, round) {
    if (section.parentNode !== container) container.replaceChildren(section);
    view.enter(round);
  },

  events: ["hunt"],

  apply(event, payload) {
    if (event === "hunt") view.onHunt(payload);
  },

  /** The target and the answer on the board, how far apart, and what each part of the score gave. */
  result(container, result, round) {
    const h = round.hunt, d = result.details;
    const b = breakdown(d);
    const target = result.target ?? d.target, answer = d.answer;
    const cells = `${d.distance} cell${d.distance === 1 ? "" : "s"}`;
    const away = d.exact ? "exactly on the target" : `${cells} from the target`;
    const ended = result.ended === "timeout" ? " The time ran out: the puck's cell was your answer." : "";
    container.innerHTML =
      `<div id="hunt-result" class="hunt-result"><div class="hunt-result-text">` +
      `<p><b>Your answer ${cellName(answer)}, the target ${cellName(target)}</b>: ${away}.${ended}</p>` +
      `<ul class="losses">` +
      `<li>Closeness: ${Math.round(b.closeness)} of 700 (${cells} away; half the grid away scores nothing)</li>` +
      `<li>Pace: ${Math.round(b.pace)} of 200 (${Math.round(d.seconds)} s of ${h.seconds} s, times the closeness)</li>` +
      `<li>Exact hit: ${b.exact} of 100</li>` +
      `<li>Listens again: ${d.listens}, ×${d.heard} (−${Math.round(b.lost)})</li></ul>` +
      `<div class="row"><button id="hunt-hear-answer" type="button" class="secondary">▶ Your answer's beat</button></div>` +
      `</div></div>`;
    const box = container.querySelector("#hunt-result");
    box.prepend(resultBoard(h.grid, target, answer));
    box.querySelector("#hunt-hear-answer").addEventListener("click", () => audio.play([beatPiece(h, answer), beatPiece(h, answer)]));
    container.append(downloadLinks(result.round_id));
    return d.cleared;
  },

  howToClear: "Submit the target's cell or one beside it (not diagonally) to clear this level.",

  /** The target's beat (revealed with the result), twice. */
  replay(round) {
    const target = round.result.target;
    audio.play([beatPiece(round.hunt, target), beatPiece(round.hunt, target)]);
  },

  unmount() {
    view?.exit();
    section?.remove();
  },
};
