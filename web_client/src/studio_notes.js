// The studio's pure logic (no DOM, no sound, so node tests it: web_client/test/studio_notes.test.mjs):
// the options a player may choose and their names, the music sent for a choice (only the fields set
// by hand, so the description decides the rest), a tune played in time quantized to the 16th grid,
// its key guessed from its notes, the Piece JSON it becomes (docs/piece-json.md), and MusicLM's
// demo story.

import { DEFAULT_INSTRUMENTS } from "./sample_grid.js";

// The option values and their names (styles, moods, meters, densities, grooves, tempo limits, the
// General MIDI programs and kits) are the server's: GET /api/studio/choices.
export const PITCH_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
export const INSTRUMENT_PARTS = ["melody", "chords", "bass", "drums"];

export const STEPS_PER_BAR = { "2/4": 8, "3/4": 12, "4/4": 16, "6/8": 12 };
const BEAT_STEPS = { "2/4": 4, "3/4": 4, "4/4": 4, "6/8": 6 }; // 6/8 is felt in two dotted quarters
export const MAX_TUNE_BARS = 8; // the server keeps a tune's first 8 bars (game_server/studio.py)
export const MAX_BARS = 16;

/** The metronome of a meter: beats a bar and 16th steps a beat. */
export function meterBeats(meter) {
  const steps = STEPS_PER_BAR[meter], beat = BEAT_STEPS[meter];
  return { beats: steps / beat, stepsPerBeat: beat, stepsPerBar: steps };
}

export const secondsPerStep = (tempo) => 60 / (tempo * 4); // tempo: quarter notes a minute

/** The computer keyboard as a piano (as in most music programs): the home row the white keys, the
 * row above the black ones, from C to the C above; z and x move it an octave down and up. */
export const KEYBOARD = { a: 0, w: 1, s: 2, e: 3, d: 4, f: 5, t: 6, g: 7, y: 8, h: 9, u: 10, j: 11, k: 12 };
export const OCTAVE_KEYS = { z: -12, x: 12 };
export const LOWEST_BASE = 36, HIGHEST_BASE = 84; // the keyboard's C, C2..C6: MIDI notes a melody uses

/** The music sent with a choice: only the fields the player set by hand (`touched`), so that the
 * words decide the rest (the server lets the choice's fields win over the description's). The
 * instruments travel as one object: when any part was set by hand, every part's current value. */
export function choiceMusic(values, touched) {
  const music = {};
  for (const field of touched) {
    if (INSTRUMENT_PARTS.includes(field)) music.instruments = Object.fromEntries(INSTRUMENT_PARTS.map((p) => [p, values[p]]));
    else music[field] = values[field];
  }
  return music;
}

/** The arrangement a tune is given (POST /api/studio/tune's `music`): style, groove, density and
 * sounds as the controls show them; the tune keeps its own tempo, meter and key. */
export function arrangementMusic(values) {
  return { style: values.style, groove: values.groove, density: values.density, instruments: Object.fromEntries(INSTRUMENT_PARTS.map((p) => [p, values[p]])) };
}

/** The 16th step nearest to audio time `t` of a grid starting at `t0`. */
export function quantize(t, t0, sps) {
  return Math.round((t - t0) / sps) || 0; // never -0: a step is a JSON number a person reads
}

/** A melody played in time, one note at a time, quantized to the 16th grid: a press starts a note
 * on the nearest step, its release ends it on the nearest step (at least one step long), and a new
 * press cuts the note still held. Presses before the grid's first half step (the count-in) and
 * after its end are not recorded. Times are audio seconds. */
export class Recorder {
  constructor({ t0, tempo, stepsPerBar, bars }) {
    this.t0 = t0;
    this.sps = secondsPerStep(tempo);
    this.total = stepsPerBar * bars;
    this.notes = []; // {pitch, start, end, velocity}
    this.held = null; // the note sounding: {pitch, start}
  }

  #end(step) {
    const held = this.held;
    this.held = null;
    const end = Math.min(this.total, Math.max(step, held.start + 1));
    // a press in the same 16th as the one before replaces it: no note of no length
    if (end > held.start) this.notes.push({ pitch: held.pitch, start: held.start, end, velocity: 96 });
  }

  down(pitch, t) {
    const step = quantize(t, this.t0, this.sps);
    if (step < 0 || step >= this.total) return false;
    if (this.held) {
      this.held.start === step ? (this.held = null) : this.#end(step);
    }
    const last = this.notes.at(-1);
    if (last && last.start === step) this.notes.pop(); // released, and pressed again, within one 16th
    else if (last && last.end > step) last.end = step;
    this.held = { pitch, start: step };
    return true;
  }

  up(pitch, t) {
    if (this.held?.pitch !== pitch) return; // a key the next press has cut already
    this.#end(quantize(t, this.t0, this.sps));
  }

  /** The recording's end: a note still held is cut there. */
  finish() {
    if (this.held) this.#end(this.total);
    return this.notes;
  }

  /** The notes so far, the held one up to `t` (to draw while playing). */
  notesAt(t) {
    if (!this.held) return this.notes;
    const now = Math.min(this.total, Math.max(this.held.start + 1, quantize(t, this.t0, this.sps)));
    return [...this.notes, { pitch: this.held.pitch, start: this.held.start, end: now, velocity: 96 }];
  }
}

