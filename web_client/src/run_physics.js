// Run physics and judging: a port of game_server/games/run/physics.py and the judging of
// game_server/games/run/rules.py, specified in docs/run-physics.md ("run-physics/2").
// The server and the browser must agree to the bit, so everything is an integer and the
// order of operations (and every tie-break) is the Python one. No dependencies, no DOM.
// tests: web_client/test/run_physics.test.mjs against tests/vectors/run_physics.json.

// --- Numbers (spec: "Numbers") -------------------------------------------------------------
// None is written here: `configure(rules)` sets them all, from the server's own (Run's `rules`
// in /api/games; `constants` in the vectors), before any Run is played. Until then a level
// cannot be made (makeLane throws).

export let TICKS_PER_SECOND;
export let STEP; // x units per 16th-note step
export let SEMITONE; // y units per semitone
export let RUN_SPEED; // x units per tick while left or right is held
export let JUMP_SPEED; // vy given by a jump
export let GRAVITY; // taken from vy on every airborne tick
export let MAX_FALL; // vy never goes below -MAX_FALL
export let STAIR; // walking carries the feet at most this far up or down
export let FOOT; // half-width of the feet
export let LANDING_FOOT; // half-width of the feet coming down: they catch a ledge they are a little past
export let LEDGE; // coming down, the feet catch a top this far above them
export let JUMP_BUFFER; // ticks a jump press is remembered
export let COYOTE; // ticks after walking off an edge in which a jump still works
export let KILL_Y; // below this the avatar has fallen
export let BEHIND; // this far left of the playhead: scrolled off
export let AHEAD; // and never further right of it than this
// Judging (spec: "Judging"), as game_server/games/run/rules.py decides it
export let GRADES; // [[name, ±ms, points], ...], best first
export let MISS_WINDOW_MS;
export let COMBO_STEP;
export let COMBO_CAP;
export let DISTANCE_POINTS; // per step of the music covered by the notes arrived on
export let GOAL_POINTS;
export let SYNC_POINTS; // per tick both avatars are in the band, each on a combo
export let SYNC_BAND;
export let LANE_NAMES; // lane index -> its name
export let FUTURE_TOLERANCE; // ticks an input may be ahead of the server's clock
export let LATE_TOLERANCE; // ticks behind the server's clock after which the server advances without the input

/** The names `configure` sets: every one of them, no other. */
export const RULES = Object.freeze([
  "TICKS_PER_SECOND", "STEP", "SEMITONE", "RUN_SPEED", "JUMP_SPEED", "GRAVITY", "MAX_FALL", "STAIR", "FOOT", "LANDING_FOOT",
  "LEDGE", "JUMP_BUFFER", "COYOTE", "KILL_Y", "BEHIND", "AHEAD", "GRADES", "MISS_WINDOW_MS", "COMBO_STEP", "COMBO_CAP",
  "DISTANCE_POINTS", "GOAL_POINTS", "SYNC_POINTS", "SYNC_BAND", "LANE_NAMES", "FUTURE_TOLERANCE", "LATE_TOLERANCE",
]);
let configured = false;

/** Set every number from the server's rules ({NAME: value} for each of RULES, as
 * game_server.games.run.client_rules() writes them). A name missing, unknown or of the wrong kind
 * throws: the page and the server would not agree. Calling it again replaces them all. */
