// Sound from the piece itself, with Tone.js synths (no sample files): melody, chords, bass, drums.
// Each playback gets its own synths behind one gain node, so stopping it cancels what it had
// scheduled. The audio clock (the AudioContext's currentTime) is the clock games read.
const Tone = window.Tone;

const DRUM_OF = { kick: "kick", snare: "snare", closed_hat: "hat", open_hat: "hat", ride: "hat", crash: "hat", low_tom: "tom", mid_tom: "tom", high_tom: "tom" };
const CHORD_INTERVALS = { maj: [0, 4, 7], min: [0, 3, 7], dim: [0, 3, 6], aug: [0, 4, 8], sus4: [0, 5, 7], dom7: [0, 4, 7, 10], maj7: [0, 4, 7, 11], min7: [0, 3, 7, 10] };

let started = false;

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

export function secondsPerStep(piece) {
  return 60 / (piece.tempo * 4);
}

const midiHz = (pitch) => 440 * 2 ** ((pitch - 69) / 12);

export class Playback {
  constructor() {
    this.out = new Tone.Gain(0.8).toDestination();
    this.melody = new Tone.Synth({ oscillator: { type: "triangle" }, envelope: { attack: 0.005, decay: 0.12, sustain: 0.35, release: 0.15 } }).connect(this.out);
    this.chords = new Tone.PolySynth(Tone.Synth, { oscillator: { type: "sine" }, envelope: { attack: 0.02, decay: 0.3, sustain: 0.4, release: 0.4 } }).connect(this.out);
    this.chords.volume.value = -14;
    this.bass = new Tone.MonoSynth({ oscillator: { type: "square" }, filter: { Q: 1, type: "lowpass" }, envelope: { attack: 0.01, decay: 0.2, sustain: 0.5, release: 0.2 } }).connect(this.out);
    this.bass.volume.value = -16;
    this.kick = new Tone.MembraneSynth().connect(this.out);
    this.kick.volume.value = -8;
    this.snare = new Tone.NoiseSynth({ envelope: { attack: 0.001, decay: 0.15, sustain: 0 } }).connect(this.out);
    this.snare.volume.value = -18;
    this.hat = new Tone.MetalSynth({ envelope: { attack: 0.001, decay: 0.05, release: 0.01 }, harmonicity: 5.1, resonance: 4000 }).connect(this.out);
    this.hat.volume.value = -30;
    this.tom = new Tone.MembraneSynth({ pitchDecay: 0.02 }).connect(this.out);
    this.tom.volume.value = -16;
    this.click = new Tone.Synth({ oscillator: { type: "square" }, envelope: { attack: 0.001, decay: 0.04, sustain: 0, release: 0.01 } }).connect(this.out);
    this.click.volume.value = -10;
    this.endsAt = 0;
  }

  /** Schedule a piece to start at audio time `when`; returns the time it ends. */
  piece(piece, when, { drums = true } = {}) {
    const sps = secondsPerStep(piece);
    const at = (step) => when + step * sps;
    const len = (a, b) => Math.max(0.05, (b - a) * sps * 0.95);
    let last = when;
    for (const n of piece.melody) {
      this.melody.triggerAttackRelease(midiHz(n.pitch), len(n.start, n.end), at(n.start), n.velocity / 127);
      last = Math.max(last, at(n.end));
    }
    for (const c of piece.chords || []) {
      const root = 48 + c.root;
      this.chords.triggerAttackRelease(CHORD_INTERVALS[c.quality].map((i) => midiHz(root + 12 + i)), len(c.start, c.end), at(c.start), 0.6);
      this.bass.triggerAttackRelease(midiHz(36 + c.root), len(c.start, c.end), at(c.start), 0.7);
      last = Math.max(last, at(c.end));
    }
    if (drums) {
      const used = new Set();
      for (const d of piece.drums || []) {
        const voice = DRUM_OF[d.drum];
        if (used.has(`${voice}:${d.step}`)) continue; // one hit per voice per step: a synth plays one at a time
        used.add(`${voice}:${d.step}`);
        const v = d.velocity / 127;
        if (voice === "kick") this.kick.triggerAttackRelease("C1", "16n", at(d.step), v);
        else if (voice === "snare") this.snare.triggerAttackRelease("16n", at(d.step), v);
        else if (voice === "tom") this.tom.triggerAttackRelease("G2", "16n", at(d.step), v);
        else this.hat.triggerAttackRelease("C6", "32n", at(d.step), v * 0.6);
      }
    }
    this.endsAt = Math.max(this.endsAt, last);
    return last;
  }

  /** A metronome click at `when` (accented on a downbeat). */
  tick(when, accent = false) {
    this.click.triggerAttackRelease(accent ? 1760 : 880, 0.03, when, accent ? 0.9 : 0.5);
    this.endsAt = Math.max(this.endsAt, when + 0.1);
  }

  /** Silence it now. The synths are disposed only once everything they had scheduled is past:
   * disposing a synth with events still scheduled makes the audio thread throw. */
  stop() {
    this.out.disconnect();
    const parts = [this.melody, this.chords, this.bass, this.kick, this.snare, this.hat, this.tom, this.click, this.out];
    setTimeout(() => parts.forEach((p) => p.dispose()), 1000 * (Math.max(0, this.endsAt - now()) + 1));
  }
}

let current = null;

/** Play one piece (or a list of pieces one after another) now, stopping whatever was playing. */
export function play(pieces, { onEnd } = {}) {
  stopAll();
  const playback = new Playback();
  current = playback;
  let when = now() + 0.1;
  for (const piece of [].concat(pieces)) {
    playback.piece(piece, when);
    when += piece.bars * piece.steps_per_bar * secondsPerStep(piece); // a clip lasts its bars
  }
  if (onEnd) setTimeout(() => current === playback && onEnd(), (when - now()) * 1000);
  return playback;
}

export function stopAll() {
  if (current) current.stop();
  current = null;
}
