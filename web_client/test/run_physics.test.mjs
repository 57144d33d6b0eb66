// The JavaScript Run physics against tests/vectors/run_physics.json (written from the Python
// implementation by tests/vectors/make_run_physics.py), and its judging against run.py.
// Run: node --test web_client/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as phys from "../src/run_physics.js";

const vectors = JSON.parse(readFileSync(new URL("../../tests/vectors/run_physics.json", import.meta.url), "utf8"));
const bot = vectors.cases.find((c) => c.name === "bot-melody");

// Nothing is written by hand in run_physics.js: it plays by the rules it is given, the server's
// (the vectors' constants are game_server.games.run.client_rules(), as in /api/games).
test("before configure, no level can be made", () => {
  assert.equal(phys.STEP, undefined);
  assert.throws(() => phys.makeLane(bot.lane), /configure/);
});

test("configure refuses rules with a name missing, unknown or of the wrong kind", () => {
  const { GRADES, ...noGrades } = vectors.constants;
  assert.throws(() => phys.configure(noGrades), /missing GRADES/);
  assert.throws(() => phys.configure({ ...vectors.constants, EXTRA: 1 }), /unknown EXTRA/);
  assert.throws(() => phys.configure({ ...vectors.constants, STEP: "4096" }), /STEP/);
  assert.throws(() => phys.configure({ ...vectors.constants, GRADES: [["perfect", 45]] }), /GRADES/);
  assert.equal(phys.STEP, undefined); // nothing set by a refused call
});

// The tests run in order: from here on the module is configured from the vectors, as the page
// configures it from /api/games.
test("configure takes every key, and the module plays by those values", () => {
  phys.configure(vectors.constants);
  assert.deepStrictEqual([...phys.RULES].sort(), Object.keys(vectors.constants).sort());
  for (const [name, value] of Object.entries(vectors.constants)) assert.deepStrictEqual(phys[name], value, name);
  // what the page then uses: the playhead by TICKS_PER_SECOND and STEP, the grades' windows and points
  const lane = phys.makeLane(bot.lane);
  assert.equal(lane.playhead(phys.TICKS_PER_SECOND), Math.floor((bot.lane.tempo * 4 * vectors.constants.STEP) / 60));
  const [name, ms, points] = vectors.constants.GRADES[0];
  const judge = new phys.LaneJudge(lane, 0, 0);
  const onset = Math.round((lane.platforms[1].x0 * 900) / (lane.tempo * vectors.constants.STEP)); // platform 1's tick
  const j = judge.judge(1, onset);
  assert.ok(Math.abs(j.delta_ms) <= ms);
  assert.deepStrictEqual([j.grade, j.points], [name, points]);
  assert.equal(judge.summary().lane, vectors.constants.LANE_NAMES[0]);
  // and a second call replaces them all (here with the same numbers, the grades' copy frozen)
  phys.configure(JSON.parse(JSON.stringify(vectors.constants)));
  assert.ok(Object.isFrozen(phys.GRADES) && Object.isFrozen(phys.GRADES[0]) && Object.isFrozen(phys.LANE_NAMES));
});

for (const c of vectors.cases) {
  test(`vector ${c.name}`, () => {
    const lane = phys.makeLane(c.lane);
    for (const [tick, x] of c.playheads) assert.equal(lane.playhead(tick), x, `playhead(${tick})`);
    const states = new Map();
    const events = [];
    for (const { tick, state, events: evs } of phys.simulate(lane, c.inputs, c.ticks)) {
      states.set(tick, { tick, ...state });
      for (const [kind, platform] of evs) events.push([tick, kind, platform]);
    }
    assert.equal(states.size, c.ticks);
    for (const want of c.states) assert.deepStrictEqual(states.get(want.tick), want, `state at tick ${want.tick}`);
    assert.deepStrictEqual(events, c.events);
  });
}

test("simulate resumes from a state and a first tick", () => {
  const lane = phys.makeLane(bot.lane);
  const all = [...phys.simulate(lane, bot.inputs, bot.ticks)];
  const at = 150;
  const rest = [...phys.simulate(lane, bot.inputs.filter((i) => i[0] >= at), bot.ticks - at, all[at - 1].state, at)];
  assert.deepStrictEqual(rest, all.slice(at));
});

