// The page's shell: the connection, the lobby (name, the games' cards, co-op rooms, ladder
// progress, leaderboard, latency calibration), rooms, the result screen's common part, and the
// hand-over to the games' pages. It names no game: the games are what GET /api/games lists and
// games/index.js has a page module for (its comment says what one is); the shell routes each
// page's server events to it. Every server refusal is shown to the player.
import * as audio from "./audio.js";
import { PAGES } from "./games/index.js";
import { Net } from "./net.js";
import { studio } from "./studio.js";

const $ = (id) => document.getElementById(id);
const STATUS_TEXT = {
  idle: "enter a name to connect", connecting: "connecting…", connected: "connected",
  reconnecting: "connection lost: reconnecting…", offline: "offline", session_moved: "this game is open in another tab",
  refused: "the server refused the connection",
};

const net = new Net();
const app = { net, room: null, round: null, seq: 0, refused: [], offset: Number(localStorage.getItem("melody-arcade.offset") || 0) };
window.arcade = app; // for the browser tests, the game pages (their ctx) and curious players

// The games and their levels, as the server describes them (/api/games): those with a page here.
const catalog = fetch("/api/games")
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`/api/games: ${r.status}`))))
  .then((body) => body.games.filter((g) => PAGES[g.game]));
let games = [];
let page = null; // the page module of the round on the stage, or of the last one
const stage = $("stage");
const levelNames = new Map(); // stored level id ("<ladder>-<rung>", or a page's own board ids) -> its name

const gameOf = (id) => games.find((g) => g.game === id);
/** The ladder of a round's level ("<ladder>-<rung>[-...]") and its rung (from 0). */
const ladderOf = (round) => String(round.level).split("-")[0];
const rungOf = (round) => Number(String(round.level).split("-")[1]);

/** A stored level id as people read it: "Level 3 — 8 clips, 8 bars". */
app.levelName = (id) => levelNames.get(String(id)) ?? String(id);

/** Run `work` after every move already sent has its reply: the server then sees them in order. */
let inFlight = Promise.resolve();
app.serial = (work) => {
  const done = inFlight.then(work);
  inFlight = done.catch(() => {});
  return done;
};

/** Send a move-like event with the seat's next sequence number; refusals are shown. Moves go
 * out one at a time, each after the last one's reply: a move sent while another is in flight
 * would reuse its number (the server applies a number once: the same number again gets the first
 * move's reply) or be judged on a board or a lane that the one before it was about to change. */
app.send = (event, payload) =>
  app.serial(async () => {
    const seq = app.seq + 1;
    const reply = await net.call(event, { ...payload, seq });
    if (reply.ok || reply.error.code === "old_seq") app.seq = Math.max(app.seq, seq);
    if (!reply.ok) {
      app.refused.push({ event, code: reply.error.code });
      notify(reply.error);
    }
    return reply;
  });

