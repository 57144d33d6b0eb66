// Sound from the piece itself: melody, chords, bass and drums on the piece's own instruments
// (its General MIDI programs and kit), from samples the server renders with its SoundFont
// (game_server/sounds.py; sample_grid.js says which, music/sampler.py how they are played); and
// sounds the server renders (a Sort clip that is heard only: its notes never reach the page),
// fetched once, played through the same output.
// Samples are loaded ahead (`prepare`, when a round starts) and kept for the page's life. A note
// whose sample is not loaded yet, or cannot be (a server without the SoundFont, a failed load),
// is played by Tone.js synths instead, as the page did before it had samples: the page never
// waits for a sample and never goes silent. The server falls back the same way for its sounds.
// One set of instruments lives as long as the page. A playback is a list of notes handed to the
// instruments just before they sound (a look-ahead scheduler, as Tone's own Transport does):
// synths given notes far in the future, then disposed or given more, throw from the audio thread
// once those notes end. So stopping a playback is forgetting its notes not yet handed over and
// releasing what sounds; nothing is ever disposed. The audio clock (the AudioContext's
// currentTime) is the clock the games read.
import { CHORD_INTERVALS, SAMPLED_GAIN, SAMPLE_RELEASE, chordNotes, drumAddress, gain, instrumentsAt, nearestGridNote, noteAddress, samplesFor } from "./sample_grid.js";

const Tone = window.Tone;

// The nine drum classes (music.DRUM_CLASSES), each its own synth, so that each is heard and told
// apart. music/audio.py renders the same nine for the sounds the server sends (a Sort clip heard
// only, Beat Hunt's target), which players compare with these by ear: change both together.
// `hit(synth, time, velocity)` plays one hit; `through`: a filter between the synth and the output.
const metal = (decay, release, options = {}) => new Tone.MetalSynth({ envelope: { attack: 0.001, decay, release }, harmonicity: 5.1, resonance: 4000, ...options });
const membrane = () => new Tone.MembraneSynth({ pitchDecay: 0.02 });
const tom = (note) => ({ synth: membrane, volume: -16, hit: (s, t, v) => s.triggerAttackRelease(note, "16n", t, v) });
export const DRUMS = {
  kick: { synth: () => new Tone.MembraneSynth(), volume: -8, hit: (s, t, v) => s.triggerAttackRelease("C1", "16n", t, v) },
  snare: { synth: () => new Tone.NoiseSynth({ envelope: { attack: 0.001, decay: 0.15, sustain: 0 } }), volume: -18, hit: (s, t, v) => s.triggerAttackRelease("16n", t, v) },
  closed_hat: { synth: () => metal(0.05, 0.01), volume: -30, hit: (s, t, v) => s.triggerAttackRelease("C6", "32n", t, v * 0.6) },
  open_hat: { synth: () => metal(0.4, 0.05), volume: -34, hit: (s, t, v) => s.triggerAttackRelease("C6", 0.4, t, v * 0.6) },
  low_tom: tom("G2"),
  mid_tom: tom("C3"),
  high_tom: tom("F3"),
  crash: {
    synth: () => new Tone.NoiseSynth({ envelope: { attack: 0.001, decay: 1.5, sustain: 0, release: 0.2 } }),
    through: () => new Tone.Filter({ type: "highpass", frequency: 3000, Q: 0 }),
    volume: -28,
    hit: (s, t, v) => s.triggerAttackRelease(1.5, t, v),
  },
  ride: { synth: () => metal(1.2, 0.2, { modulationIndex: 0, resonance: 2500, octaves: 0 }), volume: -38, hit: (s, t, v) => s.triggerAttackRelease(400, 1.2, t, v) },
};
const RINGING = ["open_hat", "crash", "ride"]; // the drums still sounding a while after their step
const LOOK_AHEAD = 0.2; // seconds: notes are handed to the synths this long before they sound
const TOO_LATE = 0.05; // a note whose time passed by more than this is dropped, not played late
const SCHEDULE_EVERY = 0.025; // seconds between two passes of the scheduler

