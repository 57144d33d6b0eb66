// Run in the page: the level on a canvas that scrolls with the music, the same physics and
// judging as the server (run_physics.js) for the player's own avatar and, from the inputs the
// server relays, the partner's. The page sends only key presses and releases (keys or the touch
// buttons) with the tick of the audio clock. It shows its own judgements at once (the server
// decides up to 0.75 s later, when its clock has passed the tick), and the server's
// (`run_judgements`) replace them as they come. The HUD (score, combo, beat, progress) and the
// judgements as text are DOM beside the canvas; Esc pauses a solo run (the server's clock stops).
// The page module (games/index.js: the interface the shell uses) is at the end: the lobby card
// (and Run's rules from /api/games, which configure run_physics.js), the level's markup, the
// first-play help, the result table.
import * as audio from "../audio.js";
import * as phys from "../run_physics.js";
import { downloadLinks, fromTemplate, levelCard, stylesheet } from "./kit.js";

const KEYSETS = [
  { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "jump", " ": "jump" },
  { a: "left", A: "left", d: "right", D: "right", w: "jump", W: "jump" },
];
const GRADE_COLOURS = { perfect: "#6ee7a8", great: "#6bb8ff", good: "#ffd166", miss: "#ff6b7a" };
const AVATAR_COLOURS = ["#ffb84d", "#5ee0e6"];
const W = 960, H = 540, PLAYHEAD_X = 240, PX_PER_STEP = 20;
const SEND_MARGIN = 10; // ticks: inputs go at most FUTURE_TOLERANCE - this ahead of the server's clock (it refuses more)

