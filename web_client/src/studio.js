// The studio at /studio ("make the music yours"), a view of the shell outside any round: describe
// the music in words (the page shows, as the player types, what was understood and what could not
// be honoured), choose it field by field (a field set by hand wins over the words), tell a story of
// sections (MusicLM's story mode), or bring a tune (studio_tune.js); then hear the piece, re-roll some
// of its bars, take it home as MIDI, WAV or OGG, and play it as Sort or Run, alone or with a partner.
// Every piece comes from the server's studio API (POST /api/studio/...; docs/protocol.md, "The
// studio"); no connection is needed until "play this", which hands the shell the music that starts
// the round on the very same piece: `music` as /compose answered it (its seed: the same piece),
// `story` as /story answered it, or `piece` for a tune or a re-rolled piece.
//
// The view is made once and kept while the page lives: back from a round, the studio still has the
// piece and the tune the player left.
import * as audio from "./audio.js";
import { el, fromTemplate } from "./games/kit.js";
import { drawRoll } from "./pianoroll.js";
import { DEFAULT_INSTRUMENTS } from "./sample_grid.js";
import { Roll } from "./studio_roll.js";
import * as n from "./studio_notes.js";
import { TuneView } from "./studio_tune.js";

const DESCRIBE_AFTER_MS = 300; // the words are read once the typing pauses this long
const GM_FAMILIES = ["Piano", "Chromatic percussion", "Organ", "Guitar", "Bass", "Strings", "Ensemble", "Brass", "Reed", "Pipe", "Synth lead", "Synth pad", "Synth effects", "Ethnic", "Percussive", "Sound effects"];
const STYLE_OWN = "the style's own";
const FILES = [
  { ext: "mid", label: "MIDI", title: "the notes, for a music program" },
  { ext: "wav", label: "WAV", title: "the sound: 16-bit stereo, 44.1 kHz" },
  { ext: "ogg", label: "OGG", title: "the sound, compressed (Ogg Vorbis)" },
];

