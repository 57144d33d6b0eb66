// The page: lobby (name, games, co-op rooms, ladder progress, leaderboard, latency calibration),
// and the hand-over to the Sort and Run views. Every server refusal is shown to the player.
import * as audio from "./audio.js";
import { Net } from "./net.js";
import { drawRoll } from "./pianoroll.js";
import { RunView } from "./run.js";
import { SortView } from "./sort.js";

const $ = (id) => document.getElementById(id);
const STATUS_TEXT = {
  idle: "enter a name to connect", connecting: "connecting…", connected: "connected",
  reconnecting: "connection lost: reconnecting…", offline: "offline", taken_over: "this game is open in another tab",
};

const RUN_EXPLAINED = "melody-arcade.run-explained";

const net = new Net();
const app = { net, room: null, round: null, seq: 0, refused: [], offset: Number(localStorage.getItem("melody-arcade.offset") || 0) };
window.arcade = app; // for the browser tests and for curious players
app.runTick = () => runView.tick(); // the round clock of the Run being played
const sortView = new SortView(app);
const runView = new RunView(app);

// The games and their levels, as the server describes them (/api/games).
const catalog = fetch("/api/games").then((r) => r.json()).then((body) => body.games);
let games = [];

/** The ladder's levels ({level, number, name, title, changes, coop?}). */
function levelsOf(game, ladder) {
  return games.find((g) => g.game === game)?.ladders.find((l) => l.ladder === ladder)?.levels ?? [];
}

/** A stored level id ("slices-2", "run-1-duo") as people read it: "Level 3 — 8 clips, 8 bars". */
app.levelName = (id) => {
  const [ladder, rung, duo] = String(id).split("-");
  for (const g of games) {
    const level = levelsOf(g.game, ladder)[Number(rung)];
    if (level) return level.name + (duo ? " (two avatars)" : "");
  }
  return String(id);
};

const rungOf = (round) => Number(String(round.level).split("-")[1]);

/** Run `work` after every move already sent has its reply: the server then sees them in order. */
let inFlight = Promise.resolve();
app.serial = (work) => {
  const done = inFlight.then(work);
  inFlight = done.catch(() => {});
  return done;
};

/** Send a move-like event with the seat's next sequence number; refusals are shown. Moves go
 * out one at a time, each after the last one's reply: a move sent while another is in flight
 * would reuse its number (the server refuses a number twice) or be judged on a board or a lane
 * that the one before it was about to change. */
app.send = (event, payload) =>
  app.serial(async () => {
    const seq = app.seq + 1;
    const reply = await net.call(event, { ...payload, seq });
    if (reply.ok || reply.error.code === "old_seq" || reply.error.code === "duplicate_input") app.seq = Math.max(app.seq, seq);
    if (!reply.ok) {
      app.refused.push({ event, code: reply.error.code });
      notify(reply.error);
    }
    return reply;
  });

/** Esc → "Quit this run": leaving the room ends a solo round on the server (abandoned, no score). */
app.quitRun = async () => {
  await app.serial(() => call("leave_room", {}));
  setRoom(null);
  show("lobby");
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
  notify.timer = setTimeout(() => (box.hidden = true), 6000);
}

function show(view) {
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== view;
  if (view !== "run") runView.exit();
  if (view === "lobby") audio.stopAll();
}

// --- connection --------------------------------------------------------------------------------

net.addEventListener("status", (e) => {
  const el = $("status");
  el.dataset.state = e.detail;
  el.textContent = STATUS_TEXT[e.detail] ?? e.detail;
});
net.addEventListener("refused", (e) => notify(e.detail));
net.addEventListener("taken_over", () => notify("This game is now open in another tab or window: play on there, or reload this page to play here.", true));
net.addEventListener("session_lost", (e) => {
  notify(e.detail?.reason ?? "the server restarted: your round has ended", true);
  setRoom(null);
  show("lobby");
});
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

function option(text, value) {
  return new Option(text, value);
}

function fillLevels() {
  const sortGame = games.find((g) => g.game === "sort");
  const ladderSelect = $("sort-ladder");
  if (!ladderSelect.options.length) ladderSelect.replaceChildren(...sortGame.ladders.map((l) => option(l.name, l.ladder)));
  const keep = (select) => select.value;
  const sortLevel = keep($("sort-level"));
  $("sort-level").replaceChildren(...levelsOf("sort", ladderSelect.value).map((l) => option(l.name, l.level)));
  if (sortLevel && $("sort-level").querySelector(`option[value="${sortLevel}"]`)) $("sort-level").value = sortLevel;
  if (!$("run-level").options.length) $("run-level").replaceChildren(...levelsOf("run", "run").map((l) => option(l.name + (l.coop ? "" : " (solo only)"), l.level)));
  const boards = [];
  for (const g of games) {
    for (const ladder of g.ladders) {
      for (const l of ladder.levels) {
        boards.push(option(`${g.name} ${g.ladders.length > 1 ? ladder.name + " " : ""}level ${l.number}`, `${g.game}|${ladder.ladder}-${l.level}`));
        if (g.game === "run" && l.coop) boards.push(option(`Run level ${l.number}, two avatars`, `run|run-${l.level}-duo`));
      }
    }
  }
  if (!$("board-level").options.length) $("board-level").replaceChildren(...boards);
  describeLevels();
  showProgress();
}

