// The page: lobby (name, games, co-op rooms, ladder progress, leaderboard, latency calibration),
// and the hand-over to the Sort and Run views. Every server refusal is shown to the player.
import * as audio from "./audio.js";
import { Net } from "./net.js";
import { drawRoll } from "./pianoroll.js";
import { RunView } from "./run.js";
import { SortView } from "./sort.js";

const $ = (id) => document.getElementById(id);
const LEVELS = { "sort:slices": 5, "sort:morph": 6, "run:run": 5 };
const RUN_LEVELS = ["8 bars, melody", "8 bars, melody + chords", "16 bars, melody + chords", "8 bars, faster", "16 bars, faster and denser"];

const net = new Net();
const app = { net, room: null, round: null, seq: 0, offset: Number(localStorage.getItem("melody-arcade.offset") || 0) };
window.arcade = app; // for the browser tests and for curious players
const sortView = new SortView(app);
const runView = new RunView(app);

/** Send a move-like event with the seat's next sequence number; refusals are shown. */
app.send = async (event, payload) => {
  const reply = await net.call(event, { ...payload, seq: app.seq + 1 });
  if (reply.ok) app.seq += 1;
  else if (reply.error.code === "old_seq" || reply.error.code === "duplicate_input") app.seq += 1;
  if (!reply.ok) notify(reply.error);
  return reply;
};

async function call(event, payload) {
  const reply = await net.call(event, payload);
  if (!reply.ok) notify(reply.error);
  return reply;
}

function notify(error, info = false) {
  const box = $("notice");
  box.textContent = info ? error : `${error.message} (${error.code})`;
  box.className = info ? "info" : "";
  box.dataset.code = info ? "" : error.code;
  box.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => (box.hidden = true), 5000);
}

function show(view) {
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== view;
  if (view !== "run") runView.exit();
}

// --- connection --------------------------------------------------------------------------------

net.addEventListener("status", (e) => {
  const el = $("status");
  el.dataset.state = e.detail;
  el.textContent = { connected: "connected", reconnecting: "connection lost: reconnecting…", offline: "offline", connecting: "connecting…" }[e.detail];
});
net.addEventListener("refused", (e) => notify(e.detail));
net.addEventListener("welcome", (e) => {
  const reply = e.detail;
  $("who").textContent = net.name;
  if (app.offset) net.call("calibrate", { offset_ms: app.offset });
  if (reply.room) {
    app.seq = reply.last_seq;
    setRoom(reply.room);
    if (reply.round && !reply.round.result) enterRound(reply.round, true); // back after a drop: resync
  } else if (app.room) {
    setRoom(null);
    show("lobby");
  }
  const join = new URLSearchParams(location.search).get("join");
  if (join && !reply.room) {
    history.replaceState(null, "", "/");
    joinRoom(join);
  }
});

for (const event of ["room", "round_started", "board", "run_inputs", "run_judgements", "round_ended", "partner_away", "partner_back", "partner_gone"]) {
  net.addEventListener(event, (e) => handlers[event](e.detail));
}
const handlers = {
  room: (room) => setRoom(room),
  round_started: (round) => enterRound(round),
  board: (data) => sortView.onBoard(data),
  run_inputs: (data) => runView.onPartnerInputs(data),
  run_judgements: (data) => runView.onJudgements(data),
  round_ended: (result) => showResult(result),
  partner_away: (d) => notify(`Your partner's connection dropped; waiting ${d.grace_seconds} s for them…`, true),
  partner_back: () => notify("Your partner is back.", true),
  partner_gone: () => notify("Your partner did not come back: play on alone.", true),
};

// --- lobby -------------------------------------------------------------------------------------

function fillLevels() {
  const ladder = $("sort-ladder").value;
  $("sort-level").replaceChildren(...[...Array(LEVELS[`sort:${ladder}`]).keys()].map((i) => new Option(`Level ${i + 1}`, i)));
  $("run-level").replaceChildren(...RUN_LEVELS.map((name, i) => new Option(`Level ${i + 1}: ${name}`, i)));
  const boards = [];
  for (const [key, n] of Object.entries(LEVELS)) {
    const [game, ladder2] = key.split(":");
    for (let i = 0; i < n; i++) {
      boards.push(new Option(`${game} ${ladder2} ${i + 1}`, `${game}|${ladder2}-${i}`));
      if (game === "run" && i > 0) boards.push(new Option(`run ${i + 1} (two avatars)`, `run|run-${i}-duo`));
    }
  }
  $("board-level").replaceChildren(...boards);
  showProgress();
}

