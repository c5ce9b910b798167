"""The forecasting head (point or quantiles, all horizon steps at once) and pinball loss."""

from __future__ import annotations

import keras
from keras import ops

from toolkit.backbones.registry import serializable


def forecast_head(features, *, horizon: int, targets: int, quantiles=None, future=None,
                  dropout: float = 0.0):
    """Map backbone features to ``(batch, horizon, targets)`` or, with quantiles,
    ``(batch, horizon, targets, len(quantiles))`` in one dense layer (direct
    multi-horizon forecasting: no step feeds the next, so errors do not compound).

    Parameters
    ----------
    features : KerasTensor
        ``(batch, features)`` from a series backbone.
    horizon, targets : int
        Steps ahead and series forecast per example.
    quantiles : list of float, optional
        Quantile levels; ``None`` for a point forecast.
    future : KerasTensor, optional
        Known-future covariates ``(batch, horizon, f)``, flattened beside the features.
    dropout : float
        Dropout before the output layer.
    """
    if future is not None:
        flat = keras.layers.Flatten(name="future_flatten")(future)
        features = keras.layers.Concatenate(name="with_future")([features, flat])
    if dropout:
        features = keras.layers.Dropout(dropout, name="head_dropout")(features)
    shape = (horizon, targets) if quantiles is None else (horizon, targets, len(quantiles))
    width = horizon * targets * (1 if quantiles is None else len(quantiles))
    outputs = keras.layers.Dense(width, dtype="float32", name="forecast")(features)
    outputs = keras.layers.Reshape(shape, name="forecast_steps")(outputs)
    if quantiles is not None and len(quantiles) > 1:
        outputs = SortQuantiles(name="sort_quantiles")(outputs)
    return outputs


@serializable
class SortQuantiles(keras.layers.Layer):
    """Sort the last axis so quantile forecasts never cross (q0.1 <= q0.5 <= q0.9)."""

    def call(self, inputs):
        return ops.sort(inputs, axis=-1)


@serializable
class PinballLoss(keras.losses.Loss):
    """Mean quantile (pinball) loss over the quantile axis.

    ``y_true`` is ``(..., )`` and ``y_pred`` is ``(..., len(quantiles))``; for level
    ``q`` an under-forecast costs ``q`` per unit and an over-forecast ``1 - q``, so its
    minimiser is the ``q``-quantile.

    Examples
    --------
    >>> import numpy as np
    >>> loss = PinballLoss([0.1, 0.9])
    >>> round(float(loss(np.array([[1.0]]), np.array([[[0.0, 0.0]]]))), 3)
    0.5
    """

    def __init__(self, quantiles=(0.1, 0.5, 0.9), name="pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        self.quantiles = [float(q) for q in quantiles]

    def call(self, y_true, y_pred):
        levels = ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype)
        error = ops.expand_dims(ops.cast(y_true, y_pred.dtype), -1) - y_pred
        return ops.mean(ops.maximum(levels * error, (levels - 1.0) * error), axis=-1)

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles}