function describeLevels() {
  const sortLevel = levelsOf("sort", $("sort-ladder").value)[Number($("sort-level").value)];
  const runLevel = levelsOf("run", "run")[Number($("run-level").value)];
  $("sort-level-info").textContent = sortLevel ? `What changes: ${sortLevel.changes}.` : "";
  $("run-level-info").textContent = runLevel ? `What changes: ${runLevel.changes}.${runLevel.coop ? "" : " Co-op starts at the first level with a chord lane."}` : "";
}

function needName() {
  if (net.state === "connected") return false;
  notify({ code: "no_name", message: "Enter your name first" });
  $("name").focus();
  return true;
}

/** Before a player's first run: how Run is played, until they say they have read it. */
async function explainRunOnce() {
  if (localStorage.getItem(RUN_EXPLAINED)) return;
  show("run");
  $("run-help").hidden = false;
  $("run-help-start").focus();
  await new Promise((resolve) => $("run-help-start").addEventListener("click", resolve, { once: true }));
  localStorage.setItem(RUN_EXPLAINED, "1");
  $("run-help").hidden = true;
}

async function play(game, mode) {
  if (needName()) return;
  await catalog;
  await audio.unlock();
  if (game === "run") await explainRunOnce();
  const ladder = game === "sort" ? $("sort-ladder").value : "run";
  let level = Number($(game === "sort" ? "sort-level" : "run-level").value);
  if (game === "run" && mode === "coop" && !levelsOf("run", "run")[level].coop) {
    // co-op needs a chord lane for the second player: the first level with one
    level = levelsOf("run", "run").find((l) => l.coop && l.level > level)?.level ?? levelsOf("run", "run").find((l) => l.coop).level;
    $("run-level").value = level;
    notify(`Co-op Run needs a chord lane for your partner: ${levelsOf("run", "run")[level].name}.`, true);
  }
  const created = await call("create_room", { game, mode, ladder, level });
  if (!created.ok) return;
  app.seq = 0;
  setRoom(created.room);
  if (mode === "solo") startRound(level);
}

async function startRound(level = null) {
  await audio.unlock();
  const args = level === null ? {} : { level };
  if (app.room.game === "run" && app.room.mode === "solo" && $("run-both").checked && levelsOf("run", "run")[level ?? app.room.level]?.coop) args.lanes = "both";
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
  $("room-game").textContent = `${room.game === "run" ? "Run" : "Sort"} · ${room.mode === "coop" ? "co-op" : "solo"} · ${app.levelName(`${room.ladder}-${room.level}`)}`;
  $("room-link").value = `${location.origin}/?join=${room.code}`;
  $("room-seats").replaceChildren(...room.seats.map((s) => Object.assign(document.createElement("li"), { textContent: s.name + (s.away ? " (away)" : "") + (s.player_id === room.host ? " · host" : "") })));
  const waiting = room.mode === "coop" && room.seats.length < 2;
  $("room-waiting").hidden = !waiting;
  $("start-round").disabled = room.host !== net.playerId || waiting;
}

async function copyLink() {
  const input = $("room-link");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select(); // no clipboard permission: leave it selected for Ctrl+C
    return notify("Press Ctrl+C (or ⌘C) to copy the selected link.", true);
  }
  notify("Link copied: send it to your partner.", true);
}

function enterRound(round, again = false) {
  if (!again && app.round && app.round.round_id === round.round_id) return; // the reply and the push
  app.round = round;
  if (app.room) app.room.level = rungOf(round);
  if (round.game === "run") {
    show("run");
    runView.enter(round);
  } else {
    show("sort");
    sortView.enter(round);
  }
}

// --- results, progress, leaderboard ------------------------------------------------------------

const LANE_LABEL = { melody: "Melody", chords: "Chords" };
const END_LABEL = { goal: "reached the goal", fell: "fell", scrolled: "fell behind the playhead", running: "running" };

