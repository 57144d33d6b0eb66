"""The latent prior fitted to the encoder's means (models/latent_prior.py)."""

import numpy as np
import torch

from models.checkpoint import CHECKPOINT_DIR
from models.latent_prior import LatentPrior, fit
from models.melody import MelodyComposer
from models.melody_vae import METERS, STYLES, MelodyVAE, VAEConfig

SMALL = VAEConfig(token_embed=8, cond_embed=4, encoder_hidden=16, z_dim=6, conductor_hidden=16, decoder_hidden=24, bar_input=8)


def test_draws_have_the_fitted_mean_and_covariance_of_the_most_specific_condition(tmp_path):
    rng = np.random.default_rng(0)
    mean = np.array([0.5, -1.0, 0.0])
    factor = np.array([[0.3, 0, 0], [0.2, 0.1, 0], [0, 0, 0.05]])
    conditions = {(8,): mean, (2,): -mean, (8, "6/8"): 2 * mean, (8, "6/8", "scottish"): 3 * mean}
    LatentPrior(conditions, dict.fromkeys(conditions, factor)).save(tmp_path / "prior.npz")
    prior = LatentPrior.load(tmp_path / "prior.npz")
    assert set(prior.means) == set(conditions)
    z = prior.draw(7, 20000, rng)  # 7 bars: the 8-bar fit is the nearest
    assert z.shape == (20000, 3) and z.dtype == np.float32
    assert np.allclose(z.mean(axis=0), mean, atol=0.01)
    assert np.allclose(np.cov(z.T), factor @ factor.T, atol=0.005)
    assert np.allclose(prior.draw(1, 20000, rng).mean(axis=0), -mean, atol=0.01)
    for meter, style, expected in (("6/8", "scottish", 3 * mean), ("6/8", "irish", 2 * mean), ("4/4", "scottish", mean), (None, None, mean)):
        assert np.allclose(prior.draw(8, 20000, rng, meter, style).mean(axis=0), expected, atol=0.01), (meter, style)


class FixedWindows:
    """Stands in for the training sampler: the same tokens for every draw, so every mean is one;
    each batch's style alternates between the first two styles, in 4/4."""

    def batch(self, rng, size, length):
        tokens = torch.full((size, length * 16), 2 + 24)
        ids = torch.zeros(size, dtype=torch.long)
        return tokens, length, ids + METERS.index("4/4"), torch.arange(size) % 2, ids, torch.zeros(size, length, dtype=torch.long)


def test_fit_centres_on_the_encoder_means_of_each_style():
    torch.manual_seed(0)
    model = MelodyVAE(SMALL).eval()
    prior = fit(model, FixedWindows(), windows=1024)  # 512 windows of each style: enough for its own Gaussian
    tokens, bars, meter, style, mode, _ = FixedWindows().batch(None, 2, 8)
    with torch.no_grad():
        mu, _ = model.encode(tokens, bars, model.condition(meter, style, mode))
    for row in (0, 1):
        condition = (8, "4/4", STYLES[row])
        assert np.allclose(prior.means[condition], mu[row].numpy(), atol=1e-5)
        assert np.abs(prior.factors[condition]).max() < 1e-2  # no spread where every window is the same
    assert np.allclose(prior.means[(8, "4/4")], mu.mean(0).numpy(), atol=1e-5)
    assert (8, "4/4", STYLES[2]) not in prior.means and (8, "6/8") not in prior.means  # none drawn: its meter's, or the length's, stands in


def test_the_committed_composer_draws_from_its_prior():
    composer = MelodyComposer.load()
    assert composer.prior is not None and (CHECKPOINT_DIR / "latent_prior.npz").exists()
    z = composer.fresh_latents(8, 2000, np.random.default_rng(1), "6/8", "scottish").numpy()
    assert np.allclose(z.mean(axis=0), composer.prior.means[(8, "6/8", "scottish")], atol=0.1)
    assert z.std(axis=0).mean() < 0.9  # narrower than N(0, I): the encoder's means do not fill it
