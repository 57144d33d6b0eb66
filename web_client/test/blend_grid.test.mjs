// Beat Hunt's pure page logic (src/games/blend_grid.js): the hit masks of the round view decoded
// into the drums audio.js plays, with the server's accents; the cell under a pointer; the axes a
// player steers; the moves sent (a new cell only, at most 15 a second); the score's parts against
// examples computed by the server's rules (game_server/games/blend/rules.py, `score`).
// Run: node --test web_client/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import * as g from "../src/games/blend_grid.js";

const DRUMS = ["kick", "snare", "closed_hat", "open_hat", "low_tom", "mid_tom", "high_tom", "crash", "ride"];

/** A 2 × 2 grid of 4/4 beats of 32 steps: cell (1, 0) has a kick and a ride on step 0, a snare on
 * 4, a closed hat on 6; every other cell is silent but for a high tom on its last step. */
function view() {
  const silent = () => Array.from({ length: 32 }, (_, s) => (s === 31 ? 1 << 6 : 0));
  const beat = silent();
  beat[0] = (1 << 0) | (1 << 8);
  beat[4] = 1 << 1;
  beat[6] = 1 << 2;
  return { grid: 2, tempo: 120, meter: "4/4", steps: 32, steps_per_bar: 16, beat_steps: 4, drums: DRUMS, beats: [[silent(), silent()], [beat, silent()]] };
}

test("a Beat Hunt view's packed beats read as the same beats[x][y] (material.pack_beats's packing)", () => {
  const nested = view();
  const beats = nested.beats;
  // cell (1, 0)'s beat as the server packs it (tests/test_blend_material.py has the same text)
  assert.equal(g.packBeats([beats[1][0]]), "gIAAAAAQAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABA");
  const packed = { ...nested, beats: undefined, packed_beats: g.packBeats([beats[0][0], beats[0][1], beats[1][0], beats[1][1]]) };
  assert.deepEqual(g.gridBeats(packed), beats);
  assert.deepEqual(g.stepRows(packed, [1, 0]), g.stepRows(nested, [1, 0]));
  assert.deepEqual(g.beatPiece(packed, [1, 0]), g.beatPiece(nested, [1, 0]));
  assert.throws(() => g.gridBeats({ ...nested, beats: undefined, packed_beats: packed.packed_beats.slice(1) }), /not 2 × 2 beats of 32 steps/);
});

test("a hit mask is decoded bit by bit, in the view's drum order", () => {
  assert.deepEqual(g.hitsOf(0, DRUMS), []);
  assert.deepEqual(g.hitsOf(0b1_0000_0011, DRUMS), ["kick", "snare", "ride"]);
  assert.deepEqual(g.hitsOf(511, DRUMS), DRUMS);
});

test("accents are the server's: 100 on a bar's first step, 88 on a beat, 76 off the beat", () => {
  assert.deepEqual([0, 4, 6, 16, 20, 31].map((s) => g.accent(s, 16, 4)), [100, 88, 76, 100, 88, 76]);
});

test("a cell's beat as the drums audio.js plays (beats[x][y])", () => {
  const h = view();
  assert.deepEqual(g.stepHits(h, [1, 0], 0), [{ drum: "kick", step: 0, velocity: 100 }, { drum: "ride", step: 0, velocity: 100 }]);
  assert.deepEqual(g.stepHits(h, [0, 1], 0), []); // x first: (0, 1) is not (1, 0)
  const piece = g.beatPiece(h, [1, 0]);
  assert.equal(piece.bars, 2);
  assert.equal(piece.tempo, 120);
  assert.deepEqual(piece.drums.map((d) => [d.drum, d.step, d.velocity]), [["kick", 0, 100], ["ride", 0, 100], ["snare", 4, 88], ["closed_hat", 6, 76], ["high_tom", 31, 76]]);
  const one = g.stepPiece(h, [1, 0], 4); // one step, played at its own time: hits at step 0, accent of step 4
  assert.deepEqual([one.bars, one.steps_per_bar, one.drums], [1, 1, [{ drum: "snare", step: 0, velocity: 88 }]]);
  const rows = g.stepRows(h, [1, 0]);
  assert.equal(rows.length, 9);
  assert.deepEqual(rows[0].flatMap((on, s) => (on ? [s] : [])), [0]);
  assert.deepEqual(rows[6].flatMap((on, s) => (on ? [s] : [])), [31]);
});

