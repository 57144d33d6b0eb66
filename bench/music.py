"""How fast the music core turns pieces into MIDI and JSON and back, and cuts them; what a
piece costs to send as a Socket.IO packet, with the stock packet class beside ours; and what a
2-bar clip costs to render as the WAV of a hidden Sort clip (music/audio.py).

Run: `.venv/bin/python -m bench.music` (run as a script, this file would shadow the `music`
package). Prints per-operation medians for a 16-bar piece with melody, chords and drums; these
are the costs every round pays when it is served or stored.
"""

from __future__ import annotations

import random
import statistics
import time

from socketio.packet import ACK, Packet

from game_server.transport import JsonPacket
from music import (
    Chord,
    DrumHit,
    Key,
    Meter,
    Note,
    Piece,
    content_key,
    piece_from_json,
    piece_to_dict,
    piece_to_json,
    read_midi,
    slice_piece,
    to_midi_bytes,
)
from music.audio import render_wav


def sample_piece(bars: int = 16, seed: int = 0) -> Piece:
    rng = random.Random(seed)
    melody, step = [], 0
    while step < bars * 16:
        length = rng.choice([2, 2, 4, 4, 6, 8])
        melody.append(Note(step, step + length, rng.randint(60, 79)))
        step += length
    chords = [Chord(b * 16, b * 16 + 16, rng.choice([0, 5, 7, 9]), rng.choice(["maj", "min"])) for b in range(bars)]
    drums = [DrumHit(s, d) for s in range(0, bars * 16, 4) for d in ("kick", "closed_hat") if rng.random() < 0.8]
    return Piece(tempo=120, meter=Meter(4, 4), key=Key(0, "major"), bars=bars, melody=melody, chords=chords, drums=drums)


def timed(label: str, fn, repeats: int = 200) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    print(f"{label:<28} median {statistics.median(samples):7.3f} ms   p99 {sorted(samples)[int(0.99 * len(samples))]:7.3f} ms")
    return statistics.median(samples)


def main() -> None:
    piece = sample_piece()
    midi, text = to_midi_bytes(piece), piece_to_json(piece)
    print(f"16-bar piece: {len(piece.melody)} notes, {len(piece.chords)} chords, {len(piece.drums)} hits; "
          f"MIDI {len(midi)} bytes, JSON {len(text)} bytes")
    timed("Piece -> MIDI bytes", lambda: to_midi_bytes(piece))
    timed("MIDI bytes -> Piece", lambda: read_midi(midi))
    timed("Piece -> JSON", lambda: piece_to_json(piece))
    timed("JSON -> Piece (validated)", lambda: piece_from_json(text))
    timed("slice into 8 + content keys", lambda: [content_key(p) for p in slice_piece(piece, parts=8)])
    ack = [{"ok": True, "round": {"piece": piece_to_dict(piece)}}]  # a round's view carries its music
    stock = timed("packet with it, stock", lambda: Packet(ACK, data=ack, id=1).encode())
    ours = timed("packet with it, JsonPacket", lambda: JsonPacket(ACK, data=ack, id=1).encode())
    print(f"JsonPacket / stock: {ours / stock:.2f} (the stock class searches every element for bytes)")
    clip = slice_piece(piece, parts=8)[1]
    print(f"2-bar clip ({clip.duration_seconds:.1f} s; melody, chords, drums): WAV {len(render_wav(clip)) / 1024:.0f} KiB")
    timed("2-bar clip -> WAV", lambda: render_wav(clip), repeats=50)


if __name__ == "__main__":
    main()
