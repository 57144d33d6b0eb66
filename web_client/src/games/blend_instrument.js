// Beat Blender's instrument (after Google's Beat Blender), Beat Hunt's free view at /blend: no
// round, no connection, no score. Four corner beats, each sampled by the drum model, chosen from
// the presets (drawn from the training grooves) or edited cell by cell on a 9-row step grid, and
// the n × n grid blended between them, all made by the server's `grid` tool (POST
// /api/games/blend/grid; game_server/games/blend/instrument.py). Drag the puck (mouse, pen or
// finger) and the beat under it loops, changing in time from the next 16th on (as in Beat Hunt);
// or draw a path and play walks it bar by bar. The beat under the puck, or the path's beats,
// export as MIDI (the `midi` tool); Share puts a link in the address bar and on the clipboard
// whose hash carries the corners (9 bits a step, base64url), the grid's size, meter, style and
// tempo: opening it rebuilds the same grid, with no state on the server.
import * as audio from "../audio.js";
import { cellAt, cellName, cornerCells, newLoop, pathAt, readShareHash, scheduleLoop, shareHash, stepPiece, toggleHit } from "./blend_grid.js";
import { buildBoard, buildSteps, drawSteps, markPlayhead, showPuck } from "./beat_board.js";
import { fromTemplate } from "./kit.js";

const LEAD = 0.12; // s: a step is handed to the playback this long before it sounds
const SCHEDULE_MS = 25;
const START_DELAY = 0.05;
const EDIT_SETTLE_MS = 350; // an edit re-blends once the clicks pause this long
const CORNER_NAMES = ["top left", "top right", "bottom left", "bottom right"];

const VIEW = `
<section id="blender">
  <div class="row hunt-head">
    <h2>Beat Blender</h2>
    <button id="blender-lobby" type="button" class="secondary">← Lobby</button>
  </div>
  <p class="hint">Drag the puck over the grid: the beat under it plays, blended between the four corner beats. Pick, sample or edit a corner and the grid blends again.</p>
  <div class="row blender-settings">
    <label>Meter <select id="blender-meter"><option>4/4</option><option>3/4</option><option>6/8</option></select></label>
    <label>Style <select id="blender-style"></select></label>
    <label>Grid <select id="blender-n"></select></label>
    <label class="blender-tempo">Tempo <input id="blender-tempo" type="range" min="60" max="180" step="1" value="120"> <b id="blender-tempo-value">120</b> bpm</label>
  </div>
  <div class="hunt-main">
    <div class="blender-left">
      <div id="blender-board" class="hunt-board" tabindex="0" role="application" aria-roledescription="beat grid" aria-label="Beat grid">
        <div id="blender-puck" class="hunt-puck" aria-hidden="true"></div>
      </div>
      <div id="blender-corners" class="blender-corners"></div>
    </div>
    <div class="hunt-side">
      <div class="row hunt-controls">
        <button id="blender-play" type="button" aria-pressed="false">▶ Play</button>
        <button id="blender-draw" type="button" class="secondary" aria-pressed="false">✎ Draw a path</button>
        <button id="blender-clear" type="button" class="secondary" disabled>Clear the path</button>
      </div>
      <p id="blender-status" class="hunt-status" role="status" aria-live="polite"></p>
      <p class="hunt-cell-line">The beat under the puck, <b id="blender-cell"></b>:</p>
      <div id="blender-steps" class="hunt-steps" role="img"></div>
      <div class="row hunt-controls">
        <button id="blender-export-beat" type="button" class="secondary">Export beat (MIDI)</button>
        <button id="blender-export-path" type="button" class="secondary" disabled>Export path (MIDI)</button>
        <button id="blender-share" type="button" class="secondary">Share</button>
      </div>
      <input id="blender-link" class="blender-link" readonly hidden aria-label="The share link">
      <div id="blender-editor" class="blender-editor" hidden>
        <p class="hunt-cell-line">Editing the <b id="blender-editor-name"></b> corner: click a step to add or take away a hit.</p>
        <div id="blender-editor-steps" class="hunt-steps blender-editable"></div>
        <button id="blender-editor-done" type="button">Done</button>
      </div>
    </div>
  </div>
</section>`;