export class RunView {
  /** `root`: the level's markup (VIEW below), in the document or not yet. */
  constructor(app, root) {
    this.app = app;
    const $ = (this.$ = (id) => root.querySelector(`#${id}`));
    this.canvas = $("run-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.title = $("run-title");
    this.hud = { score: $("run-score"), combo: $("run-combo"), beat: $("run-beat"), progress: $("run-progress"), state: $("run-state"), judgement: $("run-judgement"), section: $("run-section") };
    this.active = false;
    this.paused = false;
    addEventListener("keydown", (e) => this.#key(e, true));
    addEventListener("keyup", (e) => this.#key(e, false));
    for (const button of root.querySelectorAll("#run-touch button")) this.#touchButton(button);
    $("run-pause").addEventListener("click", () => this.pause(true));
    $("run-resume").addEventListener("click", () => this.pause(false));
    $("run-quit").addEventListener("click", () => this.app.quit());
  }

  enter(round) {
    const r = round.run;
    const same = this.round && this.round.round_id === round.round_id;
    this.round = round;
    this.t0 = audio.now() - r.clock_tick / phys.TICKS_PER_SECOND; // the audio time of tick 0
    if (!same) {
      this.lanes = r.lanes.map((l) => phys.makeLane({ ...l, tempo: r.tempo }));
      audio.prepare(r.piece); // its instruments' samples load during the count-in
      this.mine = r.lanes_of[this.app.net.playerId] || [];
      this.played = [...new Set(Object.values(r.lanes_of).flat())].sort(); // a solo melody round leaves the chord lane out
      this.judged = this.lanes.map(() => new Map()); // platform -> the server's judgement
      this.popups = [];
      this.pending = [];
      this.lastPress = {};
    }
    // Accepted inputs are the truth: own inputs not yet accepted are kept on top of them.
    this.inputs = this.lanes.map((_, i) => (r.inputs[String(i)] || []).map(([tick, key, down]) => [tick, key, down]));
    for (const p of this.pending) this.inputs[p.lane].push([p.tick, p.key, p.down]);
    this.sims = this.lanes.map((_, i) => this.#freshSim(i));
    this.title.textContent = `Run · ${this.app.levelName(round.level)}`;
    this.paused = Boolean(r.paused);
    this.frozenTick = r.clock_tick;
    this.$("run-menu").hidden = !this.paused;
    this.$("run-pause").hidden = this.app.room?.mode === "coop";
    this.$("run-help").hidden = true;
    this.shown = {};
    if (this.paused) this.#silence();
    else this.#music(r);
    this.active = true;
    if (!this.loop) this.loop = requestAnimationFrame(() => this.#frame());
    this.canvas.focus();
  }

  exit() {
    this.active = false;
    this.#silence();
    cancelAnimationFrame(this.loop);
    this.loop = null;
    this.$("run-menu").hidden = true;
    this.$("run-help").hidden = true;
  }

  /** Esc: a solo run stops the server's clock (its reply is the round at the stopped tick) and
   * the music; resuming gets the clock back and starts the music where it stopped. A co-op run
   * cannot stop for one player: the menu only offers to quit. */
  async pause(paused) {
    if (!this.active || !this.round || this.round.result || paused === this.paused) return;
    const coop = this.app.room?.mode === "coop";
    if (coop) {
      this.$("run-menu").hidden = !paused;
      return;
    }
    this.paused = paused;
    if (paused) {
      this.frozenTick = this.tick();
      this.#silence();
      this.$("run-menu").hidden = false;
      this.$("run-resume").focus();
      this.#flush();
    }
    const reply = await this.app.serial(() => this.app.net.call("run_pause", { round_id: this.round.round_id, paused }));
    if (reply.ok) this.enter(reply.round);
    else if (!paused) this.paused = true; // still paused on the server: the menu stays
  }

  #silence() {
    if (this.playback) this.playback.stop();
    this.playback = null;
  }

  onPartnerInputs(data) {
    if (!this.round || data.round_id !== this.round.round_id) return;
    for (const i of data.inputs) if (!this.mine.includes(i.lane)) this.#addInput(i.lane, [i.tick, i.key, i.down]);
  }

  onJudgements(data) {
    if (!this.round || data.round_id !== this.round.round_id) return;
    for (const j of data.judgements) {
      const predicted = this.sims[j.lane].judged.get(j.platform);
      if (!predicted || predicted.grade !== j.grade) {
        this.popups.push({ ...j, born: performance.now() });
        this.#say(j);
      }
      this.judged[j.lane].set(j.platform, j);
    }
  }

  /** A judgement in words, for everyone and for screen readers (the canvas has only colours). */
  #say(j) {
    if (!this.mine.includes(j.lane)) return;
    const when = j.delta_ms === null || j.delta_ms === undefined ? "" : ` (${j.delta_ms > 0 ? "+" : ""}${j.delta_ms} ms)`;
    const lane = this.played.length > 1 ? `${phys.LANE_NAMES[j.lane]} ` : "";
    this.hud.judgement.textContent = `${lane}note ${j.platform}: ${j.grade}${when}`;
  }

  #freshSim(i) {
    const sim = new phys.LaneJudge(this.lanes[i], this.mine.includes(i) ? this.app.offset : 0, i);
    sim.k = 0; // inputs applied so far
    return sim;
  }

  tick() {
    return Math.floor((audio.now() - this.t0) * phys.TICKS_PER_SECOND);
  }

  #music(r) {
    if (this.playback) this.playback.stop();
    this.playback = new audio.Playback();
    const sps = audio.secondsPerStep(r.piece);
    const now = audio.now();
    for (let beat = 0; beat * 4 < r.lead_steps; beat++) {
      const at = this.t0 + beat * 4 * sps;
      if (at > now) this.playback.tick(at, beat === 0);
    }
    const start = this.t0 + r.lead_steps * sps;
    const at = audio.secondsAt(r.piece);
    const ahead = { ...r.piece, melody: r.piece.melody.filter((n) => start + at(n.start) > now), chords: (r.piece.chords || []).filter((c) => start + at(c.start) > now), drums: (r.piece.drums || []).filter((d) => start + at(d.step) > now) };
    this.playback.piece(ahead, start);
  }

  #key(e, down) {
    if (!this.active || e.repeat || this.round.result) return;
    if (e.key === "Escape") {
      if (down) this.pause(!this.paused && this.$("run-menu").hidden);
      return;
    }
    const set = KEYSETS.findIndex((keys) => keys[e.key]);
    if (set < 0) return;
    e.preventDefault();
    this.#input(set, KEYSETS[set][e.key], down);
  }

