"""Where to draw a fresh melody's latent from: Gaussians fitted to the encoder's posterior means
of training windows, one per window length and per meter and style, instead of the VAE's N(0, I)
prior.

Why not N(0, I): with free bits the encoder's means do not fill it. Measured on 5,120 8-bar
training windows, they spread with a standard deviation of 0.35 per dimension (0.12-1.0) around
a centre 0.23 from the origin, so a draw from N(0, I) lands where the decoder saw few melodies and
writes less tune-like ones (stray 16ths, long notes, wide leaps). Fitting the aggregate posterior
with a second, simpler model and sampling from that is the two-stage VAE's remedy (Dai & Wipf,
2019); a full-covariance Gaussian is its smallest form, and it holds no training melody, only a
mean and a covariance.

Why one per meter and style: the encoder sees the style, yet the latent still carries it (a
Scottish tune's means lie elsewhere than an Essen song's), and one Gaussian over all the windows,
nearly half of them Essen, drew Essen-like latents for every style: generated Scottish pieces
were classified Scottish 0.40 of the time on the valid split (real tunes 0.53), 0.50 with a
Gaussian per meter and style (docs/composer.md). A condition with fewer than MIN_WINDOWS windows
among those drawn uses its meter's Gaussian, and that failing the length's.

    fit:  mu_i = encoder mean of window i  [N, Z]; for each (length[, meter[, style]]) with
          N_c >= MIN_WINDOWS:  m = mean(mu_c) [Z], L = cholesky(cov(mu_c)) [Z, Z]
    draw: z = m + L @ eps,  eps ~ N(0, I), from the most specific Gaussian there is
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .melody_vae import METERS, STYLES

LENGTHS = (2, 4, 8, 16)
WINDOWS_PER_LENGTH = 16384  # drawn as training draws them: the rarest meter and style pairs get a few hundred
MIN_WINDOWS = 300  # a Gaussian over 96 dimensions needs a few hundred means
BATCH = 128

Condition = tuple  # (length,), (length, meter) or (length, meter, style)


class LatentPrior:
    def __init__(self, means: dict[Condition, np.ndarray], factors: dict[Condition, np.ndarray]):
        self.means, self.factors = means, factors  # by condition: [Z], [Z, Z]

    def draw(self, bars: int, count: int, rng: np.random.Generator, meter: str | None = None, style: str | None = None) -> np.ndarray:
        """[count, Z] float32 latents for melodies of `bars` bars (of this meter and style, where
        they are given and fitted)."""
        length = min((c[0] for c in self.means), key=lambda n: (abs(n - bars), n))
        condition = next(c for c in ((length, meter, style), (length, meter), (length,)) if c in self.means)
        eps = rng.standard_normal((count, len(self.means[condition])))
        return (self.means[condition] + eps @ self.factors[condition].T).astype(np.float32)

    def save(self, path: Path) -> None:
        arrays = {}
        for condition, mean in self.means.items():
            name = _name(condition)
            arrays[f"mean:{name}"], arrays[f"factor:{name}"] = mean.astype(np.float32), self.factors[condition].astype(np.float32)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> LatentPrior:
        means, factors = {}, {}
        with np.load(path) as data:
            for key in data.files:
                kind, name = key.split(":")
                (means if kind == "mean" else factors)[_condition(name)] = data[key].astype(np.float64)
        return cls(means, factors)


def _name(condition: Condition) -> str:
    """(8, "6/8", "irish") -> "8 6-8 irish": a name an .npz member can have."""
    return " ".join(str(part).replace("/", "-") for part in condition)


def _condition(name: str) -> Condition:
    length, *rest = name.split(" ")
    return (int(length), *(part.replace("-", "/") for part in rest))


@torch.no_grad()
def fit(model, sampler, seed: int = 0, windows: int = WINDOWS_PER_LENGTH) -> LatentPrior:
    """Encode `windows` training windows of each length (drawn as training draws them) and fit a
    Gaussian to their posterior means for the length, each meter and each meter and style."""
    rng = np.random.default_rng(seed)
    means, factors = {}, {}
    for length in LENGTHS:
        mus, labels = [], []
        for _ in range(max(1, windows // BATCH)):
            tokens, bars, meter, style, mode, _ = sampler.batch(rng, BATCH, length)
            mu, _ = model.encode(tokens, bars, model.condition(meter, style, mode))
            mus.append(mu.double().numpy())
            labels += [(METERS[m], STYLES[s]) for m, s in zip(meter.tolist(), style.tolist())]
        mu = np.concatenate(mus)  # [N, Z]
        groups: dict[Condition, list[int]] = {(length,): list(range(len(mu)))}
        for i, (meter, style) in enumerate(labels):
            groups.setdefault((length, meter), []).append(i)
            groups.setdefault((length, meter, style), []).append(i)
        for condition, rows in groups.items():
            if len(rows) >= MIN_WINDOWS or len(condition) == 1:
                chosen = mu[rows]
                means[condition] = chosen.mean(axis=0)
                factors[condition] = np.linalg.cholesky(np.cov(chosen.T) + 1e-6 * np.eye(mu.shape[1]))
    return LatentPrior(means, factors)


def main() -> None:
    """`python -m models.latent_prior [CHECKPOINT]`: fit the prior for a melody checkpoint and
    write latent_prior.npz beside it (models.train does this after training)."""
    import sys

    from . import checkpoint
    from .corpus import load_folk_tunes, split_of
    from .dataset import WindowSampler, encode_tunes
    from .melody_vae import MelodyVAE, VAEConfig
    from .threads import one_thread_each

    one_thread_each()
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else checkpoint.CHECKPOINT_DIR / "melody_vae.pt"
    train = [t for t in load_folk_tunes(progress=False) if split_of(t.tune_id) == "train"]
    model, _ = checkpoint.load(path, MelodyVAE, VAEConfig)
    prior = fit(model, WindowSampler(encode_tunes(train)))
    prior.save(path.parent / "latent_prior.npz")
    print(f"wrote {path.parent / 'latent_prior.npz'}: {len(prior.means)} Gaussians")


if __name__ == "__main__":
    main()