let started = false;
let instruments = null;
let output = null; // the one output gain every instrument and sound goes through
let sampledOutput = null; // the samples' gain, into the output
let soundsStarted = 0; // rendered sounds started so far (the browser tests read it)
const notesPlayed = { sampled: 0, synth: 0 }; // notes and hits handed over so far, by what played them (the browser tests read it)
const sounds = new Map(); // address -> Promise of its decoded ToneAudioBuffer
let bank = null; // Promise of GET /api/sounds: {available, grid}, asked once a page (again after a network error)
let grid = null; // the notes the server samples a program at ({lowest, highest, step}), once it said it has samples
const samples = new Map(); // sample address -> its loaded ToneAudioBuffer, kept for the page's life
const loading = new Map(); // sample address -> Promise of its load under way
const failedAt = new Map(); // sample address -> when its last load failed (it is asked for again after RETRY_MS)
const RETRY_MS = 10000; // a load that failed (or a server that could not be reached) is tried again after this
const ringing = {}; // drum -> {source, at} of its last sampled hit still sounding (the next one cuts it)
const stopping = new WeakMap(); // a source -> the time it was told to stop at
let sounding = null; // the one playback that may sound: a new one silences the last
const lastAt = {}; // voice -> the latest time handed to it: a synth's events must come in time order

/** Start the audio context; browsers allow it only from a user gesture (a click or key). */
export async function unlock() {
  if (!started) {
    await Tone.start();
    started = true;
  }
}

/** Seconds on the audio clock; a page whose audio cannot run falls back to the page clock. */
export function now() {
  const raw = Tone.getContext().rawContext;
  return raw.state === "running" ? raw.currentTime : performance.now() / 1000;
}

/** At the piece's first tempo. */
export function secondsPerStep(piece) {
  return 60 / (piece.tempo * 4);
}

/** Seconds from a piece's start to a step, at its tempo and tempo changes (a story's sections),
 * as music/piece.py's Piece.seconds_at: `secondsAt(piece)(step)`. */
export function secondsAt(piece) {
  const spans = [[0, piece.tempo], ...(piece.tempo_changes || []).map(({ bar, tempo }) => [bar * piece.steps_per_bar, tempo])];
  return (step) => {
    let seconds = 0;
    for (let i = 0; i < spans.length; i++) {
      const [start, tempo] = spans[i];
      const end = i + 1 < spans.length ? spans[i + 1][0] : Infinity;
      seconds += ((Math.min(step, end) - start) * 60) / (tempo * 4);
      if (step <= end) break;
    }
    return seconds;
  };
}

/** How long a piece lasts: its bars, at its tempi. */
export function duration(piece) {
  return secondsAt(piece)(piece.bars * piece.steps_per_bar);
}

const midiHz = (pitch) => 440 * 2 ** ((pitch - 69) / 12);

/** The page's instruments, made once, on first use, and kept. */
function instrumentsOnce() {
  if (instruments) return instruments;
  const out = (output = new Tone.Gain(0.8).toDestination());
  const make = (synth, volume, through) => {
    synth.volume.value = volume;
    if (through) synth.chain(through, out);
    else synth.connect(out);
    return synth;
  };
  instruments = {
    melody: make(new Tone.Synth({ oscillator: { type: "triangle" }, envelope: { attack: 0.005, decay: 0.12, sustain: 0.35, release: 0.15 } }), 0),
    chords: make(new Tone.PolySynth(Tone.Synth, { oscillator: { type: "sine" }, envelope: { attack: 0.02, decay: 0.3, sustain: 0.4, release: 0.4 } }), -14),
    bass: make(new Tone.MonoSynth({ oscillator: { type: "square" }, filter: { Q: 1, type: "lowpass" }, envelope: { attack: 0.01, decay: 0.2, sustain: 0.5, release: 0.2 } }), -16),
    click: make(new Tone.Synth({ oscillator: { type: "square" }, envelope: { attack: 0.001, decay: 0.04, sustain: 0, release: 0.01 } }), -10),
  };
  for (const [drum, d] of Object.entries(DRUMS)) instruments[drum] = make(d.synth(), d.volume, d.through?.());
  sampledOutput = new Tone.Gain(SAMPLED_GAIN).connect(out);
  Tone.getContext().setInterval(schedule, SCHEDULE_EVERY);
  return instruments;
}

