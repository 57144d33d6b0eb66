// The studio's pure logic (src/studio_notes.js): a tune played in time quantized to the 16th grid
// (start and end snapped, one note at a time, the count-in and the end left out), its key guessed,
// the Piece JSON it becomes, the music sent for a choice (only what the player set by hand).
// Run: node --test web_client/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import * as s from "../src/studio_notes.js";

const T0 = 10; // the audio time the recording's first bar starts
const SPS = s.secondsPerStep(120); // 0.125 s a 16th at 120 bpm
const at = (step, off = 0) => T0 + step * SPS + off;

function recorder(bars = 2) {
  return new s.Recorder({ t0: T0, tempo: 120, stepsPerBar: 16, bars });
}

test("a note starts and ends on the nearest 16th", () => {
  const r = recorder();
  r.down(60, at(0, 0.04)); // a little late: still step 0
  r.up(60, at(3, -0.05)); // a little early: step 3
  r.down(62, at(4, 0.07)); // past half a step: step 5
  r.up(62, at(8, 0.01));
  assert.deepEqual(r.finish().map((n) => [n.pitch, n.start, n.end]), [[60, 0, 3], [62, 5, 8]]);
});

test("a press in the count-in's last half step counts as the first step; earlier ones and ones after the end do not", () => {
  const r = recorder(1);
  assert.equal(r.down(55, at(-2)), false);
  r.up(55, at(-1));
  r.down(60, at(0, -0.05));
  r.up(60, at(2));
  assert.equal(r.down(64, at(16, 0.01)), false); // the bar is over
  assert.deepEqual(r.finish().map((n) => [n.pitch, n.start, n.end]), [[60, 0, 2]]);
});

test("one note at a time: a new press cuts the note held", () => {
  const r = recorder();
  r.down(60, at(0));
  r.down(64, at(4)); // legato: 60 still held
  r.up(60, at(6)); // its release no longer counts
  r.up(64, at(8));
  assert.deepEqual(r.finish().map((n) => [n.pitch, n.start, n.end]), [[60, 0, 4], [64, 4, 8]]);
});

test("a note is at least a 16th long; a release that rounds past the next press is cut there", () => {
  const r = recorder();
  r.down(60, at(2));
  r.up(60, at(2, 0.01)); // a tap: one step
  r.down(62, at(6));
  r.up(62, at(9, 0.05)); // rounds to 9
  r.down(64, at(9, -0.05)); // rounds to 9 as well: not before the release
  r.up(64, at(12));
  assert.deepEqual(r.finish().map((n) => [n.pitch, n.start, n.end]), [[60, 2, 3], [62, 6, 9], [64, 9, 12]]);
});

test("two presses in the same 16th keep the later; a note held at the end is cut at the last step", () => {
  const r = recorder(1);
  r.down(60, at(4));
  r.down(67, at(4, 0.03)); // the same step: the first had no length
  r.up(67, at(6));
  r.down(65, at(14));
  assert.deepEqual(r.notesAt(at(15)).at(-1), { pitch: 65, start: 14, end: 15, velocity: 96 });
  assert.deepEqual(r.finish().map((n) => [n.pitch, n.start, n.end]), [[67, 4, 6], [65, 14, 16]]);
});

test("the metronome of each meter", () => {
  assert.deepEqual(s.meterBeats("4/4"), { beats: 4, stepsPerBeat: 4, stepsPerBar: 16 });
  assert.deepEqual(s.meterBeats("3/4"), { beats: 3, stepsPerBeat: 4, stepsPerBar: 12 });
  assert.deepEqual(s.meterBeats("6/8"), { beats: 2, stepsPerBeat: 6, stepsPerBar: 12 });
  assert.deepEqual(s.meterBeats("2/4"), { beats: 2, stepsPerBeat: 4, stepsPerBar: 8 });
});

test("the key of a tune: a G major scale, an A minor tune", () => {
  const notes = (pitches) => pitches.map((p, i) => ({ pitch: p, start: 4 * i, end: 4 * i + 4 }));
  assert.deepEqual(s.estimateKey(notes([67, 69, 71, 72, 74, 76, 78, 79, 74, 71, 67])), { tonic: 7, mode: "major" });
  assert.deepEqual(s.estimateKey(notes([69, 72, 76, 69, 71, 72, 74, 76, 72, 71, 69, 64, 69])), { tonic: 9, mode: "minor" });
  assert.deepEqual(s.estimateKey([]), { tonic: 0, mode: "major" });
});

test("a tune as Piece JSON", () => {
  const piece = s.tunePiece({ notes: [{ pitch: 62, start: 4, end: 8 }, { pitch: 60, start: 0, end: 4 }], tempo: 96, meter: "6/8", bars: 2, key: { tonic: 2, mode: "minor" } });
  assert.equal(piece.format, "melody-arcade.piece");
  assert.equal(piece.steps_per_bar, 12);
  assert.deepEqual(piece.melody, [{ pitch: 60, start: 0, end: 4, velocity: 96 }, { pitch: 62, start: 4, end: 8, velocity: 96 }]);
  assert.deepEqual(piece.key, { tonic: 2, mode: "minor" });
  assert.deepEqual(s.firstBars({ ...piece, melody: [...piece.melody, { pitch: 64, start: 12, end: 14 }] }, 1), [[60, 0, 4], [62, 4, 8]]);
});

test("the music of a choice is only what the player set by hand; instruments go together", () => {
  const values = { style: "scottish", tempo: 150, mood: "minor", key: 2, meter: "4/4", density: null, groove: null, melody: 110, chords: 0, bass: 33, drums: 0 };
  assert.deepEqual(s.choiceMusic(values, new Set()), {});
  assert.deepEqual(s.choiceMusic(values, new Set(["tempo", "density"])), { tempo: 150, density: null });
  assert.deepEqual(s.choiceMusic(values, new Set(["bass"])), { instruments: { melody: 110, chords: 0, bass: 33, drums: 0 } });
  assert.deepEqual(s.arrangementMusic(values), { style: "scottish", groove: null, density: null, instruments: { melody: 110, chords: 0, bass: 33, drums: 0 } });
});

test("the computer keyboard plays C to C; bars picked either way round", () => {
  assert.deepEqual(["a", "w", "s", "e", "d", "f", "t", "g", "y", "h", "u", "j", "k"].map((k) => s.KEYBOARD[k]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(s.barSpan(5, 2, 8), { first: 2, last: 5 });
  assert.deepEqual(s.barSpan(-1, 20, 8), { first: 0, last: 7 });
  const piece = { bars: 8, meter: "4/4", tempo: 150, key: { tonic: 2, mode: "minor" }, instruments: { melody: 1 } };
  assert.equal(s.pieceLine(piece, ["Piano", "Fiddle"]), "8 bars · 4/4 · 150 bpm · D minor · Fiddle");
});

test("a story's body: the sections in order, an empty description left out", () => {
  assert.deepEqual(s.storyBody([{ description: " jazz ", bars: 2 }, { description: "", bars: 4 }], 7), { story: { sections: [{ description: "jazz", bars: 2 }, { bars: 4 }], seed: 7 } });
  assert.ok(Number.isSafeInteger(s.storyBody([]).story.seed));
  assert.equal(s.DEMO_STORY.length, s.MAX_SECTIONS);
});

test("the page's seeds are integers a JavaScript number holds exactly", () => {
  assert.equal(s.freshSeed(() => 0), 0);
  assert.ok(Number.isSafeInteger(s.freshSeed(() => 0.999999999999)));
  assert.ok(s.freshSeed(() => 0.999999999999) > 2 ** 52);
});
