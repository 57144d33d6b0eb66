// The studio's "Your tune": a melody played in on an on-screen keyboard (two octaves, by pointer or
// touch) or on the computer keyboard (A W S E D F T G Y H U J K from C to C; Z and X an octave down
// and up), recorded against a metronome at the chosen tempo and meter (a bar of count-in, an
// accented downbeat), 1..8 bars, quantized to the 16th grid, one note at a time
// (studio_notes.js's Recorder); or a MIDI file uploaded (POST /api/studio/midi: the server reads
// its melody line, its first 8 bars). Then "Continue it" or "Vary it" (POST /api/studio/tune) in the
// music chosen in the studio's options: the answer becomes the studio's current piece, the tune's
// bars marked on its roll (the server keeps them note for note).
import * as audio from "./audio.js";
import { fromTemplate } from "./games/kit.js";
import { Roll } from "./studio_roll.js";
import * as n from "./studio_notes.js";

const TICK_MS = 30; // how often the recording's clock is read (count-in, bar, notes drawn)
const START_DELAY = 0.25; // s from "Record" to the count-in's first click
const KEY_SOUND_STEPS = 3; // a key played sounds a dotted 8th: the synth cannot be held for as long as the key
const DEFAULT_TEMPO = 100; // bpm to record at when the options leave the tempo to the style

const RECORDER = `
<div id="studio-tune" class="panel studio-tune" data-phase="idle">
  <h3>Your tune</h3>
  <p class="hint">Play a melody on the keys below (mouse or touch) or on your computer keyboard: <kbd>A</kbd> <kbd>W</kbd> <kbd>S</kbd> <kbd>E</kbd> <kbd>D</kbd> <kbd>F</kbd> <kbd>T</kbd> <kbd>G</kbd> <kbd>Y</kbd> <kbd>H</kbd> <kbd>U</kbd> <kbd>J</kbd> <kbd>K</kbd> from C to C, <kbd>Z</kbd> <kbd>X</kbd> an octave down or up. Record it against the metronome (one bar of count-in first), or upload a MIDI file.</p>
  <div class="row studio-tune-controls">
    <label>Bars <select id="studio-tune-bars"></select></label>
    <span id="studio-tune-time" class="hint"></span>
    <button id="studio-record" type="button">● Record</button>
    <button id="studio-tune-play" type="button" class="secondary" disabled>▶ Play the tune</button>
    <button id="studio-tune-clear" type="button" class="secondary" disabled>Clear</button>
    <label class="studio-upload">Upload a MIDI file <input id="studio-midi" type="file" accept=".mid,.midi,audio/midi,audio/x-midi"></label>
  </div>
  <p id="studio-tune-status" class="studio-status" role="status" aria-live="polite"></p>
  <div id="studio-tune-roll"></div>
  <div class="row studio-octave">
    <button id="studio-octave-down" type="button" class="secondary" aria-label="An octave down (Z)">◀ Z</button>
    <span>Keys from <b id="studio-octave">C4</b></span>
    <button id="studio-octave-up" type="button" class="secondary" aria-label="An octave up (X)">X ▶</button>
  </div>
  <div id="studio-keys" class="studio-keys" aria-label="Piano keyboard, two octaves"></div>
</div>`;

const ACTIONS = `
<div id="studio-tune-actions" class="panel studio-tune-actions">
  <p class="hint">Your tune, in the music chosen above (style, groove, density, instruments; the tune keeps its own tempo, meter and key):</p>
  <div class="row">
    <label>Continue it to <select id="studio-continue-bars"></select> bars</label>
    <button id="studio-continue" type="button" disabled>Continue it</button>
  </div>
  <div class="row">
    <label>Vary it by <input id="studio-amount" type="range" min="0" max="1" step="0.05" value="0.3"> <b id="studio-amount-value">30 %</b></label>
    <button id="studio-vary" type="button" disabled>Vary it</button>
  </div>
</div>`;