/** Hand the sounding playback's notes that are due within the look-ahead to the synths. */
function schedule() {
  if (!sounding) return;
  const t = now();
  const notes = sounding.notes;
  let i = sounding.next;
  while (i < notes.length && notes[i].at < t + LOOK_AHEAD) {
    const note = notes[i++];
    if (note.at < t - TOO_LATE) continue;
    const time = Math.max(note.at, t, (lastAt[note.voice] ?? 0) + 0.001); // a synth starts strictly after its last start
    lastAt[note.voice] = time;
    note.play(time);
  }
  sounding.next = i;
}

/** A sound the server rendered (a heard-only clip), fetched and decoded once per address; a
 * failed load is tried again the next time it is asked for. */
export function loadSound(address) {
  if (!sounds.has(address)) {
    const loading = Tone.ToneAudioBuffer.fromUrl(address);
    loading.catch(() => sounds.delete(address));
    sounds.set(address, loading);
  }
  return sounds.get(address);
}

/** How many rendered sounds have started playing in this page. */
export function startedSounds() {
  return soundsStarted;
}

/** Notes and drum hits handed over so far: {sampled, synth}, by what played them. */
export function playedNotes() {
  return { ...notesPlayed };
}

/** What the server samples (GET /api/sounds), asked once; a page whose server has no SoundFont
 * asks for no sample (each refusal would be an error in the console) and plays its synths. */
function soundBank() {
  if (!bank) {
    bank = fetch("/api/sounds")
      .then((r) => (r.ok ? r.json() : { available: false }))
      .catch(() => {
        setTimeout(() => (bank = null), RETRY_MS); // the network: ask again a while later
        return { available: false };
      });
    bank.then((info) => {
      if (info.available) grid = info.grid;
    });
  }
  return bank;
}

/** Load the samples a piece (or a list of pieces) is played from: its programs' notes and its
 * kit's drums, each once a page. Resolves, never rejects, with how many of them are ready; one
 * that failed to load is asked for again by a `prepare` RETRY_MS later. Call it when a round's
 * music is known, so that its first notes find their samples ready. */
export async function prepare(pieces) {
  const info = await soundBank();
  if (!info.available) return 0;
  const wanted = samplesFor(pieces, info.grid);
  await Promise.all(wanted.map(loadSample));
  return wanted.filter((address) => samples.has(address)).length;
}

function loadSample(address) {
  if (samples.has(address) || performance.now() - (failedAt.get(address) ?? -Infinity) < RETRY_MS) return Promise.resolve();
  if (!loading.has(address)) {
    const load = Tone.ToneAudioBuffer.fromUrl(address)
      .then((buffer) => samples.set(address, buffer))
      .catch(() => failedAt.set(address, performance.now())) // the note is the synths' until a later prepare loads it
      .finally(() => loading.delete(address));
    loading.set(address, load);
  }
  return loading.get(address);
}

/** Stop a sample or a rendered sound at `time`, fading out, unless it is stopping earlier already:
 * a second stop would cancel the first one's fade (Tone reschedules it), and with notes handed
 * over ahead, a later cut could come before the earlier one has happened. */
function stopSource(source, time) {
  if ((stopping.get(source) ?? Infinity) <= time) return;
  stopping.set(source, time);
  source.stop(time);
}

/** The loaded sample a program's `pitch` is played from, and by how many semitones it is
 * repitched; null while it is not loaded (the synths play the note). */