// Krumhansl and Kessler's key profiles: how well each scale degree fits a major or minor key.
const PROFILES = {
  major: [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
  minor: [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
};

function correlation(a, b) {
  const mean = (v) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a), mb = mean(b);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/** The key a melody sounds in (Krumhansl–Schmuckler: its pitch classes, weighted by length, against
 * each key's profile), for a tune whose player chose none: the composer continues it in that key. */
export function estimateKey(notes) {
  const weights = new Array(12).fill(0);
  for (const n of notes) weights[n.pitch % 12] += n.end - n.start;
  let best = { tonic: 0, mode: "major" }, score = -Infinity;
  for (const mode of Object.keys(PROFILES)) {
    for (let tonic = 0; tonic < 12; tonic++) {
      const profile = PROFILES[mode].map((_, i) => PROFILES[mode][(i - tonic + 12) % 12]);
      const r = correlation(weights, profile);
      if (r > score + 1e-9) [best, score] = [{ tonic, mode }, r];
    }
  }
  return best;
}

/** A tune as Piece JSON (docs/piece-json.md): the notes recorded, nothing else. */
export function tunePiece({ notes, tempo, meter, bars, key = null, instruments = DEFAULT_INSTRUMENTS }) {
  return {
    format: "melody-arcade.piece", version: 1, tempo, meter, key: key ?? estimateKey(notes), bars, steps_per_bar: STEPS_PER_BAR[meter],
    melody: [...notes].sort((a, b) => a.start - b.start).map((n) => ({ pitch: n.pitch, start: n.start, end: n.end, velocity: n.velocity ?? 96 })),
    chords: [], drums: [], instruments: { ...instruments },
  };
}

/** The notes of `piece` that start in its first `bars` bars, as [pitch, start, end]: what the server
 * must keep of a tune it continued. */
export function firstBars(piece, bars) {
  const end = bars * piece.steps_per_bar;
  return piece.melody.filter((n) => n.start < end).map((n) => [n.pitch, n.start, n.end]);
}

/** Bars a..b picked either way round on the roll: {first, last}, 0-based, inside the piece. */
export function barSpan(a, b, bars) {
  const clamp = (x) => Math.max(0, Math.min(bars - 1, x));
  return { first: clamp(Math.min(a, b)), last: clamp(Math.max(a, b)) };
}

/** What a piece is, in a line: "8 bars · 4/4 · 150 bpm · D minor · Fiddle" (`programs`: the GM names). */
export function pieceLine(piece, programs) {
  const parts = [`${piece.bars} bars`, piece.meter, `${piece.tempo} bpm`, `${PITCH_NAMES[piece.key.tonic]} ${piece.key.mode}`];
  if (piece.instruments) parts.push(programs[piece.instruments.melody]);
  return parts.join(" · ");
}

/** MusicLM's story-mode demo, section by section (bench/story.py plays the same), 2 bars each. */
export const DEMO_STORY = ["jazz", "pop", "rock", "death metal", "rap", "string quartet with violins", "epic movie soundtrack with drums", "scottish folk song with traditional instruments"];
export const MAX_SECTIONS = 8;
export const SECTION_BARS = [2, 8];

/** A seed for a piece, chosen by the page. The server draws its own up to 2^62, and a JavaScript
 * number holds integers exactly only up to 2^53: a seed the server drew would come back rounded
 * and start a round on another piece. One of ours, sent with the request, is the answer's seed. */
export function freshSeed(random = Math.random) {
  return Math.floor(random() * Number.MAX_SAFE_INTEGER);
}

/** POST /api/studio/story's body from the editor's sections ({description, bars}), with its seed. */
export function storyBody(sections, seed = freshSeed()) {
  return { story: { sections: sections.map((s) => ({ ...(s.description.trim() ? { description: s.description.trim() } : {}), bars: s.bars })), seed } };
}

/** POST /api/studio/<route> (docs/protocol.md, "The studio"): JSON in, or a MIDI file's bytes
 * (`midi`); the answer's Response. A refusal throws an Error with the server's message and `code`,
 * for the page to show as it is. */
export async function studioApi(route, body, { midi = false } = {}) {
  const response = await fetch(`/api/studio/${route}`, {
    method: "POST",
    headers: { "Content-Type": midi ? "audio/midi" : "application/json" },
    body: midi ? body : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = (await response.json().catch(() => null))?.error ?? { code: `http_${response.status}`, message: `the server answered ${response.status} ${response.statusText}`.trim() };
    throw Object.assign(new Error(error.message), { code: error.code });
  }
  return response;
}