  /** The on-screen buttons press the first key set's keys, held while the finger is down. */
  #touchButton(button) {
    const key = button.dataset.key;
    const release = (e) => {
      e.preventDefault();
      if (button.classList.contains("held")) this.#input(0, key, false);
      button.classList.remove("held");
    };
    button.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      button.setPointerCapture(e.pointerId);
      button.classList.add("held");
      this.#input(0, key, true);
    });
    button.addEventListener("pointerup", release);
    button.addEventListener("pointercancel", release);
    button.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  #input(set, key, down) {
    if (!this.active || this.paused || !this.round || this.round.result) return;
    const lane = this.mine.length > 1 ? this.mine[set] : this.mine[0];
    if (lane === undefined) return;
    const sim = this.sims[lane];
    const last = this.inputs[lane].at(-1);
    const tick = Math.max(this.tick(), sim.nextTick, last ? last[0] : 0);
    if (tick < 0) return; // the count-in: nothing moves yet
    if (this.#held(lane, key) === down) return; // the other key of the pair already holds it
    if (down && tick - (this.lastPress[`${lane}:${key}`] ?? -99) < 3) return; // faster than the server accepts
    if (down) this.lastPress[`${lane}:${key}`] = tick;
    this.#addInput(lane, [tick, key, down]);
    this.pending.push({ tick, lane, key, down });
  }

  #held(lane, key) {
    let held = false;
    for (const [, k, d] of this.inputs[lane]) if (k === key) held = d;
    return held;
  }

  #addInput(lane, input) {
    const list = this.inputs[lane];
    list.push(input);
    if (input[0] < this.sims[lane].nextTick) this.sims[lane] = this.#freshSim(lane); // replay from the start
  }

  /** Send what was pressed since the last batch, one batch in flight at a time: keys pressed
   * while a batch is on its way wait for its reply and go together in the next one. */
  async #flush() {
    if (!this.pending.length || this.sending) return;
    // a key pressed during the count-in is stamped tick 0: it goes once the server's clock is near
    const due = this.pending.findIndex((p) => p.tick > this.tick() + phys.FUTURE_TOLERANCE - SEND_MARGIN);
    const batch = this.pending.splice(0, Math.min(32, due < 0 ? this.pending.length : due));
    if (!batch.length) return;
    this.sending = true;
    const round = this.round;
    let reply;
    try {
      reply = await this.app.send("run_input", { round_id: round.round_id, inputs: batch });
    } finally {
      this.sending = false;
    }
    if (round !== this.round) return;
    if (!reply.ok && reply.error.code !== "round_over") {
      // refused: the server ignored the batch, so the page forgets it too and replays
      for (const b of batch) {
        const list = this.inputs[b.lane];
        const at = list.findIndex(([t, k, d]) => t === b.tick && k === b.key && d === b.down);
        if (at >= 0) list.splice(at, 1);
        this.sims[b.lane] = this.#freshSim(b.lane);
      }
    }
  }

  #advance(upTo) {
    for (const i of this.played) {
      const sim = this.sims[i];
      const inputs = this.inputs[i];
      let k = sim.k;
      while (k < inputs.length && inputs[k][0] <= upTo) k++;
      const judged = [...sim.apply(inputs.slice(sim.k, k)), ...sim.advanceTo(upTo)];
      sim.k = k;
      const born = performance.now();
      for (const j of judged) {
        if (this.judged[i].has(j.platform)) continue;
        this.popups.push({ ...j, born });
        this.#say(j);
      }
    }
  }

  #frame() {
    if (!this.active) return;
    const now = this.paused ? this.frozenTick : this.tick();
    if (!this.paused) this.#advance(now);
    this.#flush();
    this.#draw(now);
    this.#hud(now);
    this.loop = requestAnimationFrame(() => this.#frame());
  }

  /** Score and combo of the player's own lanes (as predicted here), the beat, the way to the goal. */
  #hud(now) {
    const mine = this.mine.filter((i) => this.played.includes(i)).map((i) => this.sims[i]);
    const score = mine.reduce((sum, sim) => sum + sim.points, 0);
    const combo = Math.min(...mine.map((sim) => sim.combo));
    const progress = Math.min(...mine.map((sim) => {
      const lane = sim.lane;
      const goal = lane.platforms[lane.goal].x0;
      return sim.state.status === phys.GOAL ? 1 : Math.max(0, Math.min(1, (sim.state.x - lane.start_x) / (goal - lane.start_x)));
    }));
    const r = this.round.run;
    // the bar and beat the playhead is in, from the level's bar lines (a story's sections at
    // other tempi are wider or narrower than the first's)
    const stepsPerBar = r.piece.steps_per_bar;
    const x = (now * r.tempo * 4 * phys.STEP) / (60 * phys.TICKS_PER_SECOND);
    const lines = r.bar_x;
    const bar = lines.findLastIndex((lineX) => lineX <= x);
    const beats = Math.max(1, Math.round(stepsPerBar / 4));
    const inBar = bar < 0 || bar >= lines.length - 1 ? -1 : (x - lines[bar]) / (lines[bar + 1] - lines[bar]);
    const beat = inBar < 0 ? -1 : Math.floor((inBar * stepsPerBar) / 4);
    const ended = mine.find((sim) => sim.state.status !== phys.RUNNING);
    const state = this.round.result ? "round over" : this.paused ? "paused" : now < 0 ? "get ready…" : ended ? ended.state.status : "";
    // a story level: the name of the section the playhead is in, said as it arrives
    const sections = r.sections || [];
    const section = sections.reduce((found, s, i) => (s.bar <= bar ? i : found), sections.length ? 0 : -1);
    const shown = { score, combo, beat, progress: Math.round(progress * 1000), state, section };
    const last = this.shown || {};
    if (shown.score !== last.score) this.hud.score.textContent = score;
    if (shown.combo !== last.combo) this.hud.combo.textContent = combo;
    if (shown.beat !== last.beat) this.hud.beat.textContent = [...Array(beats).keys()].map((b) => (b === beat ? "●" : "○")).join(" ");
    if (shown.progress !== last.progress) this.hud.progress.value = shown.progress;
    if (shown.state !== last.state) this.hud.state.textContent = state;
    if (shown.section !== last.section && section >= 0) {
      this.hud.section.hidden = false;
      this.hud.section.textContent = `${section + 1}/${sections.length}: ${sections[section].name}`;
      this.hud.section.dataset.index = section;
      this.hud.section.classList.remove("arrived");
      void this.hud.section.offsetWidth; // restart the arrival animation
      this.hud.section.classList.add("arrived");
    }
    this.shown = shown;
  }

  #draw(now) {
    const ctx = this.ctx;
    const r = this.round.run;
    ctx.fillStyle = "#0f0d1a";
    ctx.fillRect(0, 0, W, H);
    const seconds = this.paused ? now / phys.TICKS_PER_SECOND : audio.now() - this.t0;
    const exact = (seconds * r.tempo * 4 * phys.STEP) / 60; // the playhead, smooth
    const sx = (x) => PLAYHEAD_X + ((x - exact) / phys.STEP) * PX_PER_STEP;
    const laneH = H / this.played.length;
    this.played.forEach((i, row) => {
      const lane = this.lanes[i];
      const tops = lane.platforms.map((p) => p.top);
      const lo = phys.KILL_Y, hi = Math.max(...tops) + 15 * phys.SEMITONE;
      const sy = (y) => (row + 1) * laneH - 12 - ((y - lo) / (hi - lo)) * (laneH - 24);
      ctx.fillStyle = row % 2 ? "#16132a" : "#1a1730";
      ctx.fillRect(0, row * laneH, W, laneH);
      lane.platforms.forEach((p, k) => {
        const x0 = sx(p.x0), x1 = sx(p.x1);
        if (x1 < 0 || x0 > W) return;
        const j = this.judged[i].get(k) || this.sims[i].judged.get(k);
        ctx.fillStyle = j ? GRADE_COLOURS[j.grade] : k === lane.goal ? "#ffb84d" : k === 0 ? "#4d4780" : "#d8d0ff";
        ctx.fillRect(x0 + 1, sy(p.top), Math.max(2, x1 - x0 - 2), 6);
        ctx.globalAlpha = 0.15;
        ctx.fillRect(x0 + 1, sy(p.top) + 6, Math.max(2, x1 - x0 - 2), (row + 1) * laneH - sy(p.top) - 6);
        ctx.globalAlpha = 1;
      });
      const s = this.sims[i].state;
      ctx.fillStyle = AVATAR_COLOURS[i % 2];
      ctx.globalAlpha = s.status === phys.RUNNING || s.status === phys.GOAL ? 1 : 0.35;
      ctx.fillRect(sx(s.x) - 7, sy(s.y) - 18, 14, 18);
      ctx.globalAlpha = 1;
      ctx.fillStyle = "#ece8ff";
      ctx.font = "14px system-ui";
      const who = this.mine.includes(i) ? "you" : "partner";
      const sim = this.sims[i];
      ctx.fillText(`${phys.LANE_NAMES[i]} (${who}) · ${sim.points} · combo ${sim.combo}${s.status !== phys.RUNNING ? " · " + s.status : ""}`, 12, row * laneH + 20);
    });
    ctx.strokeStyle = "rgba(255,184,77,.6)";
    ctx.beginPath();
    ctx.moveTo(PLAYHEAD_X, 0);
    ctx.lineTo(PLAYHEAD_X, H);
    ctx.stroke();
    const t = performance.now();
    this.popups = this.popups.filter((p) => t - p.born < 700);
    for (const p of this.popups) {
      const lane = this.lanes[p.lane];
      ctx.fillStyle = GRADE_COLOURS[p.grade];
      ctx.font = "bold 18px system-ui";
      ctx.fillText(p.grade, sx(lane.platforms[p.platform].x0), this.played.indexOf(p.lane) * laneH + 50 - (t - p.born) / 20);
    }
    if (now < 0) {
      ctx.fillStyle = "#ffb84d";
      ctx.font = "bold 64px system-ui";
      ctx.fillText(String(Math.ceil(-now / phys.TICKS_PER_SECOND)), W / 2 - 20, H / 2);
    }
  }
}