function showResult(result) {
  if (!app.round || result.round_id !== app.round.round_id) return;
  app.round.result = result;
  const run = app.round.game === "run";
  const levels = levelsOf(app.round.game, app.room.ladder);
  const rung = rungOf(app.round);
  $("result-score").textContent = result.score;
  $("result-level").textContent = app.levelName(app.round.level);
  $("result-orders").hidden = run;
  let cleared;
  if (run) {
    cleared = result.lanes.every((l) => l.status === "goal");
    const rows = result.lanes.map((l) => `<tr><td>${LANE_LABEL[l.lane] ?? l.lane}</td><td>${END_LABEL[l.status] ?? l.status}</td><td>${l.judgements.perfect}</td><td>${l.judgements.great}</td><td>${l.judgements.good}</td><td>${l.judgements.miss}</td><td>${l.max_combo}</td><td>${l.note_points + l.distance_points + l.goal_points}</td></tr>`);
    $("result-details").innerHTML = `<table><tr><th>lane</th><th>end</th><th>perfect</th><th>great</th><th>good</th><th>miss</th><th>best combo</th><th>points</th></tr>${rows.join("")}</table>` + (result.sync_points ? `<p>In sync: +${result.sync_points}</p>` : "");
  } else {
    cleared = showSortResult(result);
  }
  record(`${app.round.game}:${app.room.ladder}`, rung, cleared);
  const last = rung >= levels.length - 1;
  $("result-next").hidden = !cleared || last;
  $("result-ladder").textContent = !cleared
    ? run ? "Reach the goal to clear this level." : "Put at least three quarters of the clips in the right slots to clear this level."
    : last ? `You cleared the last level of the ${levels === levelsOf("run", "run") ? "Run" : app.room.ladder} ladder: well played!` : `Cleared! Next: ${levels[rung + 1].name}.`;
  show("result");
  loadLeaderboard();
}

/** The player's order beside the right one, each slot marked, and what each factor took away. */
function showSortResult(result) {
  const d = result.details;
  const afterOrder = 1000 * d.order, afterListens = afterOrder * d.factors.listens;
  const lost = { order: Math.round(1000 - afterOrder), listens: Math.round(afterOrder - afterListens), time: Math.round(afterListens - afterListens * d.factors.time) };
  $("result-details").innerHTML =
    `<p><b>${d.correct_slots} of ${d.free_slots} slots right</b> — ${d.cleared ? "level cleared" : "not cleared (¾ of the slots needed)"}.</p>` +
    `<ul class="losses"><li>Order: −${lost.order} (${Math.round(d.order * 100)} % in order)</li>` +
    `<li>Listens: −${lost.listens} (${d.listens} listens, ×${d.factors.listens})</li>` +
    `<li>Time: −${lost.time} (${Math.round(d.seconds)} s for a par of ${Math.round(d.factors.par_seconds)} s, ×${d.factors.time})</li></ul>`;
  const slots = sortView.board ? sortView.board.slots : [];
  const fixed = sortView.board ? sortView.board.fixed : [];
  const card = (id, mark) => {
    const el = document.createElement("div");
    el.className = "clip" + (mark ? ` ${mark}` : "");
    const piece = sortView.pieces[id];
    if (piece) {
      const canvas = document.createElement("canvas");
      drawRoll(canvas, piece);
      el.append(canvas);
    }
    if (mark) el.append(Object.assign(document.createElement("span"), { className: "mark", textContent: mark === "right" ? "✓" : "✗" }));
    el.setAttribute("aria-label", mark ? `slot ${slots.indexOf(id) + 1}: ${mark}` : "clip");
    return el;
  };
  const mark = (i) => (d.slots_right[i] === null || fixed.includes(i) ? null : d.slots_right[i] ? "right" : "wrong");
  $("result-mine").replaceChildren(...slots.map((id, i) => card(id, mark(i))));
  $("result-answer").replaceChildren(...result.answer.map((id) => card(id, null)));
  return Boolean(d.cleared);
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
  const items = [];
  for (const g of games) {
    for (const ladder of g.ladders) {
      const done = (progress[`${g.game}:${ladder.ladder}`] ?? -1) + 1;
      const n = ladder.levels.length;
      const li = Object.assign(document.createElement("li"), { textContent: `${g.name}${g.ladders.length > 1 ? " " + ladder.name : ""}: ${"★".repeat(done)}${"☆".repeat(n - done)}` });
      li.setAttribute("aria-label", `${g.name} ${ladder.name}: ${done} of ${n} levels cleared`);
      items.push(li);
    }
  }
  $("progress").replaceChildren(...items);
}

async function loadLeaderboard() {
  if (!$("board-level").value) return;
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
$("sort-level").addEventListener("change", describeLevels);
$("run-level").addEventListener("change", describeLevels);
$("copy-link").addEventListener("click", copyLink);
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
  await app.serial(() => call("leave_room", {}));
  setRoom(null);
});
$("board-level").addEventListener("change", loadLeaderboard);
$("calibrate").addEventListener("click", calibrate);
$("result-play").addEventListener("click", playResult);
$("result-again").addEventListener("click", () => startRound(app.room.level));
$("result-next").addEventListener("click", () => startRound(rungOf(app.round) + 1));
$("result-lobby").addEventListener("click", () => show("lobby"));

catalog.then((found) => {
  games = found;
  fillLevels();
  loadLeaderboard();
  if (app.room) setRoom(app.room); // named with the catalog now
});
$("offset").textContent = app.offset;
const saved = localStorage.getItem("melody-arcade.name");
if (saved) {
  $("name").value = saved;
  net.start(saved);
}