function sampleOf(program, pitch) {
  if (!grid) return null;
  const note = nearestGridNote(pitch, grid);
  const buffer = samples.get(noteAddress(program, note));
  return buffer ? { buffer, semitones: pitch - note } : null;
}

export class Playback {
  constructor() {
    const kit = instrumentsOnce();
    if (sounding) sounding.stop();
    sounding = this;
    this.kit = kit;
    this.notes = []; // {at, play(time)}, sorted by `at` before each pass
    this.next = 0;
    this.endsAt = 0;
    this.sources = new Set(); // rendered sounds and samples playing
  }

  #add(at, voice, play) {
    const notes = this.notes;
    let i = notes.length;
    while (i > this.next && notes[i - 1].at > at) i--;
    notes.splice(i, 0, { at, voice, play });
  }

  /** Schedule a piece to start at audio time `when`; returns the time it ends. Each note is
   * played from its sample if that is loaded when the note is handed over (the samples are
   * asked for here too, for a piece no `prepare` announced), else by the synths. */
  piece(piece, when, { drums = true } = {}) {
    prepare(piece);
    const kit = this.kit;
    const sounds = instrumentsAt(piece);
    const seconds = secondsAt(piece);
    const at = (step) => when + seconds(step);
    const held = (a, b) => seconds(b) - seconds(a); // a sampled note: as long as in the MIDI file
    const len = (a, b) => Math.max(0.05, held(a, b) * 0.95); // a synth's note
    let last = when;
    for (const n of piece.melody) {
      this.#add(at(n.start), "melody", (t) => {
        const sample = sampleOf(sounds(n.start).melody, n.pitch);
        if (sample) this.#sample(sample, t, held(n.start, n.end), gain(n.velocity));
        else this.#synth(() => kit.melody.triggerAttackRelease(midiHz(n.pitch), len(n.start, n.end), t, n.velocity / 127));
      });
      last = Math.max(last, at(n.end));
    }
    for (const c of piece.chords || []) {
      const root = 48 + c.root;
      const voiced = chordNotes(c); // the MIDI file's voicing, which the samples play (the synths have their own)
      this.#add(at(c.start), "chords", (t) => {
        const chord = voiced.chords.map((n) => sampleOf(sounds(c.start).chords, n.pitch));
        if (chord.length && chord.every(Boolean)) chord.forEach((sample, i) => this.#sample(sample, t, held(c.start, c.end), gain(voiced.chords[i].velocity)));
        else this.#synth(() => kit.chords.triggerAttackRelease(CHORD_INTERVALS[c.quality].map((i) => midiHz(root + 12 + i)), len(c.start, c.end), t, 0.6));
        const bass = sampleOf(sounds(c.start).bass, voiced.bass.pitch);
        if (bass) this.#sample(bass, t, held(c.start, c.end), gain(voiced.bass.velocity));
        else this.#synth(() => kit.bass.triggerAttackRelease(midiHz(36 + c.root), len(c.start, c.end), t, 0.7));
      });
      last = Math.max(last, at(c.end));
    }
    if (drums) {
      const used = new Set();
      for (const d of piece.drums || []) {
        const drum = DRUMS[d.drum];
        if (!drum || used.has(`${d.drum}:${d.step}`)) continue; // one hit per voice per step: a synth plays one at a time
        used.add(`${d.drum}:${d.step}`);
        const v = d.velocity / 127;
        this.#add(at(d.step), d.drum, (t) => {
          const buffer = samples.get(drumAddress(sounds(d.step).drums, d.drum));
          if (buffer) return this.#hit(d.drum, buffer, t, gain(d.velocity));
          // a closed hat chokes the open hat struck before it (not one on its own step: both sound)
          if (d.drum === "closed_hat" && t > (lastAt.open_hat ?? Infinity)) kit.open_hat.triggerRelease(t);
          this.#synth(() => drum.hit(kit[d.drum], t, v));
        });
      }
    }
    this.endsAt = Math.max(this.endsAt, last);
    return last;
  }

  #synth(play) {
    notesPlayed.synth += 1;
    play();
  }

  /** A sample started at `time`, repitched by `semitones`, at `level`; faded out over
   * SAMPLE_RELEASE `held` seconds later, or left to ring out (`held` undefined). Kept with the
   * rendered sounds, so that `stop` silences it; Tone disposes it when it has ended. */
  #sample({ buffer, semitones }, time, held, level, ended = () => {}) {
    const rate = 2 ** (semitones / 12);
    const source = new Tone.ToneBufferSource({ url: buffer, playbackRate: rate, fadeOut: SAMPLE_RELEASE, curve: "linear" }).connect(sampledOutput);
    source.onended = () => {
      this.sources.delete(source);
      ended();
    };
    this.sources.add(source);
    source.start(time, 0, undefined, level);
    if (held !== undefined && held < buffer.duration / rate) stopSource(source, time + held);
    notesPlayed.sampled += 1;
    return source;
  }

  /** A drum's sampled hit, ringing out (General MIDI drums have no note-off) until the same
   * drum's next hit cuts it, as FluidSynth releases a voice struck again; a closed hat cuts the
   * open hat struck before it (not one on its own step: both sound). */
  #hit(drum, buffer, time, level) {
    for (const cut of drum === "closed_hat" ? [drum, "open_hat"] : [drum]) {
      const before = ringing[cut];
      if (before && before.at < time) stopSource(before.source, time);
    }
    const hit = { at: time };
    hit.source = this.#sample({ buffer, semitones: 0 }, time, undefined, level, () => ringing[drum] === hit && delete ringing[drum]);
    ringing[drum] = hit;
  }

  /** Schedule a rendered sound (a loaded ToneAudioBuffer) to start at audio time `when`, through
   * the instruments' output; returns the time it ends. */
  sound(buffer, when) {
    this.#add(when, "sound", (t) => {
      const source = new Tone.ToneBufferSource(buffer).connect(output);
      source.onended = () => this.sources.delete(source); // then Tone disposes it
      this.sources.add(source);
      source.start(t);
      soundsStarted += 1;
    });
    this.endsAt = Math.max(this.endsAt, when + buffer.duration);
    return when + buffer.duration;
  }

  /** A metronome click at `when` (accented on a downbeat). */
  tick(when, accent = false) {
    this.#add(when, "click", (t) => this.kit.click.triggerAttackRelease(accent ? 1760 : 880, 0.03, t, accent ? 0.9 : 0.5));
    this.endsAt = Math.max(this.endsAt, when + 0.1);
  }

  /** Silence it now: its notes not yet handed over are forgotten, the ones sounding released. */
  stop() {
    if (sounding !== this) return;
    sounding = null;
    this.notes = [];
    this.next = 0;
    const t = now();
    const release = (voice, synth) => {
      lastAt[voice] = Math.max(t, lastAt[voice] ?? 0);
      synth.triggerRelease(lastAt[voice]);
    };
    release("melody", this.kit.melody);
    release("click", this.kit.click);
    release("chords", this.kit.bass); // the bass is handed its notes with the chords
    for (const drum of RINGING) release(drum, this.kit[drum]);
    this.kit.chords.releaseAll(lastAt.chords);
    for (const source of this.sources) stopSource(source, t);
    this.sources.clear();
  }
}

/** Play one piece (or a list of pieces one after another) now, stopping whatever was playing.
 * An item may also be a loaded rendered sound (loadSound): it lasts its own length. */
export function play(pieces, { onEnd } = {}) {
  const playback = new Playback();
  let when = now() + 0.1;
  for (const item of [].concat(pieces)) {
    if (item instanceof Tone.ToneAudioBuffer) when = playback.sound(item, when);
    else {
      playback.piece(item, when);
      when += duration(item); // a clip lasts its bars
    }
  }
  if (onEnd) setTimeout(() => sounding === playback && onEnd(), (when - now()) * 1000);
  return playback;
}

export function stopAll() {
  if (sounding) sounding.stop();
}
