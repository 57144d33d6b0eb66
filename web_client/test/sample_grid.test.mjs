// The page's sampled instruments, their pure parts (src/sample_grid.js): the grid note each pitch
// is played from, the samples a piece asks the server for (game_server/sounds.py's addresses),
// the MIDI file's voicing of a chord, and a note's gain.
// Run: node --test web_client/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { chordNotes, gain, instrumentsAt, instrumentsOf, nearestGridNote, samplesFor } from "../src/sample_grid.js";

const GRID = { lowest: 24, highest: 96, step: 3 }; // what GET /api/sounds answers

test("a pitch is played from the nearest grid note, at most a semitone away inside the grid", () => {
  assert.deepEqual([24, 25, 26, 27, 60, 61, 62, 63, 95, 96].map((p) => nearestGridNote(p, GRID)), [24, 24, 27, 27, 60, 60, 63, 63, 96, 96]);
  for (let pitch = 24; pitch <= 96; pitch++) assert.ok(Math.abs(nearestGridNote(pitch, GRID) - pitch) <= 1);
});

test("outside the grid a pitch is played from its end; on an even grid the lower of two as near", () => {
  assert.deepEqual([0, 23, 97, 127].map((p) => nearestGridNote(p, GRID)), [24, 24, 96, 96]);
  assert.equal(nearestGridNote(26, { lowest: 24, highest: 96, step: 4 }), 24);
});

test("a piece asks once for each sample its parts are played from, on its own instruments", () => {
  const piece = {
    melody: [{ pitch: 72, start: 0, end: 2, velocity: 90 }, { pitch: 73, start: 2, end: 4, velocity: 90 }, { pitch: 76, start: 4, end: 8, velocity: 90 }],
    chords: [{ root: 9, quality: "min", start: 0, end: 16 }],
    drums: [{ step: 0, drum: "kick", velocity: 100 }, { step: 4, drum: "kick", velocity: 100 }, { step: 4, drum: "snare", velocity: 100 }],
    instruments: { melody: 40, chords: 4, bass: 34, drums: 25 },
  };
  // A minor from A3 (57, 60, 64) on program 4, its bass A1 (33) on 34: the MIDI file's voicing
  assert.deepEqual(samplesFor(piece, GRID), [
    "/api/sounds/40/72.ogg", "/api/sounds/40/75.ogg",
    "/api/sounds/4/57.ogg", "/api/sounds/4/60.ogg", "/api/sounds/4/63.ogg", "/api/sounds/34/33.ogg",
    "/api/sounds/kit/25/kick.ogg", "/api/sounds/kit/25/snare.ogg",
  ]);
});

test("a piece without instruments (Beat Hunt's beats) is played on the defaults; a list of pieces asks for each sample once", () => {
  assert.deepEqual(instrumentsOf({ melody: [] }), { melody: 73, chords: 0, bass: 33, drums: 0 });
  const beat = { drums: [{ step: 0, drum: "closed_hat" }] };
  assert.deepEqual(samplesFor([beat, beat, { melody: [{ pitch: 60 }] }], GRID), ["/api/sounds/kit/0/closed_hat.ogg", "/api/sounds/73/60.ogg"]);
});

test("a story's section is played on its own instruments from its first bar", () => {
  const piece = {
    steps_per_bar: 16,
    melody: [{ pitch: 72, start: 0, end: 4 }, { pitch: 72, start: 32, end: 36 }],
    drums: [{ step: 31, drum: "kick" }, { step: 32, drum: "kick" }],
    instruments: { melody: 73, chords: 0, bass: 33, drums: 0 },
    instrument_changes: [{ bar: 2, instruments: { melody: 40, chords: 0, bass: 33, drums: 32 } }],
  };
  assert.deepEqual([0, 31, 32, 100].map((step) => instrumentsAt(piece)(step).melody), [73, 73, 40, 40]);
  assert.deepEqual(samplesFor(piece, GRID), ["/api/sounds/73/72.ogg", "/api/sounds/40/72.ogg", "/api/sounds/kit/0/kick.ogg", "/api/sounds/kit/32/kick.ogg"]);
});

test("a chord is voiced as the MIDI file has it, its bass the root two octaves below", () => {
  const { chords, bass } = chordNotes({ root: 2, quality: "dom7", start: 16, end: 32 });
  assert.deepEqual(chords.map((n) => n.pitch), [50, 54, 57, 60]);
  assert.deepEqual([bass.pitch, bass.velocity, chords[0].velocity, bass.start, bass.end], [26, 85, 70, 16, 32]);
});

test("a note's gain grows as its velocity squared, 1 at the samples' own velocity", () => {
  assert.equal(gain(100), 1);
  assert.ok(Math.abs(gain(70) - 0.49) < 1e-12);
  assert.ok(Math.abs(20 * Math.log10(gain(127)) - 4.15) < 0.01);
});
