// Beat Hunt's pure parts, without the page (no document, no sound), so that node can test them
// (web_client/test/blend_grid.test.mjs): a cell's beat from the round view's hit masks, as the
// drum hits audio.js plays; the cell under a pointer; what a player's axes let them move; cell
// names for people; the sending of moves (only a new cell, at most ~15 a second); the score's
// breakdown as the server computes it (game_server/games/blend/rules.py, `score`).

export const MOVES_PER_SECOND = 15;

/** The drums a step's hit mask sounds (bit d set: view.drums[d] hits), as names. */
export function hitsOf(mask, drums) {
  const out = [];
  for (let d = 0; d < drums.length; d++) if (mask & (1 << d)) out.push(drums[d]);
  return out;
}

/** A step's velocity as the server's own sound has it (music.accent): 100 on a bar's first step,
 * 88 on a beat, 76 off the beat. */
export function accent(step, stepsPerBar, beatSteps) {
  if (step % stepsPerBar === 0) return 100;
  return step % beatSteps === 0 ? 88 : 76;
}

/** The hits of one step of cell (x, y)'s beat, as a piece's drums ({drum, step, velocity}) at
 * `at` (the step they are given: 0 for a one-step piece). `hunt`: the round's `hunt` view. */
export function stepHits(hunt, [x, y], step, at = step) {
  const velocity = accent(step, hunt.steps_per_bar, hunt.beat_steps);
  return hitsOf(gridBeats(hunt)[x][y][step], hunt.drums).map((drum) => ({ drum, step: at, velocity }));
}

/** Cell (x, y)'s whole beat as a drums-only piece (Piece JSON's fields that audio.js reads). */
export function beatPiece(hunt, cell) {
  const drums = [];
  for (let step = 0; step < hunt.steps; step++) drums.push(...stepHits(hunt, cell, step));
  return { tempo: hunt.tempo, meter: hunt.meter, bars: hunt.steps / hunt.steps_per_bar, steps_per_bar: hunt.steps_per_bar, melody: [], chords: [], drums };
}

/** One step of a cell's beat as a piece of one step (played by audio.js's Playback at its time). */
export function stepPiece(hunt, cell, step) {
  return { tempo: hunt.tempo, bars: 1, steps_per_bar: 1, melody: [], chords: [], drums: stepHits(hunt, cell, step, 0) };
}

/** The board's rows by drum: for each drum, the steps it hits on (true/false) in cell's beat. */
export function stepRows(hunt, cell) {
  const [x, y] = cell;
  return hunt.drums.map((_, d) => gridBeats(hunt)[x][y].map((mask) => Boolean(mask & (1 << d))));
}

/** The cell under a point of a board drawn in `box` ({left, top, width, height}, n cells a side,
 * x across from the left, y down from the top); a point outside counts as the nearest edge cell. */
export function cellAt(box, clientX, clientY, n) {
  const clamp = (v) => Math.max(0, Math.min(n - 1, v));
  return [clamp(Math.floor(((clientX - box.left) / box.width) * n)), clamp(Math.floor(((clientY - box.top) / box.height) * n))];
}

/** The puck after a player steering `axes` ("xy", "x", "y", or "" for none) asks for `cell`:
 * only the axes they steer change. */
export function steer(puck, cell, axes) {
  return [axes.includes("x") ? cell[0] : puck[0], axes.includes("y") ? cell[1] : puck[1]];
}

const ARROWS = { ArrowLeft: ["x", -1], ArrowRight: ["x", 1], ArrowUp: ["y", -1], ArrowDown: ["y", 1] };

/** An arrow key's move: {cell} one cell on (clamped to the grid), {axis, refused: true} when the
 * partner steers that axis, or null for a key that is no arrow. */
export function arrowMove(puck, key, axes, n) {
  const arrow = ARROWS[key];
  if (!arrow) return null;
  const [axis, by] = arrow;
  if (!axes.includes(axis)) return { axis, refused: true };
  const i = axis === "x" ? 0 : 1;
  const cell = [...puck];
  cell[i] = Math.max(0, Math.min(n - 1, cell[i] + by));
  return { axis, cell };
}

