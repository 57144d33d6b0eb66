"""What the melody VAE offers a game: sample, interpolate, vary, continue.

All four work on note arrays (N, 3) = (pitch, start, end) in the requested key; the model itself
works in C (encoding.py) and conditions on meter, style and mode. Decoding runs in numpy
(sampling.py) so a whole 8-bar melody costs a few milliseconds on one core.

- sample: z ~ N(0, I) (scaled by temperature), decoded at that temperature.
- interpolate(a, b, n): spherical interpolation between the two posterior means (MusicVAE's
  slerp), decoded greedily; the ends are a and b exactly as given, not their reconstructions.
- vary(notes, amount): z = mu(notes) + amount * noise, decoded greedily: a neighbour.
- continue_melody(primer, bars): draws candidate latents from the prior, keeps the one under which
  the primer is most likely (teacher-forced log-likelihood), then decodes the remaining bars from
  it with the primer's tokens forced. The primer comes back unchanged at the start.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from . import checkpoint
from .encoding import PITCH_HIGH, PITCH_LOW, decode, encode, fit_to_range
from .melody_vae import METERS, MODES, STEPS_PER_BAR, STYLES, MelodyVAE, VAEConfig
from .sampling import FastDecoder

MAX_BARS = 16
CONTINUATION_CANDIDATES = 64


class ComposerError(ValueError):
    """A request the composer refuses; the message says what is wrong."""


def check_request(bars: int, meter: str, style: str, temperature: float = 1.0, mode: str = "major") -> None:
    if not isinstance(bars, int) or isinstance(bars, bool) or not 1 <= bars <= MAX_BARS:
        raise ComposerError(f"bars must be an integer 1..{MAX_BARS}, got {bars!r}")
    if meter not in STEPS_PER_BAR:
        raise ComposerError(f"unknown meter {meter!r} (the composer knows {', '.join(METERS)})")
    if style not in STYLES:
        raise ComposerError(f"unknown style {style!r} (known: {', '.join(STYLES)})")
    if mode not in MODES:
        raise ComposerError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    if not isinstance(temperature, (int, float)) or not 0 < temperature <= 5:
        raise ComposerError(f"temperature must be a number in (0, 5], got {temperature!r}")


class MelodyComposer:
    def __init__(self, model: MelodyVAE, meta: dict | None = None):
        self.model = model.eval()
        self.meta = meta or {}
        self.decoder = FastDecoder(self.model)

    @classmethod
    def load(cls, path: Path = checkpoint.CHECKPOINT_DIR / "melody_vae.pt") -> MelodyComposer:
        model, meta = checkpoint.load(path, MelodyVAE, VAEConfig)
        return cls(model, meta)

    @cached_property
    def z_dim(self) -> int:
        return self.model.config.z_dim

    def _cond(self, meter: str, style: str, mode: str, batch: int) -> torch.Tensor:
        ids = [torch.full((batch,), table.index(value), dtype=torch.long) for table, value in ((METERS, meter), (STYLES, style), (MODES, mode))]
        with torch.no_grad():
            return self.model.condition(*ids)

    def _decode(self, z: torch.Tensor, bars: int, meter: str, style: str, mode: str, temperature: float, rng, forced=None, repeats=None) -> list[np.ndarray]:
        cond = self._cond(meter, style, mode, z.shape[0])
        with torch.no_grad():
            conductor = self.model.conduct(z, bars, cond)
        tokens = self.decoder.decode(conductor, cond, STEPS_PER_BAR[meter], temperature, rng, forced, repeats)
        return [decode(row) for row in tokens]

    def _encode(self, melodies: list[np.ndarray], bars: int, meter: str, style: str, mode: str, tonic: int) -> torch.Tensor:
        """Posterior means [B, Z] of melodies given in the key with this tonic."""
        steps = STEPS_PER_BAR[meter]
        tokens = []
        for notes in melodies:
            in_c = fit_to_range(np.asarray(notes, dtype=np.int64).reshape(-1, 3), tonic)
            if in_c is None:
                raise ComposerError(f"a melody spans more than the model's range ({PITCH_HIGH - PITCH_LOW} semitones)")
            tokens.append(encode(in_c, bars * steps))
        with torch.no_grad():
            mu, _ = self.model.encode(torch.from_numpy(np.stack(tokens)), bars, self._cond(meter, style, mode, len(tokens)))
        return mu

    def sample(self, bars: int, meter: str, style: str, tonic: int, mode: str, temperature: float = 1.0, seed: int | None = None, count: int = 1, forms: list | None = None) -> list[np.ndarray]:
        """`count` melodies of `bars` bars in the key (tonic, mode). `forms`: one per melody,
        which bars repeat which (models/forms.py); None writes every bar anew."""
        check_request(bars, meter, style, temperature, mode)
        rng = np.random.default_rng(seed)
        z = torch.from_numpy(rng.standard_normal((count, self.z_dim)).astype(np.float32))
        repeats = None if forms is None else np.asarray(forms, dtype=np.int64).reshape(count, bars)
        return [to_key(m, tonic) for m in self._decode(z, bars, meter, style, mode, temperature, rng, repeats=repeats)]

    def interpolate(self, a: np.ndarray, b: np.ndarray, n: int, bars: int, meter: str, style: str, tonic: int, mode: str) -> list[np.ndarray]:
        """n melodies from a to b (a and b themselves at the ends)."""
        check_request(bars, meter, style, 1.0, mode)
        if not isinstance(n, int) or n < 2:
            raise ComposerError(f"an interpolation needs n >= 2 steps, got {n!r}")
        mu = self._encode([a, b], bars, meter, style, mode, tonic)
        fractions = np.linspace(0.0, 1.0, n)[1:-1]
        z = torch.stack([slerp(mu[0], mu[1], float(t)) for t in fractions]) if len(fractions) else torch.empty(0, self.z_dim)
        middle = self._decode(z, bars, meter, style, mode, 0.0, np.random.default_rng(0)) if len(fractions) else []
        return [np.asarray(a), *[to_key(m, tonic) for m in middle], np.asarray(b)]

    def vary(self, notes: np.ndarray, amount: float, bars: int, meter: str, style: str, tonic: int, mode: str, seed: int | None = None) -> np.ndarray:
        """A neighbour of `notes` in latent space; amount 0 is the reconstruction."""
        check_request(bars, meter, style, 1.0, mode)
        if not 0 <= amount <= 3:
            raise ComposerError(f"amount must be in [0, 3], got {amount!r}")
        rng = np.random.default_rng(seed)
        mu = self._encode([notes], bars, meter, style, mode, tonic)
        z = mu + amount * torch.from_numpy(rng.standard_normal(mu.shape).astype(np.float32))
        return to_key(self._decode(z, bars, meter, style, mode, 0.0, rng)[0], tonic)

    def continue_melody(self, primer: np.ndarray, primer_bars: int, bars: int, meter: str, style: str, tonic: int, mode: str, temperature: float = 1.0, seed: int | None = None) -> np.ndarray:
        """`primer` (primer_bars long) followed by new bars, `bars` in all."""
        check_request(bars, meter, style, temperature, mode)
        if not 1 <= primer_bars < bars:
            raise ComposerError(f"the primer ({primer_bars} bars) must be shorter than the result ({bars} bars)")
        steps = STEPS_PER_BAR[meter]
        primer = np.asarray(primer, dtype=np.int64).reshape(-1, 3)
        if len(primer) == 0:
            raise ComposerError("the primer has no notes")
        in_c = fit_to_range(primer, tonic)
        if in_c is None:
            raise ComposerError("the primer spans more than the model's range")
        shift = int(in_c[0, 0] - primer[0, 0])  # what fit_to_range moved it by
        forced = encode(in_c, primer_bars * steps)
        rng = np.random.default_rng(seed)
        z = torch.from_numpy(rng.standard_normal((CONTINUATION_CANDIDATES, self.z_dim)).astype(np.float32))
        cond = self._cond(meter, style, mode, CONTINUATION_CANDIDATES)
        with torch.no_grad():
            conductor = self.model.conduct(z, bars, cond)
        scores = self.decoder.log_likelihood(conductor, cond, steps, np.tile(forced, (CONTINUATION_CANDIDATES, 1)))
        best = int(np.argmax(scores))
        tokens = self.decoder.decode(conductor[best : best + 1], cond[:1], steps, temperature, rng, forced[None, :])
        notes = decode(tokens[0])
        notes[:, 0] -= shift
        return notes


def to_key(notes_in_c: np.ndarray, tonic: int) -> np.ndarray:
    """Move a melody from C to the tonic, up or down, whichever keeps it nearer middle C's octave."""
    notes = notes_in_c.copy()
    if len(notes) == 0:
        return notes
    shift = tonic if tonic <= 6 else tonic - 12
    notes[:, 0] += shift
    return notes


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation, as MusicVAE interpolates latents."""
    omega = torch.arccos(torch.clamp(torch.dot(a / a.norm(), b / b.norm()), -1.0, 1.0))
    if omega.abs() < 1e-6:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
