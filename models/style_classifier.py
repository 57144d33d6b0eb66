"""A small style classifier, so `models.evaluate` can ask: does a piece asked for as "irish" read
as Irish to a model that has only seen real tunes?

Features (:func:`melody_features`) are the statistics models/metrics.py already measures, per
melody: the pitch-class (relative to the tonic), interval, duration and onset-position
histograms (onset positions in the block of bins of the melody's own meter, so the meter is
known to the classifier, as it is to the composer), plus range, notes per bar, rhythm variety,
repetition share and in-scale rate. The classifier (:class:`StyleClassifier`) is multinomial
logistic regression on standardised features, fitted by full-batch gradient descent with L2
and class weights that give every style the same total weight: the corpus is two-thirds Essen,
and unweighted, the rare styles (misc has 9 tunes in the valid split) would never be predicted.
Plain numpy; fitting on ~1,200 tunes takes well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .metrics import (
    Key,
    dominant_rhythm_share,
    duration_histogram,
    in_scale_rate,
    interval_histogram,
    pitch_class_histogram,
    pitch_range,
    pooled_histograms,
    repetition_share,
)

STYLES = ("essen", "irish", "scottish", "misc")


def melody_features(notes, key: Key, meter: str, steps_per_bar: int) -> np.ndarray:
    """One melody's feature vector (12 + 25 + 16 + 48 + 5 = 106 values); undefined values are 0."""
    arr = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    bars = -(-int(arr[:, 2].max()) // steps_per_bar) if len(arr) else 0
    scalars = [
        pitch_range(arr) / 12,
        len(arr) / bars / 8 if bars else 0.0,
        dominant_rhythm_share(arr, steps_per_bar),
        repetition_share(arr, steps_per_bar),
        in_scale_rate(arr, key),
    ]
    return np.nan_to_num(
        np.concatenate([
            pitch_class_histogram(arr, key),
            interval_histogram(arr),
            duration_histogram(arr),
            pooled_histograms([arr], [key], [meter])["onset_position"],
            np.asarray(scalars, dtype=np.float64),
        ])
    )


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class StyleClassifier:
    def __init__(self, mean: np.ndarray, scale: np.ndarray, weights: np.ndarray, bias: np.ndarray, styles: Sequence[str] = STYLES):
        self.mean, self.scale, self.weights, self.bias = mean, scale, weights, bias
        self.styles = tuple(styles)

    @classmethod
    def fit(cls, features: np.ndarray, labels: Sequence[str], styles: Sequence[str] = STYLES, l2: float = 1e-2, steps: int = 400, rate: float = 0.5) -> StyleClassifier:
        """Fit on rows of :func:`melody_features` and their styles. Each style's rows together
        weigh as much as any other style's (balanced), so accuracy per style is not bought by
        predicting the majority."""
        x = np.asarray(features, dtype=np.float64)
        y = np.array([list(styles).index(s) for s in labels])
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0
        z = (x - mean) / scale
        counts = np.bincount(y, minlength=len(styles)).astype(np.float64)
        row_weight = (1.0 / np.maximum(counts, 1) / np.count_nonzero(counts))[y]  # sums to 1
        onehot = np.eye(len(styles))[y]
        w = np.zeros((z.shape[1], len(styles)))
        b = np.zeros(len(styles))
        for _ in range(steps):
            error = (_softmax(z @ w + b) - onehot) * row_weight[:, None]
            w -= rate * (z.T @ error + l2 * w)
            b -= rate * error.sum(axis=0)
        return cls(mean, scale, w, b, styles)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The predicted style of each row, as an index into ``styles``."""
        z = (np.asarray(features, dtype=np.float64).reshape(-1, len(self.mean)) - self.mean) / self.scale
        return np.argmax(z @ self.weights + self.bias, axis=1)


def confusion(true: Sequence[str], predicted: np.ndarray, styles: Sequence[str] = STYLES) -> np.ndarray:
    """Counts [true style, predicted style]; a row's diagonal share is that style's accuracy."""
    out = np.zeros((len(styles), len(styles)), dtype=np.int64)
    for t, p in zip(true, predicted):
        out[list(styles).index(t), int(p)] += 1
    return out