const VIEW = `
<section id="studio" data-tab="compose">
  <div class="row studio-head">
    <h2>Studio <span class="hint">make the music yours</span></h2>
    <button id="studio-lobby" type="button" class="secondary">← Lobby</button>
  </div>
  <div class="studio-tabs" role="tablist" aria-label="How to make the music">
    <button type="button" role="tab" data-tab="compose" id="studio-tab-compose">Describe or choose</button>
    <button type="button" role="tab" data-tab="story" id="studio-tab-story">Tell a story</button>
    <button type="button" role="tab" data-tab="tune" id="studio-tab-tune">Your tune</button>
  </div>

  <div id="studio-tune-box" data-for="tune"></div>

  <div class="panel studio-words" data-for="compose tune">
    <label for="studio-text"><b>Describe the music</b> <span class="hint">a style, a dance, a key, a tempo, a mood, instruments…</span></label>
    <textarea id="studio-text" maxlength="500" rows="2" placeholder="a fast Scottish reel in D minor, on fiddle"></textarea>
    <div class="studio-heard" aria-live="polite">
      <div><h4>Understood</h4><ul id="studio-understood"></ul></div>
      <div><h4>Could not honour</h4><ul id="studio-ignored"></ul></div>
    </div>
  </div>

  <div class="panel studio-options" data-for="compose tune">
    <div id="studio-fields" class="studio-fields"></div>
    <p class="hint studio-hand">The words fill these in; a field you change by hand (●) wins over them. <button id="studio-reset" type="button" class="secondary small">Let the words decide again</button></p>
    <div class="row" data-for="compose">
      <label>Bars <input id="studio-bars" type="number" min="2" max="16" value="8" inputmode="numeric"></label>
      <button id="studio-compose" type="button">Compose</button>
    </div>
  </div>

  <div id="studio-tune-actions-box" data-for="tune"></div>

  <div class="panel studio-story" data-for="story">
    <p class="hint">A story is up to 8 sections, each described in words, played one after another: each keeps its own style, key, tempo and sounds, and the melody carries on across each seam (MusicLM's story mode).</p>
    <ol id="studio-sections-edit" class="studio-sections-edit"></ol>
    <div class="row">
      <button id="studio-section-add" type="button" class="secondary">+ Add a section</button>
      <button id="studio-demo" type="button" class="secondary">MusicLM's demo</button>
      <button id="studio-story" type="button">Compose the story</button>
    </div>
  </div>

  <p id="studio-status" class="studio-status" role="status" aria-live="polite"></p>

  <div id="studio-piece" class="panel studio-piece" hidden>
    <div class="row studio-piece-head"><h3 id="studio-piece-title"></h3><span id="studio-piece-line" class="hint"></span></div>
    <div id="studio-roll-box"></div>
    <ol id="studio-sections" class="studio-sections" hidden></ol>
    <div class="row">
      <button id="studio-play" type="button" aria-pressed="false">▶ Play</button>
      <span class="studio-downloads" id="studio-downloads">Take it home: </span>
    </div>
    <div class="row studio-reroll" id="studio-reroll-row">
      <label>Re-roll bars <input id="studio-from" type="number" min="1" value="1" inputmode="numeric"></label>
      <label>to <input id="studio-to" type="number" min="1" value="1" inputmode="numeric"></label>
      <button id="studio-reroll" type="button" class="secondary">Re-roll</button>
      <span class="hint">or drag across the bar numbers on the roll</span>
    </div>
    <div class="studio-play-as">
      <h4>Play this as a game</h4>
      <div class="row">
        <label>Sort <select id="studio-sort-level"></select></label>
        <button id="studio-play-sort" type="button">Play as Sort</button>
      </div>
      <div class="row">
        <label>Run <select id="studio-run-level"></select></label>
        <button id="studio-play-run" type="button">Play as Run</button>
      </div>
      <div class="row">
        <label>Beat Hunt <select id="studio-blend-level"></select></label>
        <button id="studio-play-blend" type="button">Play as Beat Hunt</button>
      </div>
      <label class="check"><input id="studio-coop" type="checkbox"> with a partner: a co-op room whose link you send</label>
      <form id="studio-name-form" class="row" hidden>
        <label>Your name, to play <input id="studio-name" maxlength="24" autocomplete="nickname" required></label>
        <button type="submit">Play</button>
      </form>
      <p class="hint">Beat Hunt hunts on a grid of drum beats whose top-left corner is this music's first two bars of drums; to blend beats of your own, open <a href="/blend" id="studio-blend">the Beat Blender instrument</a>.</p>
    </div>
  </div>
</section>`;

/** A select's options: [[value, label], ...]. */
const options = (pairs) => pairs.map(([value, label]) => new Option(label, value));