// Expected numbers obtained once from the Python implementation (game_server.games.run), with
// lane = the bot-melody case's lane as run_physics.Lane and, for each offset:
//   level = run.Level(tempo, 16, (lane,)); g = run.RunRound.start(level, (0,), {0: offset})
//   js = g.add_inputs({0: inputs}, now_tick=10**6) + g.run_out(); g.result()
// listing each judgement as [platform, tick, grade, delta_ms, points, combo]. The "cut" run
// sends only the first 20 inputs (offset 30), so the avatar is scrolled off and misses the rest.
// Distance counts the music (from the count-in's end, step 16) to the end of the furthest note
// arrived on: 48 steps at the goal.
const GOAL_RUN = { status: "goal", steps: 48, distance_points: 240, goal_points: 1000, ended_tick: 410, inputs: 64 };
const JUDGING = [
  {
    name: "offset 0", offset: 0, inputs: bot.inputs, score: 6080,
    summary: { ...GOAL_RUN, judgements: { perfect: 14, great: 1, good: 0, miss: 0 }, max_combo: 15, note_points: 4840 },
    judgements: [[1, 109, "perfect", -2, 300, 1], [2, 123, "perfect", 5, 300, 2], [3, 136, "perfect", -6, 300, 3], [4, 164, "perfect", 6, 300, 4], [5, 177, "perfect", -5, 300, 5], [6, 191, "perfect", 2, 330, 6], [7, 206, "perfect", 24, 330, 7], [8, 222, "great", 64, 220, 8], [9, 245, "perfect", -8, 330, 9], [10, 259, "perfect", -2, 330, 10], [11, 273, "perfect", 5, 360, 11], [12, 314, "perfect", 6, 360, 12], [13, 327, "perfect", -5, 360, 13], [14, 382, "perfect", 3, 360, 14], [15, 409, "perfect", -2, 360, 15]],
  },
  {
    name: "offset -70", offset: -70, inputs: bot.inputs, score: 4320,
    summary: { ...GOAL_RUN, judgements: { perfect: 0, great: 13, good: 2, miss: 0 }, max_combo: 15, note_points: 3080 },
    judgements: [[1, 109, "great", 68, 200, 1], [2, 123, "great", 75, 200, 2], [3, 136, "great", 64, 200, 3], [4, 164, "great", 76, 200, 4], [5, 177, "great", 65, 200, 5], [6, 191, "great", 72, 220, 6], [7, 206, "good", 94, 110, 7], [8, 222, "good", 134, 110, 8], [9, 245, "great", 62, 220, 9], [10, 259, "great", 68, 220, 10], [11, 273, "great", 75, 240, 11], [12, 314, "great", 76, 240, 12], [13, 327, "great", 65, 240, 13], [14, 382, "great", 73, 240, 14], [15, 409, "great", 68, 240, 15]],
  },
  {
    name: "offset -200: windows close before the arrivals", offset: -200, inputs: bot.inputs, score: 1240,
    summary: { ...GOAL_RUN, judgements: { perfect: 0, great: 0, good: 0, miss: 15 }, max_combo: 0, note_points: 0 },
    judgements: [[1, 106, "miss", null, 0, 0], [2, 119, "miss", null, 0, 0], [3, 133, "miss", null, 0, 0], [4, 160, "miss", null, 0, 0], [5, 174, "miss", null, 0, 0], [6, 188, "miss", null, 0, 0], [7, 201, "miss", null, 0, 0], [8, 215, "miss", null, 0, 0], [9, 242, "miss", null, 0, 0], [10, 256, "miss", null, 0, 0], [11, 269, "miss", null, 0, 0], [12, 310, "miss", null, 0, 0], [13, 324, "miss", null, 0, 0], [14, 378, "miss", null, 0, 0], [15, 406, "miss", null, 0, 0]],
  },
  {
    name: "offset 200: arrivals too early", offset: 200, inputs: bot.inputs, score: 1240,
    summary: { ...GOAL_RUN, judgements: { perfect: 0, great: 0, good: 0, miss: 15 }, max_combo: 0, note_points: 0 },
    judgements: [[1, 109, "miss", -202, 0, 0], [2, 123, "miss", -195, 0, 0], [3, 136, "miss", -206, 0, 0], [4, 164, "miss", -194, 0, 0], [5, 177, "miss", -205, 0, 0], [6, 191, "miss", -198, 0, 0], [7, 206, "miss", -176, 0, 0], [8, 222, "miss", -136, 0, 0], [9, 245, "miss", -208, 0, 0], [10, 259, "miss", -202, 0, 0], [11, 273, "miss", -195, 0, 0], [12, 314, "miss", -194, 0, 0], [13, 327, "miss", -205, 0, 0], [14, 382, "miss", -197, 0, 0], [15, 409, "miss", -202, 0, 0]],
  },
  {
    name: "cut: first 20 inputs, offset 30", offset: 30, inputs: bot.inputs.slice(0, 20), score: 1560,
    summary: { status: "scrolled", steps: 12, distance_points: 60, goal_points: 0, ended_tick: 240, inputs: 20, judgements: { perfect: 5, great: 0, good: 0, miss: 10 }, max_combo: 5, note_points: 1500 },
    judgements: [[1, 109, "perfect", -32, 300, 1], [2, 123, "perfect", -25, 300, 2], [3, 136, "perfect", -36, 300, 3], [4, 164, "perfect", -24, 300, 4], [5, 177, "perfect", -35, 300, 5], [6, 201, "miss", null, 0, 0], [7, 215, "miss", null, 0, 0], [8, 229, "miss", null, 0, 0], [9, 240, "miss", null, 0, 0], [10, 240, "miss", null, 0, 0], [11, 240, "miss", null, 0, 0], [12, 240, "miss", null, 0, 0], [13, 240, "miss", null, 0, 0], [14, 240, "miss", null, 0, 0], [15, 240, "miss", null, 0, 0]],
  },
];

