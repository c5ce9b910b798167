"""Closed-form training of a final dense layer: ridge regression on its input features.

When everything before a model's last ``Dense`` layer has no trainable weights (the
forecasting task's ``linear`` backbone: instance normalisation, the flattened window)
and the loss is the mean squared error, the loss is a quadratic in that layer's kernel
and bias, and its minimum is a linear solve rather than the end of a gradient descent.
Toner & Darlow (ICML 2024, "An Analysis of Linear Time Series Forecasting Models") show
that the closed-form solution forecasts better than the same linear models trained by
gradient descent on the usual benchmarks.

The ridge penalty is chosen on validation features when there are some, from
:data:`PENALTIES` (relative to the mean eigenvalue of the features' centred Gram matrix,
so the grid does not depend on the data's size or scale); the bias is not penalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Candidate ridge penalties, relative to the mean eigenvalue of the centred Gram matrix.
PENALTIES = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
#: The penalty used when there are no validation features to choose one.
DEFAULT_PENALTY = 1e-4


@dataclass
class LeastSquaresFit:
    """The solved layer: ``outputs = features @ kernel + bias``.

    Attributes
    ----------
    kernel : ndarray, shape (features, outputs)
    bias : ndarray, shape (outputs,)
    penalty : float
        The chosen relative ridge penalty.
    loss, val_loss : float
        Mean squared error on the training and validation features (``val_loss`` is
        ``None`` without validation features).
    """

    kernel: np.ndarray
    bias: np.ndarray
    penalty: float
    loss: float
    val_loss: float | None


#: Rows per block of the sums below: the features are never copied whole in float64.
BLOCK_ROWS = 16384


def _blocks(n: int):
    return (slice(start, start + BLOCK_ROWS) for start in range(0, n, BLOCK_ROWS))


def _float64(values: np.ndarray, rows: slice) -> np.ndarray:
    return np.asarray(values[rows], dtype="float64")


def _mse(features, targets, kernel, bias) -> float:
    total = sum(float(np.sum((_float64(features, rows) @ kernel + bias
                              - _float64(targets, rows)) ** 2))
                for rows in _blocks(len(features)))
    return total / targets.size


def fit_dense_least_squares(
    features: np.ndarray,
    targets: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    penalties: tuple[float, ...] = PENALTIES,
) -> LeastSquaresFit:
    """Ridge regression of ``targets`` on ``features`` with an unpenalised bias.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        The inputs of the dense layer. The work grows as ``n * d**2 + d**3``.
    targets : ndarray, shape (n, m)
        What the dense layer should output.
    validation : tuple of ndarray, optional
        ``(features, targets)`` held out; the penalty with the lowest validation mean
        squared error is kept. Without it, :data:`DEFAULT_PENALTY`.
    penalties : tuple of float
        Candidate penalties, relative to the mean eigenvalue of the centred Gram matrix.

    Returns
    -------
    LeastSquaresFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3))
    >>> fit = fit_dense_least_squares(x, x @ [[1.0], [2.0], [3.0]] + 0.5)
    >>> np.round(fit.kernel.ravel(), 3).tolist(), round(float(fit.bias[0]), 3)
    ([1.0, 2.0, 3.0], 0.5)
    """
    features, targets = np.asarray(features), np.asarray(targets)
    if features.ndim != 2 or targets.ndim != 2 or len(features) != len(targets) or not len(features):
        raise ValueError("Least squares needs features (n, d) and targets (n, m) with the same "
                         f"n > 0. Received: {features.shape} and {targets.shape}")
    feature_mean = np.mean(features, axis=0, dtype="float64")
    target_mean = np.mean(targets, axis=0, dtype="float64")
    gram = np.zeros((features.shape[1],) * 2)
    cross = np.zeros((features.shape[1], targets.shape[1]))
    for rows in _blocks(len(features)):
        centred = _float64(features, rows) - feature_mean
        gram += centred.T @ centred
        cross += centred.T @ (_float64(targets, rows) - target_mean)
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    projected = eigenvectors.T @ cross
    scale = max(float(eigenvalues.mean()), np.finfo("float64").tiny)

    def solve(penalty):
        kernel = eigenvectors @ (projected / (eigenvalues + penalty * scale)[:, None])
        return kernel, target_mean - feature_mean @ kernel

    if validation is None:
        penalty = DEFAULT_PENALTY
        kernel, bias = solve(penalty)
        val_loss = None
    else:
        scored = []
        for candidate in penalties:
            kernel, bias = solve(candidate)
            scored.append((_mse(*validation, kernel, bias), candidate))
        val_loss, penalty = min(scored)
        kernel, bias = solve(penalty)
    return LeastSquaresFit(kernel=kernel, bias=bias, penalty=penalty,
                           loss=_mse(features, targets, kernel, bias), val_loss=val_loss)