function needName() {
  if (net.state === "connected") return false;
  notify({ code: "no_name", message: "Enter your name first" });
  $("name").focus();
  return true;
}

async function play(game, mode) {
  if (needName()) return;
  await audio.unlock();
  const ladder = game === "sort" ? $("sort-ladder").value : "run";
  const level = Number($(game === "sort" ? "sort-level" : "run-level").value);
  const created = await call("create_room", { game, mode, ladder, level });
  if (!created.ok) return;
  app.seq = 0;
  setRoom(created.room);
  if (mode === "solo") startRound(level);
}

async function startRound(level = null) {
  await audio.unlock();
  const args = level === null ? {} : { level };
  if (app.room.game === "run" && app.room.mode === "solo" && $("run-both").checked) args.lanes = "both";
  const reply = await call("start_round", args);
  if (reply.ok) enterRound(reply.round);
}

async function joinRoom(code) {
  const reply = await call("join_room", { code });
  if (!reply.ok) return;
  app.seq = 0;
  setRoom(reply.room);
  if (reply.round && !reply.round.result) enterRound(reply.round);
}

function setRoom(room) {
  app.room = room;
  $("room-panel").hidden = !room;
  if (!room) return;
  $("room-code").textContent = room.code;
  $("room-game").textContent = `${room.game} · ${room.mode} · level ${room.level + 1}`;
  const link = `${location.origin}/?join=${room.code}`;
  $("room-link").href = link;
  $("room-link").textContent = link;
  $("room-seats").replaceChildren(...room.seats.map((s) => Object.assign(document.createElement("li"), { textContent: s.name + (s.away ? " (away)" : "") + (s.player_id === room.host ? " · host" : "") })));
  $("start-round").disabled = room.host !== net.playerId || room.seats.length < (room.mode === "coop" ? 2 : 1);
}

function enterRound(round, again = false) {
  if (!again && app.round && app.round.round_id === round.round_id) return; // the reply and the push
  app.round = round;
  if (round.game === "run") {
    show("run");
    runView.enter(round);
  } else {
    show("sort");
    sortView.enter(round);
  }
}

// --- results, progress, leaderboard ------------------------------------------------------------

function showResult(result) {
  if (!app.round || result.round_id !== app.round.round_id) return;
  app.round.result = result;
  const run = app.round.game === "run";
  $("result-score").textContent = result.score;
  const details = $("result-details");
  const answer = $("result-answer");
  answer.replaceChildren();
  if (run) {
    const rows = result.lanes.map((l) => `<tr><td>${l.lane}</td><td>${l.status}</td><td>${l.judgements.perfect}</td><td>${l.judgements.great}</td><td>${l.judgements.good}</td><td>${l.judgements.miss}</td><td>${l.max_combo}</td><td>${l.steps}</td><td>${l.note_points + l.distance_points + l.goal_points}</td></tr>`);
    details.innerHTML = `<table><tr><th>lane</th><th>end</th><th>perfect</th><th>great</th><th>good</th><th>miss</th><th>best combo</th><th>steps</th><th>points</th></tr>${rows.join("")}</table>` + (result.sync_ticks ? `<p>In sync for ${result.sync_ticks} ticks: +${result.sync_points}</p>` : "");
    record("run:run", app.room.level, result.lanes.every((l) => l.status === "goal"));
  } else {
    const d = result.details;
    details.innerHTML = `<p>order ${Math.round(d.order * 100)} % (${d.correct_slots} of ${d.free_slots} slots right) · ${d.listens} listens ×${d.factors.listens} · ${Math.round(d.seconds)} s ×${d.factors.time}</p><p>The right order:</p>`;
    for (const id of result.answer) {
      const card = document.createElement("div");
      card.className = "clip";
      const piece = sortView.pieces[id];
      if (piece) {
        const canvas = document.createElement("canvas");
        drawRoll(canvas, piece);
        card.append(canvas);
      }
      answer.append(card);
    }
    record(`sort:${app.room.ladder}`, app.room.level, result.score >= 600);
  }
  show("result");
  loadLeaderboard();
}

function playResult() {
  const round = app.round;
  if (!round) return;
  if (round.game === "run") audio.play(round.run.piece);
  else audio.play(round.result.answer.map((id) => sortView.pieces[id]).filter(Boolean));
}