for (const r of JUDGING) {
  test(`judging bot-melody, ${r.name}`, () => {
    const judge = new phys.LaneJudge(phys.makeLane(bot.lane), r.offset, 0);
    const js = [...judge.apply(r.inputs), ...judge.runOut()];
    assert.deepStrictEqual(js.map((j) => [j.platform, j.tick, j.grade, j.delta_ms, j.points, j.combo]), r.judgements);
    assert.ok(js.every((j) => j.lane === 0));
    const result = phys.roundResult([judge]);
    assert.deepStrictEqual(result, { score: r.score, lanes: [{ lane: "melody", ...r.summary }], sync_ticks: 0, sync_points: 0 });
  });
}

// Two avatars on the bot-melody lane (run.py: a Level with the lane twice): both play the bot's
// inputs, one does, none does. Sync ticks need both in the band on a combo; idling earns nothing.
test("sync and standing still, as run.py scores them", () => {
  const lane = phys.makeLane(bot.lane);
  const round = (plays) => {
    const judges = plays.map((play, i) => new phys.LaneJudge(lane, 0, i));
    judges.forEach((j, i) => {
      if (plays[i]) j.apply(bot.inputs);
      j.runOut();
    });
    const { score, sync_ticks, sync_points } = phys.roundResult(judges);
    return { score, sync_ticks, sync_points };
  };
  assert.deepStrictEqual(round([true, true]), { score: 13660, sync_ticks: 300, sync_points: 1500 });
  assert.deepStrictEqual(round([true, false]), { score: 6080, sync_ticks: 0, sync_points: 0 });
  assert.deepStrictEqual(round([false, false]), { score: 0, sync_ticks: 0, sync_points: 0 });
});

test("within and deltaMs at a window's edges", () => {
  const lane = phys.makeLane(bot.lane); // tempo 132; platform 1's onset is tick 65536 × 900 / (132 × 4096) = 109.0909…
  assert.equal(phys.within(lane, 1, 109, 0, 45), 0);
  assert.equal(phys.within(lane, 1, 100, 0, 135), -1);
  assert.equal(phys.within(lane, 1, 118, 0, 135), 1);
  assert.equal(phys.deltaMs(lane, 1, 109, 0), (109 * 132 * 4096 - 65536 * 900) * 50 / (3 * 132 * 4096));
});