const WHITE = [0, 2, 4, 5, 7, 9, 11];
const LETTER = Object.fromEntries(Object.entries(n.KEYBOARD).map(([k, offset]) => [offset, k.toUpperCase()]));
const noteName = (pitch) => `${n.PITCH_NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;

export class TuneView {
  /** `options()`: the studio's choice ({style, tempo, meter, key, mood, melody, ...}, studio_notes.js);
   * `onPiece(piece, start, {marked, title, seed})`: a continued or varied tune becomes the studio's piece. */
  constructor(ctx, { options, onPiece }) {
    this.ctx = ctx;
    this.options = options;
    this.onPiece = onPiece;
    this.root = fromTemplate(RECORDER);
    this.actions = fromTemplate(ACTIONS);
    const $ = (id) => this.root.querySelector(`#${id}`) ?? this.actions.querySelector(`#${id}`);
    this.el = { bars: $("studio-tune-bars"), time: $("studio-tune-time"), record: $("studio-record"), play: $("studio-tune-play"), clear: $("studio-tune-clear"),
      midi: $("studio-midi"), status: $("studio-tune-status"), keys: $("studio-keys"), octave: $("studio-octave"), continueBars: $("studio-continue-bars"),
      continue: $("studio-continue"), vary: $("studio-vary"), amount: $("studio-amount"), amountValue: $("studio-amount-value") };
    this.el.bars.replaceChildren(...Array.from({ length: n.MAX_TUNE_BARS }, (_, i) => new Option(String(i + 1), i + 1)));
    this.el.bars.value = "2";
    this.roll = new Roll({ label: "Your tune" });
    $("studio-tune-roll").append(this.roll.root);
    this.tune = null; // Piece JSON of the tune recorded or uploaded
    this.rec = null; // the recording in progress
    this.base = 60; // the keyboard's lowest C
    this.held = new Map(); // a key or a pointer -> the pitch it holds
    this.#buildKeys();
    const on = (el, event, fn) => el.addEventListener(event, fn);
    on(this.el.record, "click", () => (this.rec ? this.#finish(true) : this.#record()));
    on(this.el.play, "click", () => this.#playTune());
    on(this.el.clear, "click", () => this.#setTune(null));
    on(this.el.midi, "change", () => this.#upload());
    on($("studio-octave-down"), "click", () => this.#octave(-12));
    on($("studio-octave-up"), "click", () => this.#octave(12));
    on(this.el.continue, "click", () => this.#arrange("continue"));
    on(this.el.vary, "click", () => this.#arrange("vary"));
    on(this.el.amount, "input", () => (this.el.amountValue.textContent = `${Math.round(Number(this.el.amount.value) * 100)} %`));
    this.onKey = (e) => this.#key(e);
    this.#setTune(null);
    this.showTiming();
  }

  /** While the tune tab is shown: the computer keyboard plays. */
  listen(on) {
    for (const type of ["keydown", "keyup"]) (on ? addEventListener : removeEventListener)(type, this.onKey);
    if (on) this.prepareKeys();
    if (!on) {
      this.#finish(true);
      for (const pitch of this.held.values()) this.#release(pitch);
      this.held.clear();
      for (const key of this.el.keys.querySelectorAll(".down")) key.classList.remove("down");
    }
  }

  /** The tempo and meter a recording takes, from the studio's options. */
  timing() {
    const o = this.options();
    return { tempo: o.tempo ?? DEFAULT_TEMPO, meter: o.meter };
  }

  showTiming() {
    const { tempo, meter } = this.timing();
    this.el.time.textContent = `at ${tempo} bpm in ${meter} (the tempo and meter below)`;
  }

  // --- the keyboards ----------------------------------------------------------------------------

  #buildKeys() {
    const keys = [];
    let white = 0;
    for (let offset = 0; offset <= 24; offset++) {
      const isWhite = WHITE.includes(offset % 12);
      const key = document.createElement("div");
      key.className = `key ${isWhite ? "white" : "black"}`;
      key.dataset.offset = offset;
      // black keys sit on the line between two white ones: their place in white-key widths
      key.style.setProperty("--at", isWhite ? white : white - 0.3);
      if (isWhite) white += 1;
      if (LETTER[offset]) key.dataset.letter = LETTER[offset];
      keys.push(key);
    }
    this.el.keys.style.setProperty("--whites", white);
    this.el.keys.replaceChildren(...keys);
    const keyOf = (e) => e.target.closest?.(".key");
    const lift = (e) => {
      const pitch = this.held.get(`p${e.pointerId}`);
      if (pitch === undefined) return;
      this.held.delete(`p${e.pointerId}`);
      this.#release(pitch);
    };
    this.el.keys.addEventListener("pointerdown", (e) => {
      const key = keyOf(e);
      if (!key || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault(); // no focus, no text selection, no scrolling under a finger
      lift(e);
      const pitch = this.base + Number(key.dataset.offset);
      this.held.set(`p${e.pointerId}`, pitch);
      this.#press(pitch);
    });
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) this.el.keys.addEventListener(type, lift);
    this.el.keys.addEventListener("contextmenu", (e) => e.preventDefault());
    this.#octave(0);
  }

  /** The samples of the keyboard's two octaves on the chosen melody instrument, loaded ahead so
   * that the first keys played sound as the piece will (audio.js plays synths until they are in). */
  prepareKeys() {
    audio.prepare({ ...this.#blank(), melody: Array.from({ length: 25 }, (_, i) => ({ pitch: this.base + i, start: i, end: i + 1, velocity: 100 })) });
  }

  #octave(by) {
    this.base = Math.max(n.LOWEST_BASE, Math.min(n.HIGHEST_BASE - 12, this.base + by));
    if (by) this.prepareKeys();
    this.el.octave.textContent = noteName(this.base);
    for (const key of this.el.keys.children) key.setAttribute("aria-label", noteName(this.base + Number(key.dataset.offset)));
  }

  #key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.("input, textarea, select, [contenteditable]")) return;
    const k = e.key.toLowerCase();
    if (e.type === "keydown" && n.OCTAVE_KEYS[k] !== undefined) {
      if (!e.repeat) this.#octave(n.OCTAVE_KEYS[k]);
      return;
    }
    if (n.KEYBOARD[k] === undefined) return;
    e.preventDefault();
    if (e.type === "keydown") {
      if (e.repeat || this.held.has(k)) return;
      const pitch = this.base + n.KEYBOARD[k];
      this.held.set(k, pitch);
      this.#press(pitch);
    } else if (this.held.has(k)) {
      const pitch = this.held.get(k);
      this.held.delete(k);
      this.#release(pitch);
    }
  }

  /** A key pressed: heard at once, and recorded when a recording runs (at the audio clock, less
   * the latency the player calibrated: they press when they hear the click, that late). */
  #press(pitch) {
    audio.unlock();
    this.#light(pitch, true);
    const t = audio.now();
    const sound = { ...this.#blank(), melody: [{ pitch, start: 0, end: KEY_SOUND_STEPS, velocity: 100 }] };
    if (this.rec) {
      this.rec.playback.piece(sound, t);
      if (this.rec.recorder.down(pitch, t - this.ctx.offset / 1000)) this.#drawRecording();
    } else new audio.Playback().piece(sound, t); // a new playback silences the last: one note at a time
  }

  #release(pitch) {
    this.#light(pitch, false);
    if (!this.rec) return;
    this.rec.recorder.up(pitch, audio.now() - this.ctx.offset / 1000);
    this.#drawRecording();
  }

  #light(pitch, down) {
    const key = this.el.keys.querySelector(`.key[data-offset="${pitch - this.base}"]`);
    key?.classList.toggle("down", down);
  }

  /** An empty piece in the chosen sounds (what a key played is sounded with). */
  #blank() {
    const o = this.options();
    const { tempo, meter } = this.timing();
    return n.tunePiece({ notes: [], tempo, meter, bars: 1, key: { tonic: 0, mode: "major" }, instruments: { melody: o.melody, chords: o.chords, bass: o.bass, drums: o.drums } });
  }

  // --- recording --------------------------------------------------------------------------------

  async #record() {
    if (this.starting) return; // a second click while the audio starts
    this.starting = true;
    try {
      await audio.unlock();
    } finally {
      this.starting = false;
    }
    audio.stopAll();
    const { tempo, meter } = this.timing();
    const bars = Number(this.el.bars.value);
    const { beats, stepsPerBeat, stepsPerBar } = n.meterBeats(meter);
    const beat = stepsPerBeat * n.secondsPerStep(tempo);
    const playback = new audio.Playback();
    const start = audio.now() + START_DELAY;
    for (let b = 0; b < beats * (bars + 1); b++) playback.tick(start + b * beat, b % beats === 0);
    const t0 = start + beats * beat;
    this.rec = { playback, start, t0, beat, beats, tempo, meter, bars, stepsPerBar, end: t0 + bars * beats * beat, recorder: new n.Recorder({ t0, tempo, stepsPerBar, bars }) };
    this.el.record.textContent = "■ Stop";
    this.el.record.classList.add("recording");
    this.#phase("count-in");
    this.#drawRecording();
    this.timer = setInterval(() => this.#tick(), TICK_MS);
  }

  #tick() {
    const rec = this.rec, t = audio.now();
    if (!rec) return;
    if (t >= rec.end) return this.#finish(false);
    if (t < rec.t0) {
      this.#say(`Count-in: ${Math.ceil((rec.t0 - t) / rec.beat)}…`);
      return;
    }
    if (this.phase !== "recording") this.#phase("recording");
    const beat = Math.floor((t - rec.t0) / rec.beat);
    this.#say(`Recording: bar ${Math.floor(beat / rec.beats) + 1} of ${rec.bars}, beat ${(beat % rec.beats) + 1}`);
    if (rec.recorder.held) this.#drawRecording();
  }

  #drawRecording() {
    const rec = this.rec;
    const piece = n.tunePiece({ notes: rec.recorder.notesAt(audio.now()), tempo: rec.tempo, meter: rec.meter, bars: rec.bars, key: { tonic: 0, mode: "major" } });
    this.roll.show(piece, { range: this.#range(piece) });
  }

  /** The recording's end (its last bar, or "Stop"): its notes become the tune. */
  #finish(stopped) {
    const rec = this.rec;
    if (!rec) return;
    this.rec = null;
    clearInterval(this.timer);
    this.el.record.textContent = "● Record";
    this.el.record.classList.remove("recording");
    if (stopped) rec.playback.stop();
    const notes = rec.recorder.finish();
    if (!notes.length) {
      this.#setTune(null);
      return this.#say("No notes were recorded: press Record, wait for the count-in, and play.", true);
    }
    const o = this.options();
    const key = o.key !== null && o.mood ? { tonic: o.key, mode: o.mood } : null; // none chosen: guessed from the notes
    this.#setTune(n.tunePiece({ notes, tempo: rec.tempo, meter: rec.meter, bars: rec.bars, key, instruments: { melody: o.melody, chords: o.chords, bass: o.bass, drums: o.drums } }));
    this.#say(`Recorded ${notes.length} notes in ${rec.bars} bar${rec.bars === 1 ? "" : "s"}, in ${n.PITCH_NAMES[this.tune.key.tonic]} ${this.tune.key.mode}: continue it or vary it below.`);
  }

  #phase(phase) {
    this.phase = phase;
    this.root.dataset.phase = phase;
  }

  #setTune(tune) {
    this.tune = tune;
    this.#phase(tune ? "done" : "idle");
    this.roll.show(tune ?? n.tunePiece({ notes: [], ...this.timing(), bars: Number(this.el.bars.value), key: { tonic: 0, mode: "major" } }), { range: tune ? this.#range(tune) : {} });
    this.el.play.disabled = this.el.clear.disabled = this.el.continue.disabled = this.el.vary.disabled = !tune;
    if (!tune) return;
    const options = [];
    for (let bars = tune.bars + 1; bars <= n.MAX_BARS; bars++) options.push(new Option(String(bars), bars));
    this.el.continueBars.replaceChildren(...options);
    this.el.continueBars.value = String(tune.bars < 8 ? 8 : n.MAX_BARS);
  }

  /** Pitches drawn: the notes', at least an octave, so that a few notes are not drawn huge. */
  #range(piece) {
    const pitches = piece.melody.map((x) => x.pitch);
    if (!pitches.length) return { lowest: this.base, highest: this.base + 12 };
    let lowest = Math.min(...pitches), highest = Math.max(...pitches);
    const widen = Math.max(0, 12 - (highest - lowest));
    lowest -= Math.floor(widen / 2);
    highest += Math.ceil(widen / 2);
    return { lowest, highest };
  }

  #playTune() {
    if (!this.tune) return;
    audio.unlock();
    const seconds = audio.duration(this.tune);
    audio.play(this.tune, { onEnd: () => this.roll.stopPlayhead() });
    this.roll.playhead(audio.now() + 0.1, seconds);
  }

  // --- a MIDI file --------------------------------------------------------------------------------

  async #upload() {
    const file = this.el.midi.files[0];
    if (!file) return;
    this.el.midi.value = ""; // the same file may be chosen again
    this.#say(`Reading ${file.name}…`);
    try {
      const read = await (await n.studioApi("midi", await file.arrayBuffer(), { midi: true })).json();
      this.#setTune(read.piece);
      const cut = read.cut ? ` — first ${read.piece.bars} bars kept (the file has ${read.bars_in_file})` : "";
      this.#say(`${file.name}: ${read.piece.melody.length} notes in ${read.piece.bars} bars, ${read.piece.tempo} bpm, ${read.piece.meter}${cut}.`);
    } catch (error) {
      this.#say(`${file.name} was not taken: ${error.message}`, true);
      this.root.querySelector("#studio-tune-status").dataset.code = error.code ?? "";
    }
  }

  // --- continue it, vary it -----------------------------------------------------------------------

  async #arrange(how) {
    if (!this.tune) return;
    const body = { piece: this.tune, how, music: { ...n.arrangementMusic(this.options()), seed: n.freshSeed() } };
    if (how === "continue") body.bars = Number(this.el.continueBars.value);
    else body.amount = Number(this.el.amount.value);
    this.el.continue.disabled = this.el.vary.disabled = true;
    this.#say(how === "continue" ? `Continuing your tune to ${body.bars} bars…` : "Varying your tune…");
    try {
      const made = await (await n.studioApi("tune", body)).json();
      // continued, the tune's own bars come back note for note: they are marked on the roll
      const kept = how === "continue" ? new Set(Array.from({ length: this.tune.bars }, (_, i) => i)) : new Set();
      this.onPiece(made.piece, { piece: made.piece }, { marked: kept, title: how === "continue" ? "Your tune, continued" : "Your tune, varied", seed: made.seed });
      this.#say(how === "continue" ? `Continued to ${made.piece.bars} bars: your ${this.tune.bars} are kept as you played them.` : "Varied: the piece below.");
    } catch (error) {
      this.#say(`${error.message} (${error.code})`, true);
    } finally {
      this.el.continue.disabled = this.el.vary.disabled = !this.tune;
    }
  }

  #say(text, bad = false) {
    this.el.status.textContent = text;
    this.el.status.classList.toggle("bad", bad);
    if (!bad) delete this.el.status.dataset.code;
  }
}