/** A page's "Quit": leaving the room ends a solo round on the server (abandoned, no score). */
app.quit = async () => {
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

/** Show one view: "lobby", "stage" (the game page's) or "result". Off the stage, the page stops;
 * a game's roundless view (openTool) closes. */
function show(view) {
  closeTool();
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== view;
  if (view !== "stage") page?.unmount();
  if (view === "lobby") audio.stopAll();
}
app.notify = notify;
app.show = show;

// --- a game's roundless view: /<game> ------------------------------------------------------------
// A page module with `tool(container, ctx) -> close()` has a view outside any round (Beat
// Hunt's: the Beat Blender instrument), shown on the stage at /<game> (the server serves the
// page there): opened from its lobby card (ctx.openTool(game)), a link, or back and forward.
// The shell's own roundless views (VIEWS: the studio, studio.js) are opened the same way.

const VIEWS = { studio };
let tool = null; // {game, close} of the roundless view on the stage

function openTool(game, push = true) {
  const open = VIEWS[game] ?? (gameOf(game) && PAGES[game]?.tool);
  if (!open) return false;
  if (tool?.game === game) return true;
  show("stage"); // closes another tool
  page?.unmount(); // a round's page, if one was on the stage
  page = null;
  if (push && location.pathname !== `/${game}`) history.pushState(null, "", `/${game}`);
  tool = { game, close: open(stage, app) };
  return true;
}

function closeTool(push = true) {
  if (!tool) return;
  const open = tool;
  tool = null;
  open.close?.();
  stage.replaceChildren();
  if (push && location.pathname !== "/") history.pushState(null, "", "/");
}

/** The view the address asks for: a game's roundless view at /<game>, else the lobby. */
function route() {
  const game = decodeURIComponent(location.pathname.slice(1));
  if (game && openTool(game, false)) return;
  if (tool) {
    closeTool(false);
    show("lobby");
  }
}
addEventListener("popstate", route);
app.openTool = openTool;

// --- connection --------------------------------------------------------------------------------

net.addEventListener("status", (e) => {
  const el = $("status");
  el.dataset.state = e.detail;
  el.textContent = STATUS_TEXT[e.detail] ?? e.detail;
});
net.addEventListener("refused", (e) => notify(e.detail));
net.addEventListener("session_moved", () => notify("This game is now open in another tab or window: play on there, or reload this page to play here.", true));
net.addEventListener("session_lost", (e) => {
  notify(e.detail?.reason ?? "the server restarted: your round has ended", true);
  setRoom(null);
  show("lobby");
});
net.addEventListener("welcome", (e) => {
  const reply = e.detail;
  $("who").textContent = net.name;
  if (app.offset) net.call("calibrate", { offset_ms: app.offset });
  if (reply.rooms_unavailable) {
    // who we are is known, where we sit is not: the server pushes `resync` when its rooms are
    // back; asking now and then as well covers a push that came before this connection's hello
    notify(ROOMS_AWAY, true);
    askWhereWeSit();
  } else applySeat(reply); // back after a drop: the room and its round as they stand
  const join = new URLSearchParams(location.search).get("join");
  if (join && !reply.room) {
    history.replaceState(null, "", "/");
    joinRoom(join);
  }
});

const ROOMS_AWAY = "The game's rooms cannot be reached just now: you will be back in your room when they are.";
const ASK_AGAIN_MS = 2000;

/** Where the server says this player sits (hello's reply on every (re)connection, or `resync`,
 * which the server pushes when it may have lost events for this page): the room, its round as
 * it stands (mounted again), and the seat's sequence number. `missed`: a round this page never
 * saw that has ended shows its result too (a reconnection only finishes the round on screen). */
function applySeat(state, missed = false) {
  if (!state.room) {
    if (app.room) {
      setRoom(null);
      show("lobby");
    }
    return;
  }
  app.seq = state.last_seq;
  setRoom(state.room);
  const round = state.round;
  if (!round) return;
  const known = app.round?.round_id === round.round_id;
  if (!round.result) enterRound(round, true);
  else if (known ? !app.round.result : missed) {
    if (!known) enterRound(round);
    showResult(round.result);
  }
}

/** `resync` every few seconds until the server can say where this player sits. */
function askWhereWeSit() {
  setTimeout(async () => {
    const reply = await net.call("resync", {});
    if (reply.ok) applySeat(reply, true);
    else if (reply.error.code === "rooms_unavailable" || reply.error.code === "offline") askWhereWeSit();
  }, ASK_AGAIN_MS);
}

const handlers = {
  resync: (state) => applySeat(state, true),
  room: (room) => setRoom(room),
  round_started: (round) => enterRound(round),
  round_ended: (result) => showResult(result),
  partner_away: (d) => notify(`Your partner's connection dropped; waiting ${d.grace_seconds} s for them…`, true),
  partner_back: () => notify("Your partner is back.", true),
  partner_gone: () => notify("Your partner did not come back: play on alone.", true),
};
net.on(Object.keys(handlers), (detail, event) => handlers[event](detail));
// the game pages' own events, to the page of the round on screen (or just ended)
net.on([...new Set(Object.values(PAGES).flatMap((p) => p.events))], (detail, event) => {
  if (page?.events.includes(event)) page.apply(event, detail);
});

// --- lobby -------------------------------------------------------------------------------------

/** The lobby from the catalog: a card per game (its page draws it), the leaderboards, the level
 * names, the ladder progress. */
function buildLobby() {
  $("game-cards").replaceChildren(...games.map((entry) => PAGES[entry.game].lobbyCard(entry, app)));
  const boards = [];
  for (const g of games) {
    const standard = g.ladders.flatMap((ladder) =>
      ladder.levels.map((l) => ({ id: `${ladder.ladder}-${l.level}`, label: `${g.name} ${g.ladders.length > 1 ? ladder.name + " " : ""}level ${l.number}`, name: l.name, level: l })),
    );
    for (const b of PAGES[g.game].boards?.(g, standard) ?? standard) {
      levelNames.set(b.id, b.name);
      boards.push(new Option(b.label, `${g.game}|${b.id}`));
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

/** A lobby card's "Play alone" or "Create a co-op room", or the studio's "play this": a room for
 * the game at that level. The studio's music (at most one of `music`, `story`, `piece`) goes with
 * the room: every start_round of it carries that music (the first, a co-op room's once the partner
 * has come, "Again"), so its rounds are on the piece the player made. */
async function play(game, mode, { ladder, level, music, story, piece }) {
  if (needName()) return;
  closeTool(); // the studio's view: the game's page (and its first-play help) takes the stage
  await audio.unlock();
  await PAGES[game].beforePlay?.(stage, app);
  const created = await call("create_room", { game, mode, ladder, level });
  if (created.ok) {
    app.seq = 0;
    setRoom(created.room);
    app.steer = music ? { music } : story ? { story } : piece ? { piece } : null;
  }
  // a co-op room waits in the lobby (its panel) for the partner; a page's beforePlay may have
  // shown the stage, so back to the lobby unless a round has started
  const started = created.ok && mode === "solo" && (await startRound(level));
  if (!started) show("lobby");
  return started || (created.ok && mode !== "solo"); // whether the game goes on (the studio's "play this" asks)
}

app.play = play;

async function startRound(level = null) {
  await audio.unlock();
  const args = level === null ? {} : { level };
  Object.assign(args, PAGES[app.room.game]?.startOptions?.(app.room, level ?? app.room.level), app.steer);
  const reply = await call("start_round", args);
  if (reply.ok) enterRound(reply.round);
  return reply.ok;
}

async function joinRoom(code) {
  const reply = await call("join_room", { code });
  if (!reply.ok) return;
  app.seq = 0;
  setRoom(reply.room);
  if (reply.round && !reply.round.result) enterRound(reply.round);
}

function setRoom(room) {
  if (room?.code !== app.room?.code) app.steer = null; // the music chosen goes with its room only
  app.room = room;
  $("room-panel").hidden = !room;
  if (!room) return;
  $("room-code").textContent = room.code;
  $("room-game").textContent = `${gameOf(room.game)?.name ?? room.game} · ${room.mode === "coop" ? "co-op" : "solo"} · ${app.levelName(`${room.ladder}-${room.level}`)}`;
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
  const next = PAGES[round.game];
  if (!next) return notify({ code: "unknown_game", message: `This page cannot play ${round.game}: reload it` });
  app.round = round;
  if (app.room) app.room.level = rungOf(round);
  if (page && page !== next) page.unmount();
  page = next;
  show("stage");
  page.mount(stage, round, app);
}

// --- results, progress, leaderboard ------------------------------------------------------------

function showResult(result) {
  if (!app.round || result.round_id !== app.round.round_id) return;
  const round = app.round;
  round.result = result;
  const ladder = gameOf(round.game).ladders.find((l) => l.ladder === ladderOf(round));
  const levels = ladder.levels;
  const rung = rungOf(round);
  $("result-score").textContent = result.score;
  $("result-level").textContent = app.levelName(round.level);
  // a result the server judged no person could play so: kept and shown, not on the leaderboard
  $("result-flagged").hidden = !result.flagged;
  $("result-flagged").textContent = result.flagged ? `Not on the leaderboard: ${result.flagged}.` : "";
  const cleared = page.result($("result-details"), result, round);
  record(`${round.game}:${ladder.ladder}`, rung, cleared);
  const last = rung >= levels.length - 1;
  // in co-op only the host starts a round: the partner is told so, not offered buttons the server refuses
  const host = app.room && app.room.host !== net.playerId ? app.room.seats.find((s) => s.player_id === app.room.host) : null;
  $("result-again").hidden = Boolean(host);
  $("result-next").hidden = !cleared || last || Boolean(host);
  const ladderText = !cleared ? page.howToClear : last ? `You cleared the last level of the ${ladder.name} ladder: well played!` : `Cleared! Next: ${levels[rung + 1].name}.`;
  $("result-ladder").textContent = host ? `${ladderText} ${host.name} starts the next round.` : ladderText;
  show("result");
  loadLeaderboard();
}

function playResult() {
  if (app.round?.result) page?.replay(app.round);
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

/** Connect as `name`: the lobby's name form, or the studio's "play this" before any name. */
async function connect(name) {
  localStorage.setItem("melody-arcade.name", name);
  $("name").value = name;
  await audio.unlock();
  if (await ready) net.start(name);
}
app.connect = connect;

$("name-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("name").value.trim();
  if (name) await connect(name);
});
$("studio-open").addEventListener("click", (e) => {
  e.preventDefault();
  openTool("studio");
});
$("copy-link").addEventListener("click", copyLink);
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

// The page connects once it knows the games (and their pages know their rules): a round can
// only come after that.
const ready = catalog
  .then((found) => {
    games = found;
    buildLobby();
    loadLeaderboard();
    route();
    return true;
  })
  .catch((error) => {
    console.error(error);
    notify({ code: "no_games", message: `The games could not be loaded (${error.message}): reload the page` });
    return false;
  });
$("offset").textContent = app.offset;
const saved = localStorage.getItem("melody-arcade.name");
if (saved) {
  $("name").value = saved;
  ready.then((ok) => ok && net.start(saved));
}