test("the cell under a point, an edge cell for a point outside the board", () => {
  const box = { left: 100, top: 50, width: 500, height: 500 }; // 5 × 5 cells of 100 px
  assert.deepEqual(g.cellAt(box, 100, 50, 5), [0, 0]);
  assert.deepEqual(g.cellAt(box, 399, 151, 5), [2, 1]);
  assert.deepEqual(g.cellAt(box, 599.9, 549.9, 5), [4, 4]);
  assert.deepEqual(g.cellAt(box, 20, 900, 5), [0, 4]);
});

test("a player moves the puck on their own axes only", () => {
  assert.deepEqual(g.steer([2, 2], [4, 0], "xy"), [4, 0]);
  assert.deepEqual(g.steer([2, 2], [4, 0], "x"), [4, 2]);
  assert.deepEqual(g.steer([2, 2], [4, 0], "y"), [2, 0]);
  assert.deepEqual(g.steer([2, 2], [4, 0], ""), [2, 2]);
  assert.deepEqual(g.arrowMove([2, 2], "ArrowRight", "x", 5), { axis: "x", cell: [3, 2] });
  assert.deepEqual(g.arrowMove([4, 0], "ArrowRight", "xy", 5), { axis: "x", cell: [4, 0] }); // the edge holds
  assert.deepEqual(g.arrowMove([2, 0], "ArrowUp", "xy", 5), { axis: "y", cell: [2, 0] });
  assert.deepEqual(g.arrowMove([2, 2], "ArrowDown", "x", 5), { axis: "y", refused: true });
  assert.equal(g.arrowMove([2, 2], "Enter", "xy", 5), null);
  assert.deepEqual(g.moveFields([3, 1], "x"), { x: 3 });
  assert.deepEqual(g.moveFields([3, 1], "xy"), { x: 3, y: 1 });
  assert.equal(g.cellName([0, 0]), "A1");
  assert.equal(g.cellName([10, 10]), "K11");
});

test("moves go for a new cell only, at most one every 1/15 s, the latest cell winning", () => {
  const out = new g.MoveOutbox();
  out.reset({ x: 2, y: 2 });
  out.want({ x: 2, y: 2 });
  assert.equal(out.take(0), null); // the round's own cell: nothing to send
  out.want({ x: 3, y: 2 });
  assert.deepEqual(out.take(1000), { fields: { x: 3, y: 2 } });
  out.want({ x: 3, y: 2 });
  assert.equal(out.take(2000), null); // the same cell twice in a row is not sent
  out.want({ x: 4, y: 2 });
  assert.deepEqual(out.take(2010), { fields: { x: 4, y: 2 } });
  out.want({ x: 4, y: 3 });
  const wait = out.take(2030);
  assert.ok(wait.wait > 46 && wait.wait < 47, wait); // 1000/15 ms after the last
  out.want({ x: 4, y: 4 }); // passed over while waiting: only the latest goes
  assert.deepEqual(out.take(2030 + wait.wait), { fields: { x: 4, y: 4 } });
  out.want({ x: 0, y: 0 });
  assert.deepEqual(out.take(2100, true), { fields: { x: 0, y: 0 } }); // a submit's move goes at once
  // at most 15 a second, however fast the cells change
  const fast = new g.MoveOutbox();
  let sent = 0;
  for (let ms = 0; ms < 1000; ms += 4) {
    fast.want({ x: ms % 7, y: 0 });
    if (fast.take(ms)?.fields) sent += 1;
  }
  assert.ok(sent <= 15, `${sent} sent in a second`);
  // a refusal forgets what was sent: the same cell may go again
  out.reset(null);
  out.want({ x: 0, y: 0 });
  assert.deepEqual(out.take(5000), { fields: { x: 0, y: 0 } });
});