class Studio {
  constructor(ctx) {
    this.ctx = ctx;
    this.root = fromTemplate(VIEW);
    const $ = (id) => this.root.querySelector(`#${id}`);
    this.$ = $;
    this.touched = new Set(); // fields the player set by hand
    this.heard = null; // the last interpretation of the words
    this.asked = 0; // the latest describe asked for: older answers are dropped
    this.current = null; // {kind: "piece" | "story", piece?, pieces?, sections?, start: {music} | {piece} | {story}, marked}
    this.sections = [{ description: "", bars: 4 }];
    this.#askChoices();
    this.roll = new Roll({ label: "The piece's melody", onSelect: (span) => this.#pickBars(span) });
    $("studio-roll-box").append(this.roll.root);
    this.tune = new TuneView(ctx, { options: () => this.values(), onPiece: (piece, start, how) => this.#setPiece(piece, start, how) });
    $("studio-tune-box").append(this.tune.root);
    $("studio-tune-actions-box").append(this.tune.actions);
    for (const f of FILES) {
      const button = el("button", { type: "button", className: "secondary small", textContent: f.label, title: f.title });
      button.dataset.ext = f.ext;
      $("studio-downloads").append(button);
    }

    const on = (id, event, fn) => $(id).addEventListener(event, fn);
    on("studio-lobby", "click", () => ctx.show("lobby"));
    for (const tab of this.root.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => this.#tab(tab.dataset.tab));
    on("studio-text", "input", () => {
      clearTimeout(this.describeTimer);
      this.describeTimer = setTimeout(() => this.#describe(), DESCRIBE_AFTER_MS);
    });
    on("studio-reset", "click", () => {
      this.touched.clear();
      for (const f of this.root.querySelectorAll(".studio-field.hand-set")) f.classList.remove("hand-set");
      this.#fill(this.heard?.options ?? null);
    });
    on("studio-compose", "click", () => this.#compose());
    on("studio-section-add", "click", () => this.#editSections((s) => s.push({ description: "", bars: 4 })));
    on("studio-demo", "click", () => this.#editSections(() => n.DEMO_STORY.map((description) => ({ description, bars: 2 }))));
    on("studio-story", "click", () => this.#composeStory());
    on("studio-play", "click", () => this.#play(!this.playback));
    on("studio-reroll", "click", () => this.#reroll());
    on("studio-from", "input", () => this.#barsTyped());
    on("studio-to", "input", () => this.#barsTyped());
    on("studio-downloads", "click", (e) => e.target.dataset.ext && this.#download(e.target.dataset.ext));
    on("studio-play-sort", "click", () => this.#playAs("sort"));
    on("studio-play-run", "click", () => this.#playAs("run"));
    on("studio-play-blend", "click", () => this.#playAs("blend"));
    on("studio-name-form", "submit", (e) => {
      e.preventDefault();
      this.#connectAndPlay();
    });
    on("studio-blend", "click", (e) => {
      if (ctx.openTool("blend")) e.preventDefault();
    });
    this.#showHeard(null);
    this.#editSections(() => this.sections);
    this.#levels();
    this.#tab("compose");
  }

  open(container) {
    container.replaceChildren(this.root);
    this.tune.listen(this.tab === "tune");
    this.tune.showTiming();
  }

  close() {
    clearTimeout(this.describeTimer);
    this.tune.listen(false);
    this.#play(false);
    this.root.remove();
  }

  #tab(tab) {
    this.tab = tab;
    this.root.dataset.tab = tab;
    for (const t of this.root.querySelectorAll("[role=tab]")) t.setAttribute("aria-selected", String(t.dataset.tab === tab));
    for (const part of this.root.querySelectorAll("[data-for]")) part.hidden = !part.dataset.for.split(" ").includes(tab);
    this.tune.listen(tab === "tune" && this.root.isConnected);
  }

  // --- the options --------------------------------------------------------------------------------

  /** The option values and their names, the server's (GET /api/studio/choices); the controls are
   * drawn once they come (asked again a while later if the network failed). */
  async #askChoices() {
    try {
      const response = await fetch("/api/studio/choices");
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      this.choices = await response.json();
    } catch (error) {
      this.ctx.notify(`The studio could not load its choices (${error.message}): trying again.`, true);
      setTimeout(() => this.#askChoices(), 3000);
      return;
    }
    this.#buildFields();
  }

  #buildFields() {
    const c = this.choices;
    const own = ["", STYLE_OWN];
    const instrument = (part) => {
      const select = el("select", { id: `studio-${part}` });
      select.append(...GM_FAMILIES.map((family, f) => el("optgroup", { label: family }, ...options(c.programs.slice(8 * f, 8 * f + 8).map((name, i) => [8 * f + i, name])))));
      return select;
    };
    const fields = [
      ["style", "Style", el("select", { id: "studio-style" }, ...options(c.styles))],
      ["mood", "Mood", el("select", { id: "studio-mood" }, ...options([own, ...c.moods.map((m) => [m, m])]))],
      ["key", "Key", el("select", { id: "studio-key" }, ...options([own, ...n.PITCH_NAMES.map((name, i) => [i, name])]))],
      ["tempo", "Tempo", el("input", { id: "studio-tempo", type: "number", min: c.tempo[0], max: c.tempo[1], placeholder: "style's", inputMode: "numeric" })],
      ["meter", "Meter", el("select", { id: "studio-meter" }, ...options(c.meters.map((m) => [m, m])))],
      ["density", "Density", el("select", { id: "studio-density" }, ...options([own, ...c.densities.map((d) => [d, d])]))],
      ["groove", "Groove", el("select", { id: "studio-groove" }, ...options([own, ...c.grooves.map((g) => [g, g])]))],
      ["melody", "Melody", instrument("melody")],
      ["chords", "Chords", instrument("chords")],
      ["bass", "Bass", instrument("bass")],
      ["drums", "Drums", el("select", { id: "studio-drums" }, ...options(c.kits.map(([program, name]) => [program, `${name} kit`])))],
    ];
    this.fields = {};
    const labels = fields.map(([field, label, control]) => {
      this.fields[field] = control;
      control.dataset.field = field;
      const set = () => {
        this.touched.add(field);
        control.closest(".studio-field").classList.add("hand-set");
        if (field === "tempo" || field === "meter") this.tune.showTiming();
        if (field === "melody" && this.tab === "tune") this.tune.prepareKeys();
      };
      control.addEventListener("change", set);
      if (field === "tempo") control.addEventListener("input", set);
      return el("label", { className: "studio-field" }, el("span", { textContent: label }), control);
    });
    this.$("studio-fields").replaceChildren(...labels);
    this.#fill(null);
  }

  /** The controls from the words' options (MusicOptions.as_dict), where not set by hand. */
  #fill(o) {
    const given = o ?? { style: "irish", mood: null, tempo: null, meter: "4/4", key: null, density: null, groove: null, instruments: this.choices.instruments };
    const value = (field) => (n.INSTRUMENT_PARTS.includes(field) ? given.instruments[field] : given[field]);
    for (const [field, control] of Object.entries(this.fields)) {
      if (this.touched.has(field)) continue;
      const v = value(field);
      control.value = v === null || v === undefined ? "" : String(v);
    }
    this.tune?.showTiming();
    if (this.tab === "tune") this.tune.prepareKeys(); // the words may have named another melody instrument
  }

  /** The choice as the controls show it (null: the style's own); the defaults until the controls
   * are drawn (the choices have not come yet). */
  values() {
    const f = this.fields;
    if (!f) return { style: "irish", mood: null, key: null, tempo: null, meter: "4/4", density: null, groove: null, ...DEFAULT_INSTRUMENTS };
    const orNull = (v) => (v === "" ? null : v);
    const tempo = Number.parseInt(f.tempo.value, 10);
    return {
      style: f.style.value, mood: orNull(f.mood.value), key: f.key.value === "" ? null : Number(f.key.value),
      tempo: Number.isInteger(tempo) && tempo >= this.choices.tempo[0] && tempo <= this.choices.tempo[1] ? tempo : null, meter: f.meter.value,
      density: orNull(f.density.value), groove: orNull(f.groove.value),
      melody: Number(f.melody.value), chords: Number(f.chords.value), bass: Number(f.bass.value), drums: Number(f.drums.value),
    };
  }

  // --- the words ----------------------------------------------------------------------------------

  /** Read the words now (POST /describe); resolves once the controls show them. */
  async #describe() {
    clearTimeout(this.describeTimer);
    this.describeTimer = null;
    const text = this.$("studio-text").value;
    const asked = ++this.asked;
    if (!text.trim()) {
      this.heard = null;
      this.#showHeard(null);
      this.#fill(null);
      return;
    }
    try {
      const heard = await (await n.studioApi("describe", { text })).json();
      if (asked !== this.asked) return;
      this.heard = heard;
      this.#showHeard(heard);
      this.#fill(heard.options);
    } catch (error) {
      if (asked === this.asked) this.#say(`The words could not be read: ${error.message} (${error.code})`, true);
    }
  }

  #showHeard(heard) {
    const item = (phrase, text) => el("li", {}, el("b", { textContent: phrase }), text);
    const none = (text) => el("li", { className: "hint", textContent: text });
    const understood = heard?.understood ?? [], ignored = heard?.ignored ?? [];
    this.$("studio-understood").replaceChildren(
      ...(understood.length ? understood.map((r) => item(r.phrase, r.meaning === r.phrase ? "" : ` → ${r.meaning}`)) : [none(heard ? heard.summary : "nothing yet: type what you want to hear")]),
    );
    this.$("studio-ignored").replaceChildren(...(ignored.length ? ignored.map((r) => item(r.phrase, `: ${r.meaning}`)) : [none(heard ? "nothing" : "—")]));
  }

  // --- compose --------------------------------------------------------------------------------------

  async #compose() {
    if (this.describeTimer) await this.#describe(); // the controls as the words now say
    const text = this.$("studio-text").value.trim();
    const bars = Math.max(2, Math.min(n.MAX_BARS, Number.parseInt(this.$("studio-bars").value, 10) || 8));
    this.$("studio-bars").value = bars;
    const body = { bars };
    if (text) body.description = text;
    // the seed is the page's (studio_notes.js, freshSeed): one the server drew could not come back exactly
    body.music = { ...n.choiceMusic(this.values(), this.touched), seed: n.freshSeed() };
    await this.#busy("studio-compose", "Composing…", async () => {
      const made = await (await n.studioApi("compose", body)).json();
      // /compose's `music` (its seed with it) starts a round on this very piece; were its seed
      // beyond what a number holds, the piece itself does
      const start = Number.isSafeInteger(made.seed) ? { music: made.music } : { piece: made.piece };
      this.#setPiece(made.piece, start, { title: "Composed", seed: made.seed });
      this.#say("");
    });
  }

  /** Run a request with its button disabled, saying `doing`; a refusal is said as the server put it. */
  async #busy(id, doing, work) {
    const button = this.$(id);
    button.disabled = true;
    this.root.classList.add("busy");
    this.#say(doing);
    try {
      await work();
    } catch (error) {
      this.#say(`${error.message} (${error.code ?? "error"})`, true);
    } finally {
      button.disabled = false;
      this.root.classList.remove("busy");
    }
  }

  // --- the story ----------------------------------------------------------------------------------

  /** Change the sections (`change(sections)` edits them or returns new ones) and draw the editor. */
  #editSections(change) {
    const changed = change(this.sections);
    if (Array.isArray(changed)) this.sections = changed;
    this.sections = this.sections.slice(0, n.MAX_SECTIONS);
    const list = this.$("studio-sections-edit");
    const rows = this.sections.map((section, i) => {
      const row = fromTemplate(`<li class="studio-section-edit"><span class="studio-section-n"></span><input class="desc" maxlength="500" placeholder="describe this section"><label>Bars <select class="bars"></select></label><span class="studio-section-moves"><button type="button" class="secondary small" data-act="up" aria-label="Move up">↑</button><button type="button" class="secondary small" data-act="down" aria-label="Move down">↓</button><button type="button" class="secondary small" data-act="remove" aria-label="Remove">✕</button></span></li>`);
      row.querySelector(".studio-section-n").textContent = i + 1;
      const desc = row.querySelector(".desc"), bars = row.querySelector(".bars");
      desc.value = section.description;
      desc.setAttribute("aria-label", `Section ${i + 1}: what it is`);
      bars.append(...options(Array.from({ length: n.SECTION_BARS[1] - n.SECTION_BARS[0] + 1 }, (_, b) => [b + n.SECTION_BARS[0], b + n.SECTION_BARS[0]])));
      bars.value = section.bars;
      desc.addEventListener("input", () => (section.description = desc.value));
      bars.addEventListener("change", () => (section.bars = Number(bars.value)));
      row.querySelector("[data-act=up]").disabled = i === 0;
      row.querySelector("[data-act=down]").disabled = i === this.sections.length - 1;
      row.querySelector("[data-act=remove]").disabled = this.sections.length === 1;
      row.addEventListener("click", (e) => {
        const act = e.target.dataset?.act;
        if (!act) return;
        this.#editSections((s) => {
          const j = act === "up" ? i - 1 : i + 1;
          if (act === "remove") s.splice(i, 1);
          else [s[i], s[j]] = [s[j], s[i]];
        });
      });
      return row;
    });
    list.replaceChildren(...rows);
    this.$("studio-section-add").disabled = this.sections.length >= n.MAX_SECTIONS;
  }

  async #composeStory() {
    await this.#busy("studio-story", "Composing the story…", async () => {
      const told = await (await n.studioApi("story", n.storyBody(this.sections))).json();
      this.#setStory(told);
      this.#say("");
    });
  }

  #setStory(told) {
    this.#play(false);
    this.current = { kind: "story", pieces: told.pieces, piece: told.piece, seed: told.seed, sections: told.sections, start: { story: told.story } };
    audio.prepare(told.pieces);
    const bars = told.pieces.reduce((sum, p) => sum + p.bars, 0);
    this.#showPiecePanel("Your story", `${told.sections.length} sections · ${bars} bars · each at its own tempo`);
    const cards = told.sections.map((section, i) => {
      const piece = told.pieces[i];
      const card = fromTemplate(`<li class="studio-section"><div class="studio-section-head"><b class="studio-section-name"></b> <span class="hint"></span></div><canvas></canvas><ul class="studio-section-heard"></ul></li>`);
      card.querySelector(".studio-section-name").textContent = section.name;
      card.querySelector(".hint").textContent = `from bar ${section.bar + 1} · ${n.pieceLine(piece, this.choices.programs)}`;
      drawRoll(card.querySelector("canvas"), piece);
      const heard = section.heard;
      const lines = [];
      for (const r of heard?.understood ?? []) lines.push(el("li", { className: "understood" }, el("b", { textContent: r.phrase }), r.meaning === r.phrase ? "" : ` → ${r.meaning}`));
      for (const r of heard?.ignored ?? []) lines.push(el("li", { className: "ignored" }, el("b", { textContent: r.phrase }), `: ${r.meaning}`));
      if (!lines.length) lines.push(el("li", { className: "hint", textContent: heard ? heard.summary : "no words: the default music" }));
      card.querySelector(".studio-section-heard").replaceChildren(...lines);
      return card;
    });
    this.$("studio-sections").replaceChildren(...cards);
  }

  // --- the piece ------------------------------------------------------------------------------------

  /** A piece becomes the current one: `start` is what starts a round on it; `marked`: the bars of
   * the player's own tune in it. */
  #setPiece(piece, start, { marked = new Set(), title = "Your piece", seed = null } = {}) {
    this.#play(false);
    this.current = { kind: "piece", piece, start, marked, title, seed };
    audio.prepare(piece); // its instruments' samples, loading before "Play"
    this.#showPiecePanel(title, n.pieceLine(piece, this.choices.programs));
    this.roll.show(piece, { marked });
    for (const id of ["studio-from", "studio-to"]) this.$(id).max = piece.bars;
    // the bars offered first for a re-roll: the two after the player's own tune, if any
    const after = marked.size ? Math.max(...marked) + 1 : 0;
    const first = after < piece.bars ? after : 0;
    this.$("studio-from").value = first + 1;
    this.$("studio-to").value = Math.min(first + 2, piece.bars);
    this.#barsTyped();
  }

  #showPiecePanel(title, line) {
    const story = this.current.kind === "story";
    const panel = this.$("studio-piece");
    panel.hidden = false;
    panel.dataset.kind = this.current.kind;
    this.$("studio-piece-title").textContent = title;
    this.$("studio-piece-line").textContent = line;
    this.$("studio-roll-box").hidden = story;
    this.$("studio-sections").hidden = !story;
    this.$("studio-reroll-row").hidden = story;
    this.$("studio-play-run").textContent = story ? "Play as Run (story level)" : "Play as Run";
    this.$("studio-play-sort").textContent = story ? "Play as Sort (its sections)" : "Play as Sort";
    this.$("studio-play-blend").disabled = !this.current.piece?.drums?.length; // a beat to hunt around
  }