// Tie-breaks and rounding the vectors do not reach. Expected events and states obtained once from
// game_server.games.run_physics.simulate (and run.LaneRun._judge) on the same lanes and states.
const S = vectors.constants.STEP; // phys.STEP once configured (the tests above configure it)
const run = (lane, inputs, ticks, state, firstTick) => {
  const events = [];
  let last;
  for (const r of phys.simulate(lane, inputs, ticks, state, firstTick)) {
    for (const [kind, platform] of r.events) events.push([r.tick, kind, platform]);
    last = { tick: r.tick, ...r.state };
  }
  return [events, last];
};
const airborne = (lane, x, y) => ({ ...phys.startState(lane), x, y, grounded: false, platform: -1 });
const STILL = { vx: 0, vy: 0, grounded: true, coyote: 0, jump_buffer: 0, left: false, right: false, jump: false, status: "running" };

test("support: the platform stood on is kept while the centre is over a gap", () => {
  const lane = phys.makeLane({ platforms: [[0, 16 * S, 0], [16 * S + 512, 24 * S, 2048], [24 * S, 40 * S, 0]], goal: 2, start_x: 14 * S, tempo: 120 });
  assert.deepStrictEqual(run(lane, [[0, "right", true]], 12), [[[8, "walk", 1]],
    { tick: 11, ...STILL, x: 69632, y: 2048, vx: 1024, platform: 1, right: true }]);
});

test("support: else the highest top, the lower index between equals", () => {
  const lane = phys.makeLane({ platforms: [[0, 16 * S, 1024], [16 * S + 1024, 20 * S, 0], [20 * S, 20 * S + 1536, 2048], [20 * S + 3072, 30 * S, 2048], [30 * S, 40 * S, 0]], goal: 4, start_x: 2 * S, tempo: 120 });
  const state = { ...phys.startState(lane), x: 20 * S + 2304, y: 1024 };
  assert.deepStrictEqual(lane.underFeet(state.x), [2, 3]);
  assert.deepStrictEqual(run(lane, [], 1, state), [[[0, "walk", 2]], { tick: 0, ...STILL, x: 84224, y: 2048, platform: 2 }]);
});

test("landing: the equal top under the centre wins, else the leftmost (the centre is pulled onto it)", () => {
  const spans = [[0, 16 * S, 4096], [16 * S, 24 * S, 0], [24 * S, 32 * S, 0], [32 * S, 40 * S, 0]];
  const lane = phys.makeLane({ platforms: spans, goal: 3, start_x: 2 * S, tempo: 120 });
  for (const [x, p] of [[24 * S - 512, 1], [24 * S + 512, 2], [24 * S, 2]]) {
    assert.deepStrictEqual(run(lane, [], 8, airborne(lane, x, 2048), 50), [[[52, "land", p]], { tick: 57, ...STILL, x, y: 0, platform: p }]);
  }
  const gapped = phys.makeLane({ platforms: [spans[0], [16 * S, 24 * S - 256, 0], [24 * S + 256, 32 * S, 0], spans[3]], goal: 3, start_x: 2 * S, tempo: 120 });
  assert.deepStrictEqual(run(gapped, [], 8, airborne(gapped, 24 * S, 2048), 50), [[[52, "land", 1]], { tick: 57, ...STILL, x: 24 * S - 257, y: 0, platform: 1 }]);
});

test("a judgement's delta_ms rounds like Python's round(): halves to even", () => {
  const lane = phys.makeLane({ platforms: [[0, 1024, 0], [1024, 8192, 0]], goal: 1, start_x: 0, tempo: 100 });
  for (const [off, tick, exact, rounded] of [[0, 3, 12.5, 12], [0, 12, 162.5, 162], [25, 3, -12.5, -12], [25, 12, 137.5, 138], [-25, 3, 37.5, 38], [-25, 12, 187.5, 188]]) {
    assert.equal(phys.deltaMs(lane, 1, tick, off), exact);
    assert.equal(new phys.LaneJudge(lane, off).judge(1, tick).delta_ms, rounded);
  }
});