test("the score's parts add up to the server's points (rules.score examples)", () => {
  // 5 × 5, target (1, 3), answer (2, 3), 2 listens again, 30 s: 420 points
  const a = g.breakdown({ distance: 1, closeness: 0.6, exact: false, listens: 2, seconds: 30, pace: 0.6667, heard: 0.84 });
  assert.equal(a.total, 420);
  assert.equal(Math.round(a.closeness), 420);
  assert.equal(Math.round(a.pace), 80);
  assert.equal(a.exact, 0);
  assert.equal(Math.round(a.lost), 80);
  // 11 × 11, exact, no listen again, 12.5 s of 60: 958 points
  const b = g.breakdown({ distance: 0, closeness: 1, exact: true, listens: 0, seconds: 12.5, pace: 0.7917, heard: 1 });
  assert.deepEqual([b.total, b.exact, Math.round(b.pace), b.lost], [958, 100, 158, 0]);
  // 9 × 9, far away: nothing
  assert.equal(g.breakdown({ distance: 9.899, closeness: 0, exact: false, listens: 5, seconds: 80, pace: 0, heard: 0.6 }).total, 0);
});

test("corners pack into a share link and back; anything else reads as none", () => {
  const corners = [0, 1, 2, 3].map((c) => Array.from({ length: 24 }, (_, s) => (s * 37 + c * 101) % 512));
  corners[3][23] = 511;
  const packed = g.packBeats(corners);
  assert.match(packed, /^[A-Za-z0-9_-]+$/);
  assert.equal(packed.length, 144); // 4 × 24 × 9 bits
  assert.deepEqual(g.unpackBeats(packed, 4, 24), corners);
  assert.equal(g.unpackBeats(packed, 4, 32), null);
  assert.equal(g.unpackBeats(packed.slice(0, -2) + "!!", 4, 24), null);
  const settings = { corners, n: 9, meter: "3/4", style: "waltz", tempo: 96 };
  assert.deepEqual(g.readShareHash("#" + g.shareHash(settings)), settings);
  assert.equal(g.readShareHash(""), null);
  assert.equal(g.readShareHash(g.shareHash({ ...settings, n: 12 })), null);
  assert.equal(g.readShareHash(g.shareHash({ ...settings, meter: "4/4" })), null); // 24-step corners in 4/4
});

test("the loop hands each step once, on time, and follows a tempo change from the next step", () => {
  const loop = g.newLoop(1);
  const handed = [];
  const hand = (step, at) => handed.push([step, at]);
  assert.equal(g.scheduleLoop(loop, 0.95, 0.125, 0.1, hand), -1);
  assert.deepEqual(handed, [[0, 1]]);
  assert.equal(g.scheduleLoop(loop, 1.13, 0.125, 0.15, hand), 1);
  assert.deepEqual(handed.map(([s]) => s), [0, 1, 2]);
  g.scheduleLoop(loop, 1.3, 0.25, 0.1, hand); // slower: step 3 is due 0.125 after step 2 (set then), then 0.25 apart
  assert.deepEqual(handed.at(-1), [3, 1.375]);
  g.scheduleLoop(loop, 1.56, 0.25, 0.1, hand);
  assert.deepEqual(handed.at(-1), [4, 1.625]);
  g.scheduleLoop(loop, 9.05, 0.25, 0.1, hand); // a stalled page skips what it missed
  assert.deepEqual(handed.slice(-2), [[4, 1.625], [34, 9.125]]);
});

test("a path plays bar by bar, each bar from the next cell's beat; a hit toggles", () => {
  const path = [[0, 0], [1, 0], [2, 1]];
  assert.deepEqual(g.pathAt(path, 0, 16, 32), { cell: [0, 0], step: 0 });
  assert.deepEqual(g.pathAt(path, 17, 16, 32), { cell: [1, 0], step: 17 });
  assert.deepEqual(g.pathAt(path, 40, 16, 32), { cell: [2, 1], step: 8 });
  assert.deepEqual(g.pathAt(path, 48, 16, 32), { cell: [0, 0], step: 16 });
  assert.deepEqual(g.toggleHit([0, 3, 0], 1, 1), [0, 1, 0]);
  assert.deepEqual(g.toggleHit([0, 3, 0], 2, 8), [0, 3, 256]);
  assert.equal(g.cellColour(0, 0, 5), "rgb(255 107 122 / 0.3)");
  assert.deepEqual(g.cornerCells(5), [[0, 0], [4, 0], [0, 4], [4, 4]]);
});