  #play(on) {
    if (!on) {
      this.playback?.stop();
      this.playback = null;
      this.roll.stopPlayhead();
    } else if (this.current) {
      audio.unlock();
      const pieces = this.current.kind === "story" ? this.current.pieces : [this.current.piece];
      const seconds = pieces.reduce((sum, p) => sum + audio.duration(p), 0);
      const playback = audio.play(pieces, { onEnd: () => this.playback === playback && this.#play(false) });
      this.playback = playback;
      if (this.current.kind === "piece") this.roll.playhead(audio.now() + 0.1, seconds);
    }
    const button = this.$("studio-play");
    button.textContent = this.playback ? "■ Stop" : "▶ Play";
    button.setAttribute("aria-pressed", String(Boolean(this.playback)));
  }

  // --- re-roll bars -------------------------------------------------------------------------------

  /** Bars picked on the roll: the number inputs follow. */
  #pickBars(span) {
    if (!span) return;
    this.$("studio-from").value = span.first + 1;
    this.$("studio-to").value = span.last + 1;
  }

  /** Bars typed: the roll shows them picked. */
  #barsTyped() {
    if (this.current?.kind !== "piece") return;
    this.roll.select(this.#span());
  }

  #span() {
    const read = (id) => Number.parseInt(this.$(id).value, 10) - 1;
    return n.barSpan(read("studio-from") || 0, read("studio-to") || 0, this.current.piece.bars);
  }

  async #reroll() {
    if (this.current?.kind !== "piece") return;
    const { piece, marked, title } = this.current;
    const { first, last } = this.#span();
    await this.#busy("studio-reroll", `Re-rolling bars ${first + 1} to ${last + 1}…`, async () => {
      const made = await (await n.studioApi("regenerate", { piece, first, last, style: this.values().style, seed: n.freshSeed() })).json();
      // every other bar is kept: the tune's bars not re-rolled are still the player's own
      const kept = new Set([...marked].filter((bar) => bar < first || bar > last));
      this.#setPiece(made.piece, { piece: made.piece }, { marked: kept, title: title.includes("re-rolled") ? title : `${title}, re-rolled`, seed: made.seed });
      this.roll.select({ first, last });
      this.$("studio-from").value = first + 1;
      this.$("studio-to").value = last + 1;
      this.#say(`Bars ${first + 1} to ${last + 1} re-rolled; the others are as they were.`);
    });
  }

  // --- take it home -------------------------------------------------------------------------------

  /** The current piece as a file (POST /api/studio/piece.<ext>), saved by the browser. */
  async #download(ext) {
    if (!this.current?.piece) return; // a story's too: its sections joined, each at its tempo
    const button = this.$("studio-downloads").querySelector(`[data-ext="${ext}"]`);
    button.disabled = true;
    this.#say(`Making the ${ext.toUpperCase()} file…`);
    try {
      const { piece, seed } = this.current; // the seed: the file says what made it
      const response = await n.studioApi(`piece.${ext}`, Number.isSafeInteger(seed) ? { piece, seed } : { piece });
      const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(response.headers.get("Content-Disposition") ?? "");
      const filename = named ? decodeURIComponent(named[1]) : `melody-arcade-studio.${ext}`;
      const url = URL.createObjectURL(await response.blob());
      const a = el("a", { href: url, download: filename });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      this.#say(`Saved ${filename}.`);
    } catch (error) {
      this.#say(`The ${ext.toUpperCase()} file could not be made: ${error.message} (${error.code})`, true);
    } finally {
      button.disabled = false;
    }
  }

  // --- play this ------------------------------------------------------------------------------------

  /** The games' levels, from the catalog (GET /api/games), for the "play as" choices. */
  async #levels() {
    try {
      const response = await fetch("/api/games");
      const { games } = await response.json();
      this.gameNames = Object.fromEntries(games.map((g) => [g.game, g.name]));
      const sort = games.find((g) => g.game === "sort"), run = games.find((g) => g.game === "run"), hunt = games.find((g) => g.game === "blend");
      this.$("studio-sort-level").replaceChildren(
        ...(sort?.ladders ?? []).map((ladder) => el("optgroup", { label: ladder.name }, ...options(ladder.levels.map((l) => [`${ladder.ladder}|${l.level}`, `${ladder.name}: ${l.name}`])))),
      );
      this.$("studio-run-level").replaceChildren(...options((run?.ladders[0].levels ?? []).map((l) => [`run|${l.level}`, l.name])));
      this.$("studio-blend-level").replaceChildren(...options((hunt?.ladders[0].levels ?? []).map((l) => [`${hunt.ladders[0].ladder}|${l.level}`, l.name])));
    } catch {
      this.#say("The games' levels could not be loaded: reload the page.", true);
    }
  }

  /** "Play as Sort / Run": a room for the game (solo, or co-op: its link for the partner) whose
   * rounds are on this music; the shell takes over from here. */
  async #playAs(game) {
    if (!this.current) return;
    if (this.ctx.net.state !== "connected") {
      this.pending = game; // after the name
      const form = this.$("studio-name-form");
      form.hidden = false;
      this.$("studio-name").value ||= localStorage.getItem("melody-arcade.name") ?? "";
      this.$("studio-name").focus();
      return this.#say("Say your name to play: the game needs it for its leaderboard.");
    }
    const [ladder, level] = this.$(`studio-${game}-level`).value.split("|");
    const mode = this.$("studio-coop").checked ? "coop" : "solo";
    this.#play(false);
    const music = game === "blend" ? { piece: this.current.piece } : this.current.start; // Beat Hunt takes the piece itself: its first bars of drums
    if (await this.ctx.play(game, mode, { ladder, level: Number(level), ...music })) return;
    // refused (the shell says why: Run's `unplayable_music`, Sort's `story_too_short`...): back to
    // the studio, where the music can be changed
    this.ctx.openTool("studio");
    this.#say(`The ${this.gameNames?.[game] ?? game} round could not start on this music (the reason is at the top of the page): change it — re-roll some bars, compose again — and try again.`, true);
  }

  async #connectAndPlay() {
    const name = this.$("studio-name").value.trim();
    if (!name) return;
    const connected = new Promise((resolve) => {
      const stop = this.ctx.net.on("status", (state) => {
        if (state === "connected" || state === "refused") {
          stop();
          resolve(state === "connected");
        }
      });
    });
    this.#say("Connecting…");
    await this.ctx.connect(name);
    if (!(await connected)) return this.#say("The server refused the connection: try again in a moment.", true);
    this.$("studio-name-form").hidden = true;
    this.#say("");
    if (this.pending) this.#playAs(this.pending);
  }

  #say(text, bad = false) {
    const status = this.$("studio-status");
    status.textContent = text;
    status.classList.toggle("bad", bad);
  }
}

let view = null; // made once: the studio keeps its music while the page lives

/** The shell's roundless view at /studio (main.js): drawn into the container; returns its close(). */
export function studio(container, ctx) {
  view ??= new Studio(ctx);
  view.open(container);
  // for the browser tests (and curious players): the tune recorded and the piece on screen
  ctx.studio = { tune: () => view.tune.tune, current: () => view.current, values: () => view.values() };
  return () => view.close();
}
