"""models/style_classifier.py: features and the balanced logistic regression."""

import numpy as np

from models.style_classifier import STYLES, StyleClassifier, confusion, melody_features


def test_features_keep_the_meter_in_its_own_block():
    notes = np.array([(62, 0, 6), (66, 6, 12), (69, 12, 18), (62, 18, 24)])
    jig = melody_features(notes, (2, "major"), "6/8", 12)
    waltz = melody_features(notes, (2, "major"), "3/4", 12)
    assert jig.shape == waltz.shape == (106,)
    onsets = slice(12 + 25 + 16, 12 + 25 + 16 + 48)
    assert jig[onsets][36:].sum() == 1.0 and waltz[onsets][8:20].sum() == 1.0  # 6/8 and 3/4 blocks
    assert not np.array_equal(jig, waltz)
    assert jig[0] == 0.5 and jig[-5] == 7 / 12  # half the notes on the tonic; a fifth of range / 12
    assert np.all(np.isfinite(melody_features(np.zeros((0, 3), int), (0, "major"), "4/4", 16)))


def test_classifier_separates_styles_and_does_not_ignore_a_rare_one():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (4, 6))
    sizes = [400, 100, 40, 8]  # as lopsided as the corpus: misc is rare
    x = np.concatenate([c + 0.6 * rng.normal(0, 1, (n, 6)) for c, n in zip(centres, sizes)])
    labels = [s for s, n in zip(STYLES, sizes) for _ in range(n)]
    model = StyleClassifier.fit(x, labels)
    test = np.concatenate([c + 0.6 * rng.normal(0, 1, (50, 6)) for c in centres])
    matrix = confusion([s for s in STYLES for _ in range(50)], model.predict(test))
    assert matrix.sum() == 200 and matrix.shape == (4, 4)
    assert np.all(np.diag(matrix) >= 40)  # every style, the rare one too, mostly right
    unweighted_guess = np.zeros(len(test), dtype=int)  # always the majority: 1/4 right
    assert np.trace(matrix) > np.trace(confusion([s for s in STYLES for _ in range(50)], unweighted_guess)) * 3