/** A cell as people name it: its column a letter (x, from A), its row a number (y, from 1). */
export function cellName([x, y]) {
  return `${String.fromCharCode(65 + x)}${y + 1}`;
}

/** The fields of a `move` for the axes a player steers ({x}, {y} or {x, y}). */
export function moveFields(puck, axes) {
  const fields = {};
  if (axes.includes("x")) fields.x = puck[0];
  if (axes.includes("y")) fields.y = puck[1];
  return fields;
}

const same = (a, b) => Boolean(a && b) && Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k] === b[k]);

/** The moves to send: the cell wanted last, never the same fields twice in a row, at most one
 * every 1/MOVES_PER_SECOND s (cells passed over in between are skipped: the latest one goes). */
export class MoveOutbox {
  constructor(gapMs = 1000 / MOVES_PER_SECOND) {
    this.gap = gapMs;
    this.wanted = null;
    this.sent = null; // the fields last sent (or the puck the round started with)
    this.lastAt = -Infinity;
  }

  /** The puck's fields as the round stands (a start, a refusal): a move to them is no news. */
  reset(fields) {
    this.sent = fields;
    this.wanted = null;
  }

  want(fields) {
    this.wanted = fields;
  }

  pending() {
    return Boolean(this.wanted) && !same(this.wanted, this.sent);
  }

  /** At `now` (ms): {fields} to send now, {wait} ms until one may go, or null (nothing new).
   * `force`: now whatever the gap (a submit must go after the cell it is for). */
  take(now, force = false) {
    if (!this.pending()) return null;
    const wait = this.lastAt + this.gap - now;
    if (wait > 0 && !force) return { wait };
    this.sent = this.wanted;
    this.lastAt = now;
    return { fields: this.wanted };
  }
}

/** The score as the server's rules compute it from a result's `details`, part by part:
 * closeness (700 at most), pace (200 × closeness × pace), the exact hit (100), all times `heard`. */
export function breakdown(d) {
  const closeness = 700 * d.closeness, pace = 200 * d.closeness * d.pace, exact = d.exact ? 100 : 0;
  const before = closeness + pace + exact;
  return { closeness, pace, exact, before, heard: d.heard, lost: before - before * d.heard, total: Math.round(before * d.heard) };
}

// --- shared with Beat Blender's instrument (blend_instrument.js) ----------------------------------

export const CORNER_COLOURS = [[255, 107, 122], [255, 184, 77], [107, 184, 255], [110, 231, 168]]; // cells (0,0), (n-1,0), (0,n-1), (n-1,n-1)

/** A cell's colour: the four corners' colours blended by its place, as the beats are. */
export function cellColour(x, y, n, alpha = 0.3) {
  const u = n > 1 ? x / (n - 1) : 0, v = n > 1 ? y / (n - 1) : 0;
  const w = [(1 - u) * (1 - v), u * (1 - v), (1 - u) * v, u * v];
  const c = [0, 1, 2].map((i) => Math.round(CORNER_COLOURS.reduce((sum, corner, k) => sum + w[k] * corner[i], 0)));
  return `rgb(${c[0]} ${c[1]} ${c[2]} / ${alpha})`;
}

/** The corner cells of an n × n grid, in the order a grid's `corners` lists them. */
export function cornerCells(n) {
  return [[0, 0], [n - 1, 0], [0, n - 1], [n - 1, n - 1]];
}

/** A beat loop's state: its next step is `next`, due at `at` (s, the audio clock). */
export function newLoop(start) {
  return { at: start, next: 0, handed: [] };
}

/** The loop's steps due before `t + lead` handed over (`hand(step, at)`; `step` counts on from 0
 * for as long as the loop runs), one every `secondsPerStep` as it is now (a tempo change takes
 * effect from the next step on); steps a stalled page missed are skipped. Returns the step
 * sounding at `t` (-1 before the first). */
