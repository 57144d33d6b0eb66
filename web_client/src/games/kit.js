// What the game pages share (games/index.js says what a page module is): markup from a template,
// a stylesheet of the page's own, and the lobby card built from a game's /api/games entry.

/** The element an HTML template string makes (its one root element), not yet in the document. */
export function fromTemplate(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}

/** Link a page's stylesheet, once: `stylesheet(new URL("sort.css", import.meta.url))`. */
export function stylesheet(url) {
  const href = String(url);
  if ([...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) return;
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href }));
}

/** An element with properties and children: el("button", {id, textContent}). */
export function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** A game's lobby card from its /api/games entry: its name, what it is (`about`), its ladder (a
 * choice when it has several) and level, what the level changes, the game's own `options`
 * (elements), and "Play alone" / "Create a co-op room", which call `play(mode, {ladder, level})`
 * (by default ctx.play for this game). Ids: <game>-ladder, <game>-level, <game>-level-info,
 * <game>-solo, <game>-coop. Returns {card, ladder(), level(), levels(), setLevel(level)}. */
export function levelCard(entry, ctx, { about, levelLabel = (l) => l.name, levelHint = (l) => `What changes: ${l.changes}.`, options = [], play = null }) {
  const id = (what) => `${entry.game}-${what}`;
  const ladderSelect = el("select", { id: id("ladder") }, ...entry.ladders.map((l) => new Option(l.name, l.ladder)));
  const levelSelect = el("select", { id: id("level") });
  const info = el("p", { id: id("level-info"), className: "hint" });
  const ladder = () => entry.ladders.find((l) => l.ladder === ladderSelect.value) ?? entry.ladders[0];
  const levels = () => ladder().levels;
  const describe = () => {
    const level = levels()[Number(levelSelect.value)];
    info.textContent = level ? levelHint(level) : "";
  };
  const fill = () => {
    const keep = levelSelect.value; // the same level of another ladder, when it has one
    levelSelect.replaceChildren(...levels().map((l) => new Option(levelLabel(l), l.level)));
    if (keep && levelSelect.querySelector(`option[value="${keep}"]`)) levelSelect.value = keep;
    describe();
  };
  ladderSelect.addEventListener("change", fill);
  levelSelect.addEventListener("change", describe);
  const handle = {
    ladder: () => ladder().ladder,
    level: () => Number(levelSelect.value),
    levels,
    setLevel(level) {
      levelSelect.value = level;
      describe();
    },
  };
  const go = (mode) => (play ?? ((m, choice) => ctx.play(entry.game, m, choice)))(mode, { ladder: handle.ladder(), level: handle.level() });
  const solo = el("button", { id: id("solo"), textContent: "Play alone" });
  const coop = el("button", { id: id("coop"), className: "secondary", textContent: "Create a co-op room" });
  solo.addEventListener("click", () => go("solo"));
  coop.addEventListener("click", () => go("coop"));
  handle.card = el(
    "article",
    { className: "game" },
    el("h2", { textContent: entry.name }),
    el("p", { textContent: about }),
    ...(entry.ladders.length > 1 ? [el("label", {}, "Ladder ", ladderSelect)] : []),
    el("label", {}, "Level ", levelSelect),
    info,
    ...options,
    el("div", { className: "row" }, solo, coop),
  );
  fill();
  return handle;
}

/** The files of a finished round's piece, as the server serves them (GET /api/rounds/<id>/piece.mid,
 * .wav, .ogg; docs/protocol.md): [{format, label, href, title}]. Available once the round has ended. */
export function pieceFiles(roundId) {
  const base = `/api/rounds/${encodeURIComponent(roundId)}/piece`;
  return [
    { format: "mid", label: "MIDI", title: "the notes, for a music program" },
    { format: "wav", label: "WAV", title: "the sound: 16-bit stereo, 44.1 kHz" },
    { format: "ogg", label: "OGG", title: "the sound, compressed (Ogg Vorbis)" },
  ].map((file) => ({ ...file, href: `${base}.${file.format}` }));
}

/** A result screen's "Take it home" row: a download link for each of the round's files. Every game's
 * `result` appends it, so a player keeps whatever round they just played. */
export function downloadLinks(roundId) {
  const links = pieceFiles(roundId).map((f) => el("a", { href: f.href, download: "", title: f.title, textContent: f.label, className: `download-${f.format}` }));
  return el("p", { className: "downloads hint" }, "Take it home: ", ...links.flatMap((a, i) => (i ? [" · ", a] : [a])));
}