// --- the page module ---------------------------------------------------------------------------

stylesheet(new URL("run.css", import.meta.url));

const RUN_EXPLAINED = "melody-arcade.run-explained";

const VIEW = `
<section id="run">
  <div class="row"><h2 id="run-title">Run</h2><button id="run-pause" class="secondary" type="button" aria-label="Pause">Pause (Esc)</button></div>
  <div class="run-hud" id="run-hud">
    <span>Score <b id="run-score">0</b></span>
    <span>Combo <b id="run-combo">0</b></span>
    <span id="run-beat" aria-hidden="true"></span>
    <progress id="run-progress" max="1000" value="0" aria-label="Progress to the goal"></progress>
    <span id="run-state"></span>
    <span id="run-section" class="run-section" aria-live="polite" hidden></span>
  </div>
  <div class="run-stage">
    <canvas id="run-canvas" width="960" height="540" tabindex="0" role="img" aria-label="The Run level: platforms for the notes, your avatar, the playhead"></canvas>
    <div id="run-help" class="overlay" hidden>
      <h3>How to run</h3>
      <p>Every note is a platform; the music scrolls them past. <b>Keep up with the playhead</b> (the orange line): fall behind it and you are out.</p>
      <p><b>Land on each note as it sounds</b>: the closer to the beat, the more points (perfect, great, good). The last platform is the goal.</p>
      <p>← → run, ↑ or space jumps (A, D, W for the second avatar). On a phone, the buttons below the level. Esc pauses.</p>
      <button id="run-help-start" type="button">Got it: start</button>
    </div>
    <div id="run-menu" class="overlay" hidden role="dialog" aria-label="Paused">
      <h3>Paused</h3>
      <div class="row"><button id="run-resume" type="button">Keep playing</button><button id="run-quit" class="secondary" type="button">Quit this run</button></div>
    </div>
  </div>
  <p id="run-judgement" class="judgement" aria-live="polite"></p>
  <div id="run-touch" class="touch-controls" aria-label="Touch controls">
    <button type="button" data-key="left" aria-label="Run left">◀</button>
    <button type="button" data-key="right" aria-label="Run right">▶</button>
    <button type="button" data-key="jump" aria-label="Jump" class="jump">Jump</button>
  </div>
</section>`;