async function tool(name, body) {
  const response = await fetch(`/api/games/blend/${name}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) {
    const error = (await response.json().catch(() => null))?.error ?? { code: `http_${response.status}`, message: response.statusText };
    throw Object.assign(new Error(error.message), { code: error.code });
  }
  return name === "midi" ? response.blob() : response.json();
}

class Instrument {
  constructor(ctx) {
    this.ctx = ctx;
    this.root = fromTemplate(VIEW);
    const $ = (id) => this.root.querySelector(`#${id}`);
    this.el = { board: $("blender-board"), puck: $("blender-puck"), corners: $("blender-corners"), play: $("blender-play"), draw: $("blender-draw"), clear: $("blender-clear"),
      status: $("blender-status"), cell: $("blender-cell"), steps: $("blender-steps"), exportBeat: $("blender-export-beat"), exportPath: $("blender-export-path"),
      share: $("blender-share"), link: $("blender-link"), editor: $("blender-editor"), editorName: $("blender-editor-name"), editorSteps: $("blender-editor-steps"),
      editorDone: $("blender-editor-done"), meter: $("blender-meter"), style: $("blender-style"), n: $("blender-n"), tempo: $("blender-tempo"), tempoValue: $("blender-tempo-value") };
    this.el.n.replaceChildren(...[5, 6, 7, 8, 9, 10, 11].map((n) => new Option(`${n} × ${n}`, n)));
    this.grid = null;
    this.puck = [0, 0];
    this.path = [];
    this.drawing = false;
    this.playing = false;
    this.editing = null;
    this.asked = 0; // the latest grid asked for: older answers are dropped
    const on = (el, event, fn) => el.addEventListener(event, fn);
    on($("blender-lobby"), "click", () => ctx.show("lobby"));
    on(this.el.play, "click", () => this.#play(!this.playing, this.path.length > 0)); // the path, when one is drawn
    on(this.el.draw, "click", () => this.#drawMode(!this.drawing));
    on(this.el.clear, "click", () => this.#setPath([]));
    on(this.el.exportBeat, "click", () => this.#export([this.#beat(this.puck)], `beat-${cellName(this.puck)}.mid`));
    on(this.el.exportPath, "click", () => this.#export(this.path.slice(0, 64).map((c) => this.#beat(c)), "path.mid"));
    on(this.el.share, "click", () => this.#share());
    on(this.el.editorDone, "click", () => this.#edit(null));
    on(this.el.editorSteps, "click", (e) => this.#toggle(e));
    on(this.el.meter, "change", () => this.#fill({ sample: true }));
    on(this.el.style, "change", () => this.#fill());
    on(this.el.n, "change", () => this.#fill());
    on(this.el.tempo, "input", () => (this.el.tempoValue.textContent = this.el.tempo.value));
    const board = this.el.board;
    on(board, "pointerdown", (e) => this.#pointerDown(e));
    on(board, "pointermove", (e) => this.#pointerMove(e));
    on(board, "pointerup", (e) => this.#pointerEnd(e));
    on(board, "pointercancel", (e) => this.#pointerEnd(e));
    on(board, "contextmenu", (e) => e.preventDefault());
  }

  async open(container) {
    container.replaceChildren(this.root);
    this.timer = setInterval(() => this.#tick(), SCHEDULE_MS);
    try {
      this.presets = await tool("presets", {});
    } catch (error) {
      return this.#say(`The presets could not be loaded (${error.message}): reload the page`);
    }
    const shared = readShareHash(location.hash);
    if (shared) {
      this.el.meter.value = shared.meter;
      this.#styles(shared.style);
      this.el.n.value = shared.n;
      this.el.tempo.value = shared.tempo;
      this.el.tempoValue.textContent = shared.tempo;
      await this.#fill({ corners: shared.corners });
    } else {
      this.el.n.value = 11;
      this.#styles("jazz");
      await this.#fill({ sample: true });
    }
  }

  close() {
    clearInterval(this.timer);
    clearTimeout(this.editTimer);
    this.#play(false);
    this.root.remove();
  }

  // --- the grid -------------------------------------------------------------------------------

  #styles(wanted) {
    const styles = this.presets.styles[this.el.meter.value] ?? [];
    this.el.style.replaceChildren(...styles.map((s) => new Option(s, s)));
    this.el.style.value = styles.includes(wanted) ? wanted : styles.includes("jazz") ? "jazz" : styles[0];
  }

  #settings() {
    return { n: Number(this.el.n.value), meter: this.el.meter.value, style: this.el.style.value };
  }

  /** Blend the grid again: with `corners` (or the grid's own), or four sampled ones (`sample`). */
  async #fill({ corners = null, sample = false } = {}) {
    if (sample && this.el.meter.value !== this.grid?.meter) this.#styles(this.el.style.value);
    const body = this.#settings();
    const use = sample ? null : corners ?? this.grid?.corners;
    if (use) body.corners = use;
    else body.seed = Math.floor(Math.random() * 2 ** 31);
    const asked = ++this.asked;
    this.#say(use ? "Blending…" : "Sampling four corners…");
    this.root.classList.add("busy");
    let grid;
    try {
      grid = await tool("grid", body);
    } catch (error) {
      if (asked === this.asked) this.#say(`${error.message} (${error.code})`);
      return;
    } finally {
      if (asked === this.asked) this.root.classList.remove("busy");
    }
    if (asked !== this.asked || !this.root.isConnected) return;
    this.#show(grid);
    this.#say("");
  }

  #show(grid) {
    const resized = !this.grid || this.grid.n !== grid.n || this.grid.meter !== grid.meter;
    this.grid = { ...grid, tempo: this.#tempo() };
    audio.prepare({ drums: grid.drums.map((drum) => ({ drum })) }); // the kit's samples of every drum on the grid
    if (resized) {
      this.cells = buildBoard(this.el.board, grid.n, [this.el.puck]);
      cornerCells(grid.n).forEach(([x, y], k) => this.cells.get(`${x},${y}`).classList.add("corner", `corner-${k}`));
      this.stepGrid = buildSteps(this.el.steps, grid);
      this.editGrid = buildSteps(this.el.editorSteps, grid);
      this.playhead = -1;
      this.puck = [Math.floor(grid.n / 2), Math.floor(grid.n / 2)];
      this.#setPath([]);
      this.loop = null;
    }
    this.#drawCorners();
    this.#draw();
    if (this.editing !== null) this.#drawEditor();
  }

  #tempo() {
    return Number(this.el.tempo.value);
  }

  #beat([x, y]) {
    return this.grid.beats[x][y];
  }

  // --- the corners ----------------------------------------------------------------------------

  #drawCorners() {
    const meter = this.grid.meter;
    const presets = this.presets.presets.filter((p) => p.meter === meter);
    const panels = this.grid.corners.map((beat, k) => {
      const panel = fromTemplate(`<div class="blender-corner corner-${k}" data-corner="${k}"><b></b><select aria-label="Preset for the ${CORNER_NAMES[k]} corner"></select><div class="row"><button type="button" class="secondary" data-act="sample">Sample new</button><button type="button" class="secondary" data-act="edit">Edit</button></div></div>`);
      panel.querySelector("b").textContent = `${cellName(cornerCells(this.grid.n)[k])} · ${CORNER_NAMES[k]}`;
      const select = panel.querySelector("select");
      const key = JSON.stringify(beat);
      const current = presets.findIndex((p) => JSON.stringify(p.beat) === key);
      select.replaceChildren(new Option(current < 0 ? "— preset —" : "— preset —", ""), ...presets.map((p, i) => new Option(`${p.name} (${p.style})`, i)));
      select.value = current < 0 ? "" : String(current);
      select.addEventListener("change", () => select.value !== "" && this.#setCorner(k, presets[Number(select.value)].beat));
      panel.querySelector("[data-act=sample]").addEventListener("click", () => this.#sampleCorner(k));
      panel.querySelector("[data-act=edit]").addEventListener("click", () => this.#edit(k));
      return panel;
    });
    this.el.corners.replaceChildren(...panels);
  }

  #setCorner(k, beat) {
    const corners = this.grid.corners.map((c, i) => (i === k ? beat : c));
    return this.#fill({ corners });
  }

  /** A new beat for corner k from the drum model: one of four sampled with a fresh seed. */
  async #sampleCorner(k) {
    this.#say(`Sampling a new ${CORNER_NAMES[k]} corner…`);
    try {
      const { n, meter, style } = this.#settings();
      const sampled = await tool("grid", { n: 5, meter, style, seed: Math.floor(Math.random() * 2 ** 31) });
      if (meter !== this.grid.meter || n !== this.grid.n) return;
      await this.#setCorner(k, sampled.corners[k]);
    } catch (error) {
      this.#say(`${error.message} (${error.code})`);
    }
  }

  #edit(k) {
    this.editing = k;
    this.el.editor.hidden = k === null;
    this.root.querySelectorAll(".blender-corner").forEach((p) => p.classList.toggle("editing", Number(p.dataset.corner) === k));
    if (k !== null) {
      this.el.editorName.textContent = CORNER_NAMES[k];
      this.#drawEditor();
      this.el.editor.scrollIntoView({ block: "nearest" });
    }
  }

  #drawEditor() {
    this.editBeat ??= null;
    const beat = this.editBeat?.k === this.editing ? this.editBeat.beat : this.grid.corners[this.editing];
    const cell = [0, 0];
    drawSteps(this.editGrid, { ...this.grid, beats: [[beat]] }, cell);
  }

  /** A click on the editor's step grid: that drum's hit on that step toggled, shown at once; the
   * grid re-blends once the clicks pause. */
  #toggle(e) {
    const i = e.target.closest("i");
    if (!i || this.editing === null) return;
    const k = this.editing;
    const before = this.editBeat?.k === k ? this.editBeat.beat : this.grid.corners[k];
    this.editBeat = { k, beat: toggleHit(before, Number(i.dataset.step), Number(i.dataset.drum)) };
    this.#drawEditor();
    clearTimeout(this.editTimer);
    this.editTimer = setTimeout(async () => {
      const edited = this.editBeat;
      await this.#setCorner(edited.k, edited.beat);
      if (this.editBeat === edited) this.editBeat = null;
    }, EDIT_SETTLE_MS);
  }

  // --- the puck and the path ------------------------------------------------------------------

  #pointerDown(e) {
    if (!this.grid || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    this.el.board.focus({ preventScroll: true });
    this.drag = { id: e.pointerId };
    try {
      this.el.board.setPointerCapture(e.pointerId);
    } catch {
      // gone already: its pointerup ends the drag
    }
    this.el.board.classList.add("dragging");
    if (this.drawing) this.#setPath([]);
    this.#pointTo(e);
    if (!this.drawing) this.#play(true, false); // the beat under the puck
  }

  #pointerMove(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    e.preventDefault();
    this.#pointTo(e);
  }

  #pointerEnd(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    this.drag = null;
    this.el.board.classList.remove("dragging");
    if (this.drawing && this.path.length) {
      this.#say(`A path of ${this.path.length} cells: ▶ Play walks it bar by bar`);
      this.#drawMode(false);
      this.#play(true, true);
    }
  }

  #pointTo(e) {
    const cell = cellAt(this.el.board.getBoundingClientRect(), e.clientX, e.clientY, this.grid.n);
    if (this.drawing) {
      const last = this.path.at(-1);
      if (!last || last[0] !== cell[0] || last[1] !== cell[1]) this.#setPath([...this.path, cell]);
    }
    if (cell[0] === this.puck[0] && cell[1] === this.puck[1]) return;
    this.puck = cell;
    this.#draw();
  }

  #setPath(path) {
    for (const c of this.root.querySelectorAll(".cell.on-path")) c.classList.remove("on-path");
    this.path = path;
    for (const [x, y] of path) this.cells?.get(`${x},${y}`)?.classList.add("on-path");
    this.el.board.dataset.path = path.length;
    this.el.exportPath.disabled = path.length === 0;
    this.el.clear.disabled = path.length === 0;
    if (!path.length) this.walking = false;
    if (!this.playing) this.el.play.textContent = path.length ? "▶ Play the path" : "▶ Play";
  }

  #drawMode(on) {
    this.drawing = on;
    this.el.draw.setAttribute("aria-pressed", String(on));
    this.el.draw.textContent = on ? "✎ Drawing: drag over the grid" : "✎ Draw a path";
    this.el.board.classList.toggle("drawing", on);
    if (on) {
      this.#play(false);
      this.#say("Drag over the grid to draw a path");
    }
  }

  // --- sound ----------------------------------------------------------------------------------

  /** Play (the puck's beat, or, `walk`, the path bar by bar) or stop. */
  #play(on, walk = false) {
    this.playing = on;
    this.walking = on && walk && this.path.length > 0;
    this.loop = null;
    if (on) audio.unlock();
    else {
      this.playback?.stop();
      this.playback = null;
    }
    this.el.play.textContent = on ? "■ Stop" : this.path.length ? "▶ Play the path" : "▶ Play";
    this.el.play.setAttribute("aria-pressed", String(on));
  }

  #tick() {
    if (!this.grid) return;
    this.grid.tempo = this.#tempo();
    let playhead = -1;
    if (this.playing) {
      const g = this.grid, t = audio.now();
      if (!this.loop) this.loop = newLoop(t + START_DELAY);
      const step = scheduleLoop(this.loop, t, 60 / (g.tempo * 4), LEAD, (next, at) => {
        const { cell, step: s } = this.walking ? pathAt(this.path, next, g.steps_per_bar, g.steps) : { cell: this.puck, step: next % g.steps };
        const piece = stepPiece(g, cell, s);
        if (piece.drums.length) (this.playback ??= new audio.Playback()).piece(piece, at);
      });
      if (step >= 0) {
        playhead = step % g.steps;
        if (this.walking) {
          const { cell } = pathAt(this.path, step, g.steps_per_bar, g.steps);
          if (cell[0] !== this.puck[0] || cell[1] !== this.puck[1]) {
            this.puck = cell;
            this.#draw();
          }
        }
      }
    }
    markPlayhead(this.stepGrid, this.playhead, playhead);
    this.playhead = playhead;
  }

  // --- drawing, export, share -----------------------------------------------------------------

  #draw() {
    showPuck(this.el, this.stepGrid, this.grid, this.grid.n, this.puck);
  }

  async #export(beats, filename) {
    if (!beats.length) return;
    try {
      const blob = await tool("midi", { beats, tempo: this.#tempo(), meter: this.grid.meter });
      const url = URL.createObjectURL(blob);
      const a = Object.assign(document.createElement("a"), { href: url, download: filename });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      this.#say(`Exported ${filename} (${beats.length} beat${beats.length === 1 ? "" : "s"}, ${2 * beats.length} bars)`);
    } catch (error) {
      this.#say(`The export failed: ${error.message} (${error.code})`);
    }
  }

  async #share() {
    const hash = shareHash({ corners: this.grid.corners, n: this.grid.n, meter: this.grid.meter, style: this.grid.style, tempo: this.#tempo() });
    history.replaceState(null, "", `${location.pathname}#${hash}`);
    const link = location.href;
    this.el.link.hidden = false;
    this.el.link.value = link;
    try {
      await navigator.clipboard.writeText(link);
      this.#say("Link copied: it opens this grid, with these corners and settings");
    } catch {
      this.el.link.select();
      this.#say("The link is in the address bar and selected here: press Ctrl+C (or ⌘C) to copy it");
    }
  }

  #say(text) {
    this.el.status.textContent = text;
  }
}

/** The page module's `tool`: the instrument drawn into the container; returns its close(). */
export function instrument(container, ctx) {
  const view = new Instrument(ctx);
  view.open(container);
  return () => view.close();
}
