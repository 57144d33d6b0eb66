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