export function configure(rules) {
  const names = Object.keys(rules ?? {});
  const missing = RULES.filter((n) => !names.includes(n));
  const unknown = names.filter((n) => !RULES.includes(n));
  if (missing.length || unknown.length) throw new TypeError(`run rules: ${missing.length ? "missing " + missing.join(", ") : ""}${missing.length && unknown.length ? "; " : ""}${unknown.length ? "unknown " + unknown.join(", ") : ""}`);
  for (const n of RULES) {
    const ok = n === "GRADES" ? Array.isArray(rules[n]) && rules[n].every((g) => Array.isArray(g) && g.length === 3 && typeof g[0] === "string" && g.slice(1).every(Number.isInteger))
      : n === "LANE_NAMES" ? Array.isArray(rules[n]) && rules[n].every((l) => typeof l === "string")
      : Number.isInteger(rules[n]);
    if (!ok) throw new TypeError(`run rules: ${n} is ${JSON.stringify(rules[n])}`);
  }
  ({ TICKS_PER_SECOND, STEP, SEMITONE, RUN_SPEED, JUMP_SPEED, GRAVITY, MAX_FALL, STAIR, FOOT, LANDING_FOOT, LEDGE, JUMP_BUFFER, COYOTE, KILL_Y, BEHIND, AHEAD } = rules);
  ({ MISS_WINDOW_MS, COMBO_STEP, COMBO_CAP, DISTANCE_POINTS, GOAL_POINTS, SYNC_POINTS, SYNC_BAND, FUTURE_TOLERANCE, LATE_TOLERANCE } = rules);
  GRADES = Object.freeze(rules.GRADES.map((g) => Object.freeze([...g])));
  LANE_NAMES = Object.freeze([...rules.LANE_NAMES]);
  configured = true;
}

function mustBeConfigured() {
  if (!configured) throw new Error("run_physics: configure(rules) first (Run's rules from /api/games, or the vectors' constants)");
}

export const KEYS = Object.freeze(["left", "right", "jump"]);
export const RUNNING = "running";
export const GOAL = "goal";
export const FELL = "fell";
export const SCROLLED = "scrolled";

// Python's a // b for b > 0, exact while |a| < 2**53.
function floorDiv(a, b) {
  const r = ((a % b) + b) % b;
  return (a - r) / b;
}

