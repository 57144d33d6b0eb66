// The studio's piano roll: pianoroll.js's drawing of a piece's melody, at the width of the page,
// under a row of bars that can be marked (the player's own tune, kept note for note) and picked by a
// drag (the bars to re-roll), and a playhead while the piece plays.
import * as audio from "./audio.js";
import { fromTemplate } from "./games/kit.js";
import { drawRoll } from "./pianoroll.js";

const ROLL_W = 232, ROLL_H = 160; // the size pianoroll.js draws at (it sets its canvas to it)

/** pianoroll.js's drawing on a canvas of any size: it is handed a stand-in canvas whose 2D context
 * is the real one, scaled, so that its 232 × 160 drawing fills this canvas sharply (at the
 * screen's pixel density) and its bar lines stay one pixel wide. */
export function drawWide(canvas, piece, range = {}) {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr)), h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const g = canvas.getContext("2d");
  g.setTransform(w / ROLL_W, 0, 0, h / ROLL_H, 0, 0);
  g.lineWidth = (ROLL_W / w) * dpr;
  drawRoll({ getContext: () => g, width: ROLL_W, height: ROLL_H }, piece, range);
  g.setTransform(1, 0, 0, 1, 0, 0);
}

export class Roll {
  /** `onSelect({first, last})`: bars picked by a drag across the bar row (none: not selectable). */
  constructor({ label = "Piano roll", onSelect = null } = {}) {
    this.root = fromTemplate(`<div class="studio-roll"><canvas role="img"></canvas><div class="studio-bars"></div><div class="studio-playhead" hidden></div></div>`);
    this.canvas = this.root.querySelector("canvas");
    this.canvas.setAttribute("aria-label", label);
    this.bars = this.root.querySelector(".studio-bars");
    this.head = this.root.querySelector(".studio-playhead");
    this.piece = null;
    this.onSelect = onSelect;
    this.root.classList.toggle("selectable", Boolean(onSelect));
    new ResizeObserver(() => this.#draw()).observe(this.root);
    if (onSelect) {
      const bars = this.bars;
      bars.addEventListener("pointerdown", (e) => this.#pick(e, true));
      bars.addEventListener("pointermove", (e) => this.drag?.id === e.pointerId && this.#pick(e, false));
      const end = (e) => {
        if (this.drag?.id !== e.pointerId) return;
        this.drag = null;
        this.onSelect(this.selected);
      };
      bars.addEventListener("pointerup", end);
      bars.addEventListener("pointercancel", end);
    }
  }

  /** Show a piece; `marked`: bars drawn as the player's own; `range`: {lowest, highest} pitches. */
  show(piece, { marked = new Set(), range = {} } = {}) {
    this.piece = piece;
    this.range = range;
    this.root.dataset.notes = piece ? piece.melody.length : 0;
    this.root.dataset.bars = piece ? piece.bars : 0;
    const cells = [];
    for (let bar = 0; bar < (piece?.bars ?? 0); bar++) {
      const cell = document.createElement("div");
      cell.className = "bar" + (marked.has(bar) ? " tune" : "");
      cell.dataset.bar = bar;
      cell.textContent = bar + 1;
      cells.push(cell);
    }
    this.bars.replaceChildren(...cells);
    this.bars.style.setProperty("--bars", piece?.bars ?? 1);
    this.selected = null;
    this.#draw();
  }

  /** Mark bars first..last (0-based) as picked, or none. */
  select(span) {
    this.selected = span;
    for (const cell of this.bars.children) {
      const bar = Number(cell.dataset.bar);
      cell.classList.toggle("selected", Boolean(span) && bar >= span.first && bar <= span.last);
    }
  }

  #pick(e, first) {
    if (!this.piece || (e.pointerType === "mouse" && e.button !== 0 && first)) return;
    const box = this.bars.getBoundingClientRect();
    const bar = Math.max(0, Math.min(this.piece.bars - 1, Math.floor(((e.clientX - box.left) / box.width) * this.piece.bars)));
    if (first) {
      e.preventDefault();
      this.drag = { id: e.pointerId, anchor: bar };
      try {
        this.bars.setPointerCapture(e.pointerId);
      } catch {
        // the pointer is gone already: its pointerup ends the drag
      }
    }
    this.select({ first: Math.min(this.drag.anchor, bar), last: Math.max(this.drag.anchor, bar) });
  }

  #draw() {
    if (!this.root.isConnected || !this.canvas.clientWidth) return;
    const empty = { bars: 1, steps_per_bar: 16, melody: [] };
    drawWide(this.canvas, this.piece ?? empty, this.range);
  }

  /** A playhead from audio time `start` over `seconds`, until it ends or stopPlayhead(). */
  playhead(start, seconds) {
    this.stopPlayhead();
    this.head.hidden = false;
    const frame = () => {
      const at = (audio.now() - start) / seconds;
      if (at >= 1) return this.stopPlayhead();
      this.head.style.left = `${Math.max(0, at) * 100}%`;
      this.frame = requestAnimationFrame(frame);
    };
    frame();
  }

  stopPlayhead() {
    cancelAnimationFrame(this.frame);
    this.head.hidden = true;
  }
}