export function scheduleLoop(loop, t, secondsPerStep, lead, hand) {
  while (loop.at < t + lead) {
    const at = loop.at, step = loop.next;
    loop.next += 1;
    loop.at += secondsPerStep;
    if (at < t - 0.02) continue;
    hand(step, at);
    loop.handed.push([at, step]);
  }
  while (loop.handed.length > 1 && loop.handed[1][0] <= t) loop.handed.shift();
  return loop.handed.length && loop.handed[0][0] <= t ? loop.handed[0][1] : -1;
}

/** A beat with one hit toggled: drum `d` on step `step`. */
export function toggleHit(beat, step, d) {
  return beat.map((mask, s) => (s === step ? mask ^ (1 << d) : mask));
}

/** What a path plays at loop step `step` (counting from 0): bar by bar, the path's next cell,
 * that bar of its beat. Returns {cell, step} (the step in the cell's 2-bar beat). */
export function pathAt(path, step, stepsPerBar, steps) {
  const bar = Math.floor(step / stepsPerBar);
  return { cell: path[bar % path.length], step: step % steps };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Beats (T hit masks each, 9 bits a mask) packed bit by bit, bit 8 of a mask first, as base64url:
 * a share link's four corners (4 × 32 steps in 192 characters), and the server's Beat Hunt grid
 * (`packed_beats`, its material.pack_beats: 121 × 32 steps in 5,808). */
export function packBeats(beats) {
  let out = "", acc = 0, held = 0;
  for (const beat of beats)
    for (const mask of beat) {
      acc = (acc << 9) | (mask & 511);
      held += 9;
      while (held >= 6) {
        held -= 6;
        out += B64[(acc >> held) & 63];
        acc &= (1 << held) - 1;
      }
    }
  return held ? out + B64[(acc << (6 - held)) & 63] : out;
}

/** The inverse of packBeats: `count` beats of `steps` steps, or null for text that is not that many. */
export function unpackBeats(text, count, steps) {
  if (typeof text !== "string" || text.length !== Math.ceil((count * steps * 9) / 6)) return null;
  const beats = [];
  let beat = [], acc = 0, held = 0;
  for (const ch of text) {
    const v = B64.indexOf(ch);
    if (v < 0) return null;
    acc = (acc << 6) | v;
    held += 6;
    while (held >= 9 && beats.length < count) {
      held -= 9;
      beat.push((acc >> held) & 511);
      acc &= (1 << held) - 1;
      if (beat.length === steps) {
        beats.push(beat);
        beat = [];
      }
    }
  }
  return beats.length === count ? beats : null;
}

/** A grid's beats as beats[x][y]: the instrument's grid has them so; a Beat Hunt view sends them
 * packed (`packed_beats`, cell (x, y) the (x·n + y)-th), unpacked here once and kept on the view. */
export function gridBeats(hunt) {
  if (!hunt.beats) {
    const n = hunt.grid, flat = unpackBeats(hunt.packed_beats, n * n, hunt.steps);
    if (!flat) throw new Error(`packed_beats is not ${n} × ${n} beats of ${hunt.steps} steps`);
    hunt.beats = Array.from({ length: n }, (_, x) => flat.slice(x * n, x * n + n));
  }
  return hunt.beats;
}

export const METER_STEPS = { "4/4": 32, "3/4": 24, "6/8": 24 };

/** An instrument's settings as the share link's hash: "c=<corners>&n=11&m=4/4&s=jazz&t=120". */
export function shareHash({ corners, n, meter, style, tempo }) {
  const q = new URLSearchParams({ c: packBeats(corners), n: String(n), m: meter, s: style, t: String(tempo) });
  return q.toString();
}

/** The settings a share link's hash carries (`#` or not), or null when it carries none that fit. */
export function readShareHash(hash) {
  const q = new URLSearchParams(String(hash).replace(/^#/, ""));
  const meter = q.get("m");
  if (!q.get("c") || !(meter in METER_STEPS)) return null;
  const corners = unpackBeats(q.get("c"), 4, METER_STEPS[meter]);
  const n = Number(q.get("n")), tempo = Number(q.get("t"));
  if (!corners || !Number.isInteger(n) || n < 5 || n > 11 || !Number.isInteger(tempo) || tempo < 60 || tempo > 180) return null;
  return { corners, n, meter, style: q.get("s") || "jazz", tempo };
}