const LANE_LABEL = { melody: "Melody", chords: "Chords" };
const END_LABEL = { goal: "reached the goal", fell: "fell", scrolled: "fell behind the playhead", running: "running" };

let section = null;
let view = null;
let levels = []; // the ladder's levels, from the catalog
let bothLanes = null; // the lobby's "both lanes" checkbox

const attach = (container) => {
  if (section.parentNode !== container) container.replaceChildren(section);
};

export const runPage = {
  lobbyCard(entry, ctx) {
    phys.configure(entry.rules); // the server's physics and judging numbers, before any Run
    section = fromTemplate(VIEW);
    view = new RunView(ctx, section);
    ctx.runTick = () => view.tick(); // the round clock of the Run being played (for the browser tests)
    levels = entry.ladders[0].levels;
    bothLanes = Object.assign(document.createElement("input"), { type: "checkbox", id: `${entry.game}-both` });
    const label = Object.assign(document.createElement("label"), { className: "check" });
    label.append(bothLanes, " both lanes (chords on A, D, W)");
    const card = levelCard(entry, ctx, {
      about: "The piece is the level: land on each note as it sounds, and keep up with the playhead. ← → move, ↑ or space jumps, Esc pauses.",
      levelLabel: (l) => l.name + (l.coop ? "" : " (solo only)"),
      levelHint: (l) => `What changes: ${l.changes}.${l.coop ? "" : " Co-op starts at the first level with a chord lane."}`,
      options: [label],
      play: (mode, choice) => {
        let level = choice.level;
        if (mode === "coop" && !levels[level].coop) {
          // co-op needs a chord lane for the second player: the first level with one
          level = levels.find((l) => l.coop && l.level > level)?.level ?? levels.find((l) => l.coop).level;
          card.setLevel(level);
          ctx.notify(`Co-op Run needs a chord lane for your partner: ${levels[level].name}.`, true);
        }
        return ctx.play(entry.game, mode, { ...choice, level });
      },
    });
    return card.card;
  },

  /** Before a player's first run: how Run is played, until they say they have read it. */
  async beforePlay(container, ctx) {
    if (localStorage.getItem(RUN_EXPLAINED)) return;
    attach(container);
    ctx.show("stage");
    const help = view.$("run-help"), start = view.$("run-help-start");
    help.hidden = false;
    start.focus();
    await new Promise((resolve) => start.addEventListener("click", resolve, { once: true }));
    localStorage.setItem(RUN_EXPLAINED, "1");
    help.hidden = true;
  },

  /** Both lanes for one player: a solo round of a level with a chord lane, when ticked. */
  startOptions(room, level) {
    return room.mode === "solo" && bothLanes.checked && levels[level]?.coop ? { lanes: "both" } : {};
  },

  mount(container, round) {
    attach(container);
    view.enter(round);
  },

  events: ["run_inputs", "run_judgements"],

  apply(event, payload) {
    if (event === "run_inputs") view.onPartnerInputs(payload);
    else if (event === "run_judgements") view.onJudgements(payload);
  },

  result(container, result) {
    const rows = result.lanes.map((l) => `<tr><td>${LANE_LABEL[l.lane] ?? l.lane}</td><td>${END_LABEL[l.status] ?? l.status}</td><td>${l.judgements.perfect}</td><td>${l.judgements.great}</td><td>${l.judgements.good}</td><td>${l.judgements.miss}</td><td>${l.max_combo}</td><td>${l.note_points + l.distance_points + l.goal_points}</td></tr>`);
    container.innerHTML = `<table><tr><th>lane</th><th>end</th><th>perfect</th><th>great</th><th>good</th><th>miss</th><th>best combo</th><th>points</th></tr>${rows.join("")}</table>` + (result.sync_points ? `<p>In sync: +${result.sync_points}</p>` : "");
    container.append(downloadLinks(result.round_id));
    return result.lanes.every((l) => l.status === "goal");
  },

  howToClear: "Reach the goal to clear this level.",

  replay(round) {
    audio.play(round.run.piece);
  },

  /** A leaderboard per level, and one for two avatars on each level with a chord lane. */
  boards(entry, standard) {
    return standard.flatMap((b) => (b.level.coop ? [b, { ...b, id: `${b.id}-duo`, label: `${b.label}, two avatars`, name: `${b.name} (two avatars)` }] : [b]));
  },

  unmount() {
    view?.exit();
    section?.remove();
  },
};
