// The result screens' download links (src/games/kit.js, pieceFiles): one per file the server
// serves for a finished round (game_server/http.py: piece.mid, piece.wav, piece.ogg).
// Run: node --test web_client/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { pieceFiles } from "../src/games/kit.js";

test("a finished round offers its piece as MIDI, WAV and OGG at the server's addresses", () => {
  const files = pieceFiles("r_abc-123");
  assert.deepEqual(files.map((f) => f.label), ["MIDI", "WAV", "OGG"]);
  assert.deepEqual(files.map((f) => f.href), ["/api/rounds/r_abc-123/piece.mid", "/api/rounds/r_abc-123/piece.wav", "/api/rounds/r_abc-123/piece.ogg"]);
});

test("a round id is escaped into the address, never read as a path", () => {
  assert.equal(pieceFiles("a/b?c")[0].href, "/api/rounds/a%2Fb%3Fc/piece.mid");
});
