"""Melodies as token sequences, one token per 16th-note step (MusicVAE's melody encoding).

    token 0            HOLD: nothing new happens; the sounding note (or silence) goes on
    token 1            REST: the sounding note stops
    token 2 + k        NOTE: a new note of pitch PITCH_LOW + k starts (cutting any sounding note)

Before encoding, a melody is moved to the key of C (tonic 0): the model learns scale degrees,
not absolute pitches, and the composer moves its output into the requested key afterwards.
A note array is int (N, 3) with columns (pitch, start_step, end_step), as the corpus stores it.
"""

from __future__ import annotations

import numpy as np

HOLD, REST, FIRST_NOTE = 0, 1, 2
PITCH_LOW, PITCH_HIGH = 48, 96  # C3 .. B6, 48 pitches
STEPS_PER_BAR = {"2/4": 8, "3/4": 12, "4/4": 16, "6/8": 12}  # the meters the composer writes
VOCAB = FIRST_NOTE + (PITCH_HIGH - PITCH_LOW)


def fit_to_range(notes: np.ndarray, tonic: int) -> np.ndarray | None:
    """Transpose so the tonic is C, by whichever octave keeps the line inside the model's range
    (nearest its centre); None if the line is wider than the range."""
    notes = notes.copy()
    notes[:, 0] -= tonic
    low, high = int(notes[:, 0].min()), int(notes[:, 0].max())
    best = None
    for octave in range(-5, 6):
        lo, hi = low + 12 * octave, high + 12 * octave
        if lo >= PITCH_LOW and hi < PITCH_HIGH:
            distance = abs((lo + hi) / 2 - (PITCH_LOW + PITCH_HIGH) / 2)
            if best is None or distance < best[0]:
                best = (distance, octave)
    if best is None:
        return None
    notes[:, 0] += 12 * best[1]
    return notes


def encode(notes: np.ndarray, total_steps: int) -> np.ndarray:
    """(N, 3) notes -> (total_steps,) int64 tokens. Pitches must lie in [PITCH_LOW, PITCH_HIGH)."""
    tokens = np.full(total_steps, HOLD, dtype=np.int64)
    tokens[0] = REST
    for pitch, start, end in notes:
        if start >= total_steps:
            continue
        if end < total_steps and tokens[end] == HOLD:
            tokens[end] = REST
        tokens[start] = FIRST_NOTE + pitch - PITCH_LOW
    return tokens


def decode(tokens: np.ndarray) -> np.ndarray:
    """(T,) tokens -> (N, 3) notes; a note still sounding at the end stops at T."""
    notes = []
    pitch = start = None
    for step, token in enumerate(np.asarray(tokens).tolist()):
        if token == HOLD:
            continue
        if pitch is not None:
            notes.append((pitch, start, step))
            pitch = None
        if token >= FIRST_NOTE:
            pitch, start = PITCH_LOW + token - FIRST_NOTE, step
    if pitch is not None:
        notes.append((pitch, start, len(tokens)))
    return np.array(notes, dtype=np.int64).reshape(-1, 3)


def window(tokens: np.ndarray, start: int, length: int) -> np.ndarray:
    """A slice of a token sequence that begins cleanly: a held note or silence at the cut
    becomes a REST, since the window does not contain the note that was held."""
    piece = tokens[start : start + length].copy()
    if piece[0] == HOLD:
        piece[0] = REST
    return piece