// Python's bisect.bisect_right on a sorted array of numbers.
function bisectRight(arr, v) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v < arr[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// --- The level (spec: "The level") ---------------------------------------------------------

class Lane {
  constructor({ platforms, goal, start_x, tempo }) {
    mustBeConfigured();
    // platforms as [x0, x1, top] or {x0, x1, top}, sorted by x, never overlapping
    this.platforms = Object.freeze(
      platforms.map((p) => Object.freeze(Array.isArray(p) ? { x0: p[0], x1: p[1], top: p[2] } : { x0: p.x0, x1: p.x1, top: p.top })),
    );
    for (let i = 1; i < this.platforms.length; i++) {
      const a = this.platforms[i - 1];
      const b = this.platforms[i];
      if (!(a.x0 < a.x1 && a.x1 <= b.x0 && b.x0 < b.x1)) {
        throw new RangeError(`platforms must be sorted and must not overlap: platform ${i - 1} then ${i}`);
      }
    }
    this.goal = goal;
    this.start_x = start_x;
    this.tempo = tempo;
    this.starts = this.platforms.map((p) => p.x0);
    Object.freeze(this);
  }

  // Playhead: P(t) = floor(t × tempo × STEP / 900), 900 = 60 × 60 / 4.
  playhead(tick) {
    return floorDiv(tick * this.tempo * STEP, (TICKS_PER_SECOND * 60) / 4);
  }

  // Indices of the platforms the feet [x - foot, x + foot) overlap, left to right.
  underFeet(x, foot = FOOT) {
    let i = Math.max(0, bisectRight(this.starts, x - foot) - 1);
    const found = [];
    while (i < this.platforms.length && this.platforms[i].x0 < x + foot) {
      if (this.platforms[i].x1 > x - foot) found.push(i);
      i++;
    }
    return found;
  }
}

export function makeLane(spec) {
  return new Lane(spec);
}

// --- State (spec: "State"): the same fields, names and values as Python's State -----------

export function startState(lane) {
  return {
    x: lane.start_x,
    y: lane.platforms[0].top,
    vx: 0,
    vy: 0,
    grounded: true,
    platform: 0,
    coyote: 0,
    jump_buffer: 0,
    left: false,
    right: false,
    jump: false,
    status: RUNNING,
  };
}

export function copyState(s) {
  return { ...s };
}

// Inputs (spec: "Inputs"): a key press or release stamped with the tick about to be stepped.
export function press(state, key, down) {
  if (!KEYS.includes(key)) throw new TypeError(`unknown key ${key}`);
  if (state.status !== RUNNING) return;
  if (key === "jump" && down && !state.jump) state.jump_buffer = JUMP_BUFFER;
  state[key] = down;
}

// --- One tick (spec: "One tick t") ---------------------------------------------------------

// Advance `s` one tick in place; returns the tick's events as [kind, platform or -1].
export function step(lane, s, tick) {
  if (s.status !== RUNNING) return [];
  const events = [];
  // 1. Jump
  if (s.jump_buffer > 0 && (s.grounded || s.coyote > 0)) {
    s.vy = JUMP_SPEED;
    s.grounded = false;
    s.platform = -1;
    s.coyote = 0;
    s.jump_buffer = 0;
    events.push(["jump", -1]);
  }
  // 2. Across
  s.vx = ((s.right ? 1 : 0) - (s.left ? 1 : 0)) * RUN_SPEED;
  s.x = across(lane, s.x, Math.min(s.x + s.vx, lane.playhead(tick) + AHEAD), s.y + (s.grounded ? STAIR : LEDGE));
  // 3. Up and down
  if (s.grounded) {
    const p = support(lane, s);
    if (p < 0) {
      s.grounded = false;
      s.platform = -1;
      s.coyote = COYOTE;
      events.push(["leave", -1]);
    } else {
      s.y = lane.platforms[p].top;
      if (p !== s.platform) {
        s.platform = p;
        events.push(["walk", p]);
      }
    }
  } else {
    s.vy = Math.max(s.vy - GRAVITY, -MAX_FALL);
    const y0 = s.y;
    const y1 = s.y + s.vy;
    const p = s.vy <= 0 ? landing(lane, s.x, y0, y1) : -1;
    if (p >= 0) {
      const platform = lane.platforms[p];
      s.x = Math.min(Math.max(s.x, platform.x0), platform.x1 - 1);
      s.y = platform.top;
      s.vy = 0;
      s.grounded = true;
      s.platform = p;
      events.push(["land", p]);
    } else {
      s.y = y1;
      if (s.coyote > 0) s.coyote -= 1;
    }
  }
  // 4. Buffer
  if (s.jump_buffer > 0) s.jump_buffer -= 1;
  // 5. Status
  if (s.platform === lane.goal) s.status = GOAL;
  else if (s.y < KILL_Y) s.status = FELL;
  else if (s.x < lane.playhead(tick) - BEHIND) s.status = SCROLLED;
  if (s.status !== RUNNING) events.push([s.status, s.platform]);
  return events;
}

// The platform carrying grounded feet, or -1: the candidate under the centre; else the one
// stood on, if a candidate at exactly y; else the highest top (lower index between equals).
function support(lane, s) {
  const candidates = lane.underFeet(s.x).filter((i) => Math.abs(lane.platforms[i].top - s.y) <= STAIR);
  for (const i of candidates) {
    if (lane.platforms[i].x0 <= s.x && s.x < lane.platforms[i].x1) return i;
  }
  if (candidates.includes(s.platform) && lane.platforms[s.platform].top === s.y) return s.platform;
  let best = -1;
  for (const i of candidates) {
    if (best < 0 || lane.platforms[i].top > lane.platforms[best].top) best = i; // left to right: ties keep the lower index
  }
  return best;
}

// The platform the feet come down on, falling from y0 to y1, or -1: of those under the landing
// feet whose top is between y1 and LEDGE above y0, the highest; between equals, the one under
// the centre, else the leftmost.
function landing(lane, x, y0, y1) {
  let best = -1;
  for (const i of lane.underFeet(x, LANDING_FOOT)) {
    const p = lane.platforms[i];
    if (y1 <= p.top && p.top <= y0 + LEDGE) {
      if (best < 0 || p.top > lane.platforms[best].top || (p.top === lane.platforms[best].top && p.x0 <= x && x < p.x1)) best = i;
    }
  }
  return best;
}

// Where the centre gets moving from x0 to x1: the feet stop at the side of the first platform
// in the way whose top is above `reach` (a wall: the notes are columns).
function across(lane, x0, x1, reach) {
  const ps = lane.platforms;
  if (x1 > x0) {
    for (let i = bisectRight(lane.starts, x0 + FOOT - 1); i < ps.length && ps[i].x0 < x1 + FOOT; i++) {
      if (ps[i].top > reach) return ps[i].x0 - FOOT;
    }
  } else if (x1 < x0) {
    for (let i = bisectRight(lane.starts, x0 - FOOT) - 1; i >= 0 && ps[i].x1 > x1 - FOOT; i--) {
      if (ps[i].x1 <= x0 - FOOT && ps[i].top > reach) return ps[i].x1 + FOOT;
    }
  }
  return x1;
}

// Run `ticks` steps from `firstTick`, applying [tick, key, down] inputs (stably sorted by tick,
// applied in order before their tick is stepped). A generator: yields {tick, state, events}
// after every step, where `state` is a copy (safe to keep) and events are [kind, platform].
// `state` (copied, not changed) defaults to startState(lane). Like Python's simulate.
export function* simulate(lane, inputs, ticks, state = null, firstTick = 0) {
  const s = state ? copyState(state) : startState(lane);
  const pending = [...inputs].sort((a, b) => a[0] - b[0]);
  let k = 0;
  for (let tick = firstTick; tick < firstTick + ticks; tick++) {
    while (k < pending.length && pending[k][0] === tick) {
      press(s, pending[k][1], pending[k][2]);
      k++;
    }
    const events = step(lane, s, tick);
    yield { tick, state: copyState(s), events };
  }
}

// --- Judging (spec: "Judging"), as game_server/games/run/rules.py decides it -----------------------

// Its numbers (GRADES to LANE_NAMES) are with the others, above: set by configure.

// -1 before the window, 0 inside, +1 after: Δ = D×50 − off×scale against ±window×scale.
// Integers below 2**53 for any real round (D×50 stays near tick × tempo × STEP × 50).
export function within(lane, platform, tick, offsetMs, windowMs) {
  const scale = 3 * lane.tempo * STEP;
  const d = (tick * lane.tempo * STEP - lane.platforms[platform].x0 * 900) * 50 - offsetMs * scale;
  if (d < -windowMs * scale) return -1;
  return d > windowMs * scale ? 1 : 0;
}

// Arrival minus onset minus offset, in ms, as a float (for people; judging uses `within`).
// Both divisions are correctly rounded doubles, as in Python.
export function deltaMs(lane, platform, tick, offsetMs) {
  return ((tick * lane.tempo * STEP - lane.platforms[platform].x0 * 900) * 50) / (3 * lane.tempo * STEP) - offsetMs;
}

// Python's round(float) -> int: halves go to the even neighbour (never -0).
function roundHalfEven(v) {
  const f = Math.floor(v);
  const diff = v - f;
  const r = diff < 0.5 ? f : diff > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r + 0;
}

// One avatar's run as the server judges it (run.py LaneRun, without input checking): its
// state, arrivals judged once, misses through the expiry pointer, combo, points, the furthest
// platform arrived on, the ticks it was in sync, and the summary.
// Judgements are {lane, platform, tick, grade, delta_ms, points, combo} as Judgement.public().
export class LaneJudge {
  constructor(lane, offsetMs = 0, index = 0) {
    this.index = index;
    this.lane = lane;
    this.offsetMs = offsetMs;
    this.state = startState(lane);
    this.nextTick = 0; // the next tick to step
    this.judged = new Map(); // platform -> judgement
    this.expiry = 1; // platforms before this one are judged or missed
    this.combo = 0;
    this.maxCombo = 0;
    this.points = 0;
    this.furthest = 0; // the furthest platform arrived on (0: none past the count-in)
    this.inSync = []; // per tick: running within SYNC_BAND of the playhead, on a combo
    this.log = []; // every applied input
  }

  get running() {
    return this.state.status === RUNNING;
  }

  // Step every tick before `tick` with the keys as they are; returns the new judgements.
  advanceTo(tick) {
    const out = [];
    while (this.nextTick < tick && this.running) {
      const t = this.nextTick;
      for (const [kind, platform] of step(this.lane, this.state, t)) {
        if ((kind === "walk" || kind === "land") && platform > 0) {
          this.furthest = Math.max(this.furthest, platform);
          if (!this.judged.has(platform)) out.push(this.judge(platform, t));
        }
      }
      out.push(...this.expire(t));
      this.inSync.push(this.running && this.combo > 0 && Math.abs(this.state.x - this.lane.playhead(t)) <= SYNC_BAND);
      this.nextTick++;
    }
    if (!this.running) out.push(...this.expire(null));
    return out;
  }

  // Inputs [tick, key, down] (as the server accepted them): step up to each one's tick, then press.
  apply(inputs) {
    const out = [];
    for (const [tick, key, down] of inputs) {
      out.push(...this.advanceTo(tick));
      press(this.state, key, down);
      this.log.push([tick, key, down]);
    }
    return out;
  }

  // Step until the run ends (RunRound.run_out for this lane).
  runOut() {
    const out = [];
    while (this.running) out.push(...this.advanceTo(this.nextTick + 600));
    return out;
  }

  judge(platform, tick) {
    let grade = "miss";
    let points = 0;
    for (const [name, window, base] of GRADES) {
      if (within(this.lane, platform, tick, this.offsetMs, window) === 0) {
        grade = name;
        points = Math.floor((base * (10 + Math.floor(Math.min(this.combo, COMBO_CAP) / COMBO_STEP))) / 10); // all non-negative
        break;
      }
    }
    this.combo = points ? this.combo + 1 : 0;
    this.maxCombo = Math.max(this.maxCombo, this.combo);
    this.points += points;
    const delta_ms = roundHalfEven(deltaMs(this.lane, platform, tick, this.offsetMs));
    const j = { lane: this.index, platform, tick, grade, delta_ms, points, combo: this.combo };
    this.judged.set(platform, j);
    return j;
  }

  // Misses for platforms whose window has closed at `tick` (all remaining when tick is null).
  expire(tick) {
    const out = [];
    const n = this.lane.platforms.length;
    while (this.expiry < n && (tick === null || within(this.lane, this.expiry, tick, this.offsetMs, MISS_WINDOW_MS) > 0)) {
      if (!this.judged.has(this.expiry)) {
        this.combo = 0;
        const j = { lane: this.index, platform: this.expiry, tick: tick === null ? this.nextTick : tick, grade: "miss", delta_ms: null, points: 0, combo: 0 };
        this.judged.set(this.expiry, j);
        out.push(j);
      }
      this.expiry++;
    }
    return out;
  }

  // LaneRun.summary (spec: "Score", per lane).
  summary() {
    const counts = { perfect: 0, great: 0, good: 0, miss: 0 };
    for (const j of this.judged.values()) counts[j.grade]++;
    const reached = this.state.status === GOAL;
    const ps = this.lane.platforms;
    const steps = this.furthest > 0 ? floorDiv(ps[this.furthest].x1 - ps[0].x1, STEP) : 0;
    return {
      lane: LANE_NAMES[this.index], status: this.state.status, judgements: counts,
      max_combo: this.maxCombo, note_points: this.points, steps,
      distance_points: steps * DISTANCE_POINTS, goal_points: reached ? GOAL_POINTS : 0,
      ended_tick: this.nextTick, inputs: this.log.length,
    };
  }
}

// RunRound.result: the round's score from its LaneJudges (sync points only with two lanes).
export function roundResult(judges) {
  const lanes = judges.map((j) => j.summary());
  let syncTicks = 0;
  if (judges.length === 2) {
    const n = Math.min(...judges.map((j) => j.inSync.length));
    for (let t = 0; t < n; t++) if (judges.every((j) => j.inSync[t])) syncTicks++;
  }
  const score = lanes.reduce((a, x) => a + x.note_points + x.distance_points + x.goal_points, 0) + syncTicks * SYNC_POINTS;
  return { score, lanes, sync_ticks: syncTicks, sync_points: syncTicks * SYNC_POINTS };
}
