// The page's sampled instruments, their pure parts (no Tone, no document), so that node can test
// them (web_client/test/sample_grid.test.mjs): which samples a piece is played from, where the
// server serves each (game_server/sounds.py), the notes as the piece's MIDI file has them, and a
// note's gain. music/sampler.py plays a piece the same way for the sounds the server renders (a
// heard-only clip, Beat Hunt's target), which players compare with the page's by ear: change both
// together (tests/test_sounds.py checks the constants agree).

export const VELOCITY = 100; // the samples' own velocity (music/note_samples.py)
export const SAMPLE_RELEASE = 0.1; // s: a note's sample fades out over this at the note's end
export const SAMPLED_GAIN = 1.875; // the samples' level; times the output's 0.8: music/sampler.py's PAGE_GAIN, 1.5
// A piece without `instruments` is played on these (music/instruments.py's defaults).
export const DEFAULT_INSTRUMENTS = { melody: 73, chords: 0, bass: 33, drums: 0 };
// The MIDI file's voicing (music/midi.py): chords from C3, the bass the root from C1.
export const CHORD_BASE = 48, CHORD_VELOCITY = 70, BASS_BASE = 24, BASS_VELOCITY = 85;
export const CHORD_INTERVALS = { maj: [0, 4, 7], min: [0, 3, 7], dim: [0, 3, 6], aug: [0, 4, 8], sus4: [0, 5, 7], dom7: [0, 4, 7, 10], maj7: [0, 4, 7, 11], min7: [0, 3, 7, 10] };

/** The grid note `pitch` is played from: the nearest of `grid` ({lowest, highest, step}, as
 * GET /api/sounds gives it), the lower of two as near, the grid's end outside it (as
 * music.note_samples.nearest_grid_note). */
export function nearestGridNote(pitch, grid) {
  const clamped = Math.min(Math.max(pitch, grid.lowest), grid.highest);
  return grid.lowest + Math.floor((clamped - grid.lowest + Math.floor((grid.step - 1) / 2)) / grid.step) * grid.step;
}

/** The piece's programs and kit, the defaults for what it leaves out. */
export function instrumentsOf(piece) {
  return { ...DEFAULT_INSTRUMENTS, ...(piece.instruments || {}) };
}

/** The sounds of a note or hit starting at a step (music/piece.py's Piece.instruments_at): the
 * piece's, or those of the story section it is in. `instrumentsAt(piece)(step)`. */
export function instrumentsAt(piece) {
  const spans = [[0, instrumentsOf(piece)], ...(piece.instrument_changes || []).map(({ bar, instruments }) => [bar * piece.steps_per_bar, { ...DEFAULT_INSTRUMENTS, ...instruments }])];
  return (step) => spans.reduce((found, [first, sounds]) => (first <= step ? sounds : found), spans[0][1]);
}

export const noteAddress = (program, note) => `/api/sounds/${program}/${note}.ogg`;
export const drumAddress = (kit, drum) => `/api/sounds/kit/${kit}/${drum}.ogg`;

/** A note's gain: FluidSynth makes a note's amplitude grow as its velocity squared. */
export const gain = (velocity) => (velocity / VELOCITY) ** 2;

/** A chord as the MIDI file voices it: `chords`, its notes from CHORD_BASE, and `bass`, its root
 * from BASS_BASE, each {part, pitch, start, end (steps), velocity}. */
export function chordNotes(chord) {
  const intervals = CHORD_INTERVALS[chord.quality] || [];
  return {
    chords: intervals.map((i) => ({ part: "chords", pitch: CHORD_BASE + chord.root + i, start: chord.start, end: chord.end, velocity: CHORD_VELOCITY })),
    bass: { part: "bass", pitch: BASS_BASE + chord.root, start: chord.start, end: chord.end, velocity: BASS_VELOCITY },
  };
}

/** The addresses of the samples a piece (or a list of pieces) is played from, each once: its
 * programs' grid notes nearest its pitches, its kit's drums. */
export function samplesFor(pieces, grid) {
  const addresses = new Set();
  for (const piece of [].concat(pieces)) {
    const sounds = instrumentsAt(piece);
    const note = (program, pitch) => addresses.add(noteAddress(program, nearestGridNote(pitch, grid)));
    for (const n of piece.melody || []) note(sounds(n.start).melody, n.pitch);
    for (const c of piece.chords || []) {
      const { chords, bass } = chordNotes(c);
      for (const n of chords) note(sounds(c.start).chords, n.pitch);
      note(sounds(c.start).bass, bass.pitch);
    }
    for (const d of piece.drums || []) addresses.add(drumAddress(sounds(d.step).drums, d.drum));
  }
  return [...addresses];
}
