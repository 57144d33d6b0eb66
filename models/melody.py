"""What the melody VAE offers a game: sample, interpolate, vary, continue.

All four work on note arrays (N, 3) = (pitch, start, end) in the requested key; the model itself
works in C (encoding.py) and conditions on meter, style and mode. Decoding runs in numpy
(sampling.py) so a whole 8-bar melody costs a few milliseconds on one core.

- sample: z from the latent prior fitted to the encoder's means (latent_prior.py; N(0, I) where a
  checkpoint has none), decoded at the temperature; a sampled piece ends like a tune (its last
  two bars carry the place ids the model learned from tune endings, melody_vae.place_ids).
- interpolate(a, b, n): spherical interpolation between the two posterior means (MusicVAE's
  slerp), decoded greedily; the ends are a and b exactly as given, not their reconstructions.
- regenerate(notes, which): the bars listed are written anew, every other bar kept token for
  token, from z = the melody's posterior mean, so the new bars fit the old.
- vary(notes, amount): regenerate a share `amount` of the bars (drawn at random) from a latent
  moved by `amount` * noise: 0 is the melody itself, 1 every bar anew; the change grows with it.
- continue_melody(primer, bars): draws candidate latents from the prior, keeps the one under which
  the primer is most likely (teacher-forced log-likelihood), then decodes the remaining bars from
  it with the primer's tokens forced. The primer's notes come back exactly as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from . import checkpoint
from .encoding import PITCH_HIGH, PITCH_LOW, STEPS_PER_BAR, decode, encode, fit_to_range
from .latent_prior import LatentPrior
from .melody_vae import FINAL, METERS, MODES, PENULTIMATE, PHRASE_BARS, STYLES, MelodyVAE, VAEConfig, place_ids
from .options import ComposerError
from .sampling import FastDecoder
from .threads import one_thread_each

MAX_BARS = 16
CONTINUATION_CANDIDATES = 64
JOIN = 0.5  # how far a story section's latent lies from the one before it, towards a fresh one
VARIATION_TEMPERATURE = 0.85
TOP_P = 0.9  # the nucleus sampled from (sampling.py); models.evaluate measures it as served
CADENCE_TEMPERATURE = 0.8  # times the temperature in a tune's last two bars (docs/composer.md)


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
    def __init__(self, model: MelodyVAE, meta: dict | None = None, prior: LatentPrior | None = None):
        self.model = model.eval()
        self.meta = meta or {}
        self.prior = prior
        self.decoder = FastDecoder(self.model)

    @classmethod
    def load(cls, path: Path = checkpoint.CHECKPOINT_DIR / "melody_vae.pt") -> MelodyComposer:
        """The checkpoint, and the latent prior fitted for it (latent_prior.npz beside it)."""
        one_thread_each()
        model, meta = checkpoint.load(path, MelodyVAE, VAEConfig)
        prior_path = Path(path).parent / "latent_prior.npz"
        return cls(model, meta, LatentPrior.load(prior_path) if prior_path.exists() else None)

    def fresh_latents(self, bars: int, count: int, rng: np.random.Generator, meter: str, style: str) -> torch.Tensor:
        """[count, Z] latents for new melodies of `bars` bars in this meter and style."""
        if self.prior is None:
            return torch.from_numpy(rng.standard_normal((count, self.z_dim)).astype(np.float32))
        return torch.from_numpy(self.prior.draw(bars, count, rng, meter, style))

    @cached_property
    def z_dim(self) -> int:
        return self.model.config.z_dim

    def _cond(self, meter: str, style: str, mode: str | Sequence[str], batch: int) -> torch.Tensor:
        """[batch, C]; `mode` one for all rows or one a row."""
        ids = [torch.full((batch,), table.index(value), dtype=torch.long) for table, value in ((METERS, meter), (STYLES, style))]
        modes = torch.full((batch,), MODES.index(mode)) if isinstance(mode, str) else torch.tensor([MODES.index(m) for m in mode])
        with torch.no_grad():
            return self.model.condition(*ids, modes)

    def _decode(self, z: torch.Tensor, bars: int, meter: str, style: str, mode: str, temperature: float, rng, forced=None, repeats=None,
                ends_tune: bool = False, top_p: float = 1.0, first_bar: int = 0) -> list[np.ndarray]:
        cond = self._cond(meter, style, mode, z.shape[0])
        endings = torch.tensor([place_ids(bars, ends_tune, first_bar)] * z.shape[0])
        with torch.no_grad():
            conductor = self.model.conduct(z, bars, cond, endings)
        if temperature > 0 and ends_tune:  # the cadence from the likelier of its choices
            temperature = temperature * np.where(np.isin(endings.numpy(), (PENULTIMATE, FINAL)), CADENCE_TEMPERATURE, 1.0)
        tokens = self.decoder.decode(conductor, cond, STEPS_PER_BAR[meter], temperature, rng, forced, repeats, endings.numpy(), top_p)
        return [decode(row) for row in tokens]

    def _tokens_in_c(self, notes: np.ndarray, bars: int, meter: str, tonic: int) -> tuple[np.ndarray, int]:
        """A melody in the key with this tonic -> its tokens in C [bars*S], and the semitones it
        was moved by (fit_to_range's octave included), to move the model's output back."""
        notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
        if len(notes) == 0:
            raise ComposerError("the melody has no notes")
        in_c = fit_to_range(notes, tonic)
        if in_c is None:
            raise ComposerError(f"a melody spans more than the model's range ({PITCH_HIGH - PITCH_LOW} semitones)")
        shift = int(in_c[0, 0] - notes[0, 0])
        return encode(in_c, bars * STEPS_PER_BAR[meter]), shift

    def _encode(self, melodies: list[np.ndarray], bars: int, meter: str, style: str, mode: str, tonic: int) -> torch.Tensor:
        """Posterior means [B, Z] of melodies given in the key with this tonic."""
        tokens = [self._tokens_in_c(notes, bars, meter, tonic)[0] for notes in melodies]
        with torch.no_grad():
            mu, _ = self.model.encode(torch.from_numpy(np.stack(tokens)), bars, self._cond(meter, style, mode, len(tokens)))
        return mu

    def sample(self, bars: int, meter: str, style: str, tonic: int, mode: str | Sequence[str], temperature: float = 1.0, seed: int | None = None, count: int = 1,
               forms: list | None = None, ends_tune: bool = True, top_p: float = TOP_P) -> list[np.ndarray]:
        """`count` melodies of `bars` bars in the key (tonic, mode); `mode` one for all or one a
        melody (a batch of pieces in many keys decodes at once). `forms`: one per melody,
        which bars repeat which (models/forms.py); None writes every bar anew. `ends_tune`: the
        melody closes as a tune does (False for a fragment that ends nothing); then its last two
        bars are written for their place, never copied by the form: a copied cadence was decoded
        in the middle of the piece, where the model never saw a tune end, and ended on the tonic
        less often (docs/composer.md)."""
        for one in [mode] if isinstance(mode, str) else mode:
            check_request(bars, meter, style, temperature, one)
        if not isinstance(mode, str) and len(mode) != count:
            raise ComposerError(f"{len(mode)} modes for {count} melodies")
        rng = np.random.default_rng(seed)
        z = self.fresh_latents(bars, count, rng, meter, style)
        repeats = None if forms is None else np.asarray(forms, dtype=np.int64).reshape(count, bars).copy()
        if repeats is not None and ends_tune:
            repeats[:, -2:] = -1
        return [to_key(m, tonic) for m in self._decode(z, bars, meter, style, mode, temperature, rng, repeats=repeats, ends_tune=ends_tune, top_p=top_p)]

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

    def regenerate(self, notes: np.ndarray, which: list[int], bars: int, meter: str, style: str, tonic: int, mode: str,
                   seed: int | None = None, spread: float = 0.0, temperature: float = VARIATION_TEMPERATURE) -> np.ndarray:
        """`notes` with the bars in `which` (0-based) written anew and every other bar kept token
        for token; z = the melody's posterior mean + `spread` * noise."""
        check_request(bars, meter, style, temperature, mode)
        if any(not isinstance(b, int) or not 0 <= b < bars for b in which):
            raise ComposerError(f"bars to regenerate must lie in 0..{bars - 1}, got {list(which)!r}")
        notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
        if not which:
            return notes.copy()
        steps = STEPS_PER_BAR[meter]
        tokens, shift = self._tokens_in_c(notes, bars, meter, tonic)
        forced = tokens.copy()
        for bar in which:
            forced[bar * steps : (bar + 1) * steps] = -1
        rng = np.random.default_rng(seed)
        mu = self._encode([notes], bars, meter, style, mode, tonic)
        z = mu + spread * torch.from_numpy(rng.standard_normal(mu.shape).astype(np.float32))
        new = self._decode(z, bars, meter, style, mode, temperature, rng, forced=forced[None], ends_tune=True)[0]
        new[:, 0] -= shift
        return new

    def vary(self, notes: np.ndarray, amount: float, bars: int, meter: str, style: str, tonic: int, mode: str, seed: int | None = None) -> np.ndarray:
        """A variation: a share `amount` in [0, 1] of the bars (at least one when amount > 0)
        rewritten, from a latent moved by `amount` * noise; amount 0 returns the melody itself."""
        check_request(bars, meter, style, 1.0, mode)
        if not isinstance(amount, (int, float)) or not 0 <= amount <= 1:
            raise ComposerError(f"amount must be in [0, 1], got {amount!r}")
        rng = np.random.default_rng(seed)
        count = 0 if amount == 0 else max(1, round(amount * bars))
        which = sorted(int(b) for b in rng.permutation(bars)[:count])
        return self.regenerate(notes, which, bars, meter, style, tonic, mode, int(rng.integers(2**63)), spread=amount)

    def continue_melody(self, primer: np.ndarray, primer_bars: int, bars: int, meter: str, style: str, tonic: int, mode: str, temperature: float = 1.0, seed: int | None = None) -> np.ndarray:
        """`primer` (primer_bars long) followed by new bars, `bars` in all; the primer's notes are
        kept exactly (its last note may be cut short where the new bars start a note)."""
        check_request(bars, meter, style, temperature, mode)
        if not 1 <= primer_bars < bars:
            raise ComposerError(f"the primer ({primer_bars} bars) must be shorter than the result ({bars} bars)")
        steps = STEPS_PER_BAR[meter]
        primer = np.asarray(primer, dtype=np.int64).reshape(-1, 3)
        primer = primer[primer[:, 1] < primer_bars * steps]
        if len(primer) == 0:
            raise ComposerError("the primer has no notes")
        forced, shift = self._tokens_in_c(primer, primer_bars, meter, tonic)
        rng = np.random.default_rng(seed)
        z = self.fresh_latents(bars, CONTINUATION_CANDIDATES, rng, meter, style)
        cond = self._cond(meter, style, mode, CONTINUATION_CANDIDATES)
        endings = torch.tensor([place_ids(bars, True)]).expand(CONTINUATION_CANDIDATES, bars)
        with torch.no_grad():
            conductor = self.model.conduct(z, bars, cond, endings)
        scores = self.decoder.log_likelihood(conductor, cond, steps, np.tile(forced, (CONTINUATION_CANDIDATES, 1)), endings)
        best = int(np.argmax(scores))
        tokens = self.decoder.decode(conductor[best : best + 1], cond[:1], steps, temperature, rng, forced[None, :], endings=endings[:1].numpy())
        new = decode(tokens[0])
        new = new[new[:, 1] >= primer_bars * steps]
        new[:, 0] -= shift
        # the primer exactly as given; a note it holds into the new bars stops where they start one
        kept = primer.copy()
        if len(new):
            kept[:, 2] = np.minimum(kept[:, 2], new[0, 1])
        return np.concatenate([kept, new])

    def join(self, previous_bar: np.ndarray, z_before: torch.Tensor | None, bars: int, meter: str, style: str, tonic: int, mode: str,
             count: int, rng: np.random.Generator, ends_tune: bool, temperature: float = 1.0, top_p: float = TOP_P) -> tuple[list[np.ndarray], torch.Tensor]:
        """`count` candidate melodies of `bars` bars that follow `previous_bar` (one bar of the
        section before, its own notes, in any key) across a boundary where style, mood or key may
        change: the decoder reads that bar, re-expressed in the new key (its notes are the pivot),
        before writing the new bars, and each latent lies halfway, by slerp, from the previous
        section's (`z_before`) to a fresh one. Returns the melodies (in the new key, from step 0)
        and their latents [count, Z]."""
        check_request(bars + 1, meter, style, temperature, mode)
        steps = STEPS_PER_BAR[meter]
        fresh = self.fresh_latents(bars + 1, count, rng, meter, style)
        z = fresh if z_before is None else torch.stack([slerp(z_before, f, JOIN) for f in fresh])
        forced = np.full((count, (bars + 1) * steps), -1, dtype=np.int64)
        if len(previous_bar):
            forced[:, :steps] = self._tokens_in_c(previous_bar, 1, meter, tonic)[0]
        # the read bar ends a phrase and the section starts the next one; a first section opens the tune
        first_bar = PHRASE_BARS - 1 if len(previous_bar) else -1
        melodies = []
        for notes in self._decode(z, bars + 1, meter, style, mode, temperature, rng, forced=forced, ends_tune=ends_tune, top_p=top_p, first_bar=first_bar):
            notes = notes[notes[:, 1] >= steps].copy()
            notes[:, 1:] -= steps
            melodies.append(near_the_seam(to_key(notes, tonic), previous_bar))
        return melodies, z


def to_key(notes_in_c: np.ndarray, tonic: int) -> np.ndarray:
    """Move a melody from C to the tonic, up or down, whichever keeps it nearer middle C's octave."""
    notes = notes_in_c.copy()
    if len(notes) == 0:
        return notes
    shift = tonic if tonic <= 6 else tonic - 12
    notes[:, 0] += shift
    return notes


def near_the_seam(notes: np.ndarray, previous_bar: np.ndarray) -> np.ndarray:
    """A story section placed as every melody is (to_key), or an octave above or below that if
    its first note then lies nearer the last note of the bar before: the section carries on the
    line without jumping an octave (the bar the decoder read was moved into the model's range, so
    the line it continued may sit an octave off), and, never more than an octave from where
    to_key puts it, sections cannot climb or sink section by section."""
    if len(notes) == 0 or len(previous_bar) == 0:
        return notes
    last = int(np.asarray(previous_bar)[-1, 0])
    shift = min((0, -12, 12), key=lambda octave: abs(int(notes[0, 0]) + octave - last))
    placed = notes.copy()
    placed[:, 0] += shift
    return placed


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation, as MusicVAE interpolates latents."""
    omega = torch.arccos(torch.clamp(torch.dot(a / a.norm(), b / b.norm()), -1.0, 1.0))
    if omega.abs() < 1e-6:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
