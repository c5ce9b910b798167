"""Closed-form dense layers: exact coefficients, an unpenalised bias, the penalty chosen on validation."""

import numpy as np
import pytest

from toolkit.training.least_squares import PENALTIES, fit_dense_least_squares


def test_recovers_the_coefficients_and_leaves_the_bias_unpenalised():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 4))
    kernel = rng.normal(size=(4, 2))
    targets = features @ kernel + [300.0, -2.0] + rng.normal(0, 1e-3, (500, 2))
    solved = fit_dense_least_squares(features, targets)
    np.testing.assert_allclose(solved.kernel, kernel, atol=1e-3)
    np.testing.assert_allclose(solved.bias, [300.0, -2.0], atol=1e-3)
    assert solved.loss < 2e-6 and solved.val_loss is None


def test_validation_chooses_a_penalty_that_generalises():
    """30 noisy features for 40 examples: least squares overfits, validation shrinks it."""
    rng = np.random.default_rng(0)

    def draw(n):
        features = rng.normal(size=(n, 30))
        return features, features[:, :1] + rng.normal(0, 1.0, (n, 1))

    train, validation = draw(40), draw(400)
    solved = fit_dense_least_squares(*train, validation=validation)
    barely = fit_dense_least_squares(*train, validation=validation, penalties=(PENALTIES[0],))
    assert solved.penalty > PENALTIES[0]
    assert solved.val_loss < 0.9 * barely.val_loss
    assert solved.loss > barely.loss  # what it gave up on the training examples


def test_a_constant_feature_gets_a_finite_kernel():
    features = np.column_stack([np.arange(50.0), np.ones(50)])
    solved = fit_dense_least_squares(features, 2 * features[:, :1])
    np.testing.assert_allclose(solved.kernel.ravel(), [2.0, 0.0], atol=1e-3)


def test_mismatched_or_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="the same n > 0"):
        fit_dense_least_squares(np.zeros((5, 2)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="the same n > 0"):
        fit_dense_least_squares(np.zeros((0, 2)), np.zeros((0, 1)))
