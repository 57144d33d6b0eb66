"""The latent prior fitted to the encoder's means (models/latent_prior.py)."""

import numpy as np
import torch

from models.checkpoint import CHECKPOINT_DIR
from models.latent_prior import LatentPrior, fit
from models.melody import MelodyComposer
from models.melody_vae import MelodyVAE, VAEConfig

SMALL = VAEConfig(token_embed=8, cond_embed=4, encoder_hidden=16, z_dim=6, conductor_hidden=16, decoder_hidden=24, bar_input=8)


def test_draws_have_the_fitted_mean_and_covariance(tmp_path):
    rng = np.random.default_rng(0)
    mean = np.array([0.5, -1.0, 0.0])
    factor = np.array([[0.3, 0, 0], [0.2, 0.1, 0], [0, 0, 0.05]])
    LatentPrior({8: mean, 2: -mean}, {8: factor, 2: factor}).save(tmp_path / "prior.npz")
    prior = LatentPrior.load(tmp_path / "prior.npz")
    z = prior.draw(7, 20000, rng)  # 7 bars: the 8-bar fit is the nearest
    assert z.shape == (20000, 3) and z.dtype == np.float32
    assert np.allclose(z.mean(axis=0), mean, atol=0.01)
    assert np.allclose(np.cov(z.T), factor @ factor.T, atol=0.005)
    assert np.allclose(prior.draw(1, 20000, rng).mean(axis=0), -mean, atol=0.01)


class FixedWindows:
    """Stands in for the training sampler: the same tokens for every draw, so every mean is one."""

    def batch(self, rng, size, length):
        tokens = torch.full((size, length * 16), 2 + 24)
        ids = torch.zeros(size, dtype=torch.long)
        return tokens, length, ids + 2, ids, ids, torch.zeros(size, length, dtype=torch.long)


def test_fit_centres_on_the_encoder_means():
    torch.manual_seed(0)
    model = MelodyVAE(SMALL).eval()
    prior = fit(model, FixedWindows(), windows=128)
    tokens, bars, meter, style, mode, _ = FixedWindows().batch(None, 1, 8)
    with torch.no_grad():
        mu, _ = model.encode(tokens, bars, model.condition(meter, style, mode))
    assert np.allclose(prior.means[8], mu[0].numpy(), atol=1e-5)
    assert np.abs(prior.factors[8]).max() < 1e-2  # no spread where every window is the same


def test_the_committed_composer_draws_from_its_prior():
    composer = MelodyComposer.load()
    assert composer.prior is not None and (CHECKPOINT_DIR / "latent_prior.npz").exists()
    z = composer.fresh_latents(8, 2000, np.random.default_rng(1)).numpy()
    assert np.allclose(z.mean(axis=0), composer.prior.means[8], atol=0.1)
    assert z.std(axis=0).mean() < 0.9  # narrower than N(0, I): the encoder's means do not fill it