function record(ladder, level, cleared) {
  const progress = JSON.parse(localStorage.getItem("melody-arcade.progress") || "{}");
  if (cleared) progress[ladder] = Math.max(progress[ladder] ?? -1, level);
  localStorage.setItem("melody-arcade.progress", JSON.stringify(progress));
  showProgress();
}

function showProgress() {
  const progress = JSON.parse(localStorage.getItem("melody-arcade.progress") || "{}");
  $("progress").replaceChildren(
    ...Object.entries(LEVELS).map(([ladder, n]) => {
      const done = (progress[ladder] ?? -1) + 1;
      return Object.assign(document.createElement("li"), { textContent: `${ladder.replace(":", " ")}: ${"★".repeat(done)}${"☆".repeat(n - done)}` });
    }),
  );
}

async function loadLeaderboard() {
  const [game, level] = $("board-level").value.split("|");
  try {
    const response = await fetch(`/api/leaderboard?game=${game}&level=${encodeURIComponent(level)}&limit=10`);
    const body = await response.json();
    $("leaderboard").replaceChildren(...body.results.map((r) => Object.assign(document.createElement("li"), { textContent: `${r.score} · ${r.names}` })));
    if (!body.results.length) $("leaderboard").replaceChildren(Object.assign(document.createElement("li"), { textContent: "no results yet" }));
  } catch {
    $("leaderboard").replaceChildren(Object.assign(document.createElement("li"), { textContent: "leaderboard unavailable" }));
  }
}

// --- latency calibration: tap along to 8 clicks --------------------------------------------------

async function calibrate() {
  await audio.unlock();
  const playback = new audio.Playback();
  const start = audio.now() + 0.8, beat = 0.5;
  const clicks = [...Array(8).keys()].map((i) => start + i * beat);
  clicks.forEach((t, i) => playback.tick(t, i % 4 === 0));
  const taps = [];
  $("calibration").hidden = false;
  const onKey = (e) => {
    if (e.key !== " ") return;
    e.preventDefault();
    taps.push(audio.now());
    $("taps").textContent = "●".repeat(taps.length);
  };
  addEventListener("keydown", onKey);
  setTimeout(async () => {
    removeEventListener("keydown", onKey);
    playback.stop();
    $("calibration").hidden = true;
    $("taps").textContent = "";
    const offsets = taps.map((t) => 1000 * (t - clicks.reduce((a, c) => (Math.abs(c - t) < Math.abs(a - t) ? c : a)))).sort((a, b) => a - b);
    if (offsets.length < 4) return notify({ code: "too_few_taps", message: "Too few taps to calibrate: try again" });
    const offset = Math.max(-250, Math.min(250, Math.round(offsets[offsets.length >> 1])));
    const reply = await call("calibrate", { offset_ms: offset });
    if (reply.ok) {
      app.offset = offset;
      localStorage.setItem("melody-arcade.offset", String(offset));
      $("offset").textContent = offset;
    }
  }, (start - audio.now() + 8 * beat + 0.4) * 1000);
}

// --- wiring --------------------------------------------------------------------------------------

$("name-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("name").value.trim();
  if (!name) return;
  localStorage.setItem("melody-arcade.name", name);
  await audio.unlock();
  net.start(name);
});
$("sort-ladder").addEventListener("change", fillLevels);
$("sort-solo").addEventListener("click", () => play("sort", "solo"));
$("sort-coop").addEventListener("click", () => play("sort", "coop"));
$("run-solo").addEventListener("click", () => play("run", "solo"));
$("run-coop").addEventListener("click", () => play("run", "coop"));
$("join-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!needName()) joinRoom($("join-code").value.trim());
});
$("start-round").addEventListener("click", () => startRound());
$("leave-room").addEventListener("click", async () => {
  await call("leave_room", {});
  setRoom(null);
});
$("board-level").addEventListener("change", loadLeaderboard);
$("calibrate").addEventListener("click", calibrate);
$("result-play").addEventListener("click", playResult);
$("result-again").addEventListener("click", () => startRound(app.room.level));
$("result-next").addEventListener("click", () => startRound(Math.min(app.room.level + 1, LEVELS[`${app.room.game}:${app.room.ladder}`] - 1)));
$("result-lobby").addEventListener("click", () => {
  audio.stopAll();
  show("lobby");
});

fillLevels();
loadLeaderboard();
$("offset").textContent = app.offset;
const saved = localStorage.getItem("melody-arcade.name");
if (saved) {
  $("name").value = saved;
  net.start(saved);
}
