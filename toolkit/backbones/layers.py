"""Small custom layers the sequence backbones share: masked pooling, attention, highway."""

from __future__ import annotations

import keras
from keras import ops

from toolkit.backbones.registry import serializable


@serializable
class MaskedGlobalPooling(keras.layers.Layer):
    """Pool ``(batch, steps, features)`` over the unmasked steps.

    A sequence with no unmasked step (an empty text) pools to zeros, so it carries no
    evidence either way rather than the max branch's fill value.

    Parameters
    ----------
    mode : str
        ``"max"``, ``"mean"`` or ``"maxmean"`` (both, concatenated).
    """

    MODES = ("max", "mean", "maxmean")

    def __init__(self, mode: str = "maxmean", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}. Received: mode={mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        pooled = []
        if self.mode in ("max", "maxmean"):
            lowest = ops.cast(-1e4, inputs.dtype)  # finite in float16 too
            highest = ops.max(ops.where(weights > 0, inputs, lowest), axis=1)
            pooled.append(ops.where(ops.max(weights, axis=1) > 0, highest, 0))
        if self.mode in ("mean", "maxmean"):
            count = ops.maximum(ops.sum(weights, axis=1), 1.0)
            pooled.append(ops.sum(inputs * weights, axis=1) / count)
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        width = input_shape[-1] * (2 if self.mode == "maxmean" else 1)
        return (input_shape[0], width)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@serializable
class AttentionPooling(keras.layers.Layer):
    """Additive (Bahdanau-style) attention pooling over the unmasked steps.

    ``score_t = v^T tanh(W h_t + b)``; the output is ``sum_t softmax(score)_t h_t``.

    Parameters
    ----------
    units : int
        Width of the scoring layer.
    """

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True
        self.score_hidden = keras.layers.Dense(units, activation="tanh", name="score_hidden")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, input_shape):
        self.score_hidden.build(input_shape)
        self.score.build((*input_shape[:-1], self.units))

    def call(self, inputs, mask=None):
        scores = ops.squeeze(self.score(self.score_hidden(inputs)), -1)
        if mask is not None:
            scores = ops.where(mask, scores, ops.cast(-1e4, scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@serializable
class HighwayGate(keras.layers.Layer):
    """Highway connection ``y = t * h + (1 - t) * x`` with ``t = sigmoid(W x + b)``.

    Called on ``[x, h]`` of equal width (Srivastava et al., 2015). The gate bias starts
    negative so the layer first carries ``x`` through, as the paper recommends.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        width = input_shape[0][-1]
        self.gate = keras.layers.Dense(
            width, activation="sigmoid", bias_initializer=keras.initializers.Constant(-1.0),
            name="transform_gate",
        )
        self.gate.build(input_shape[0])

    def call(self, inputs, mask=None):
        carry, transformed = inputs
        gate = self.gate(carry)
        return gate * transformed + (1.0 - gate) * carry

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@serializable
class MaskedConcatenate(keras.layers.Layer):
    """Concatenate on the last axis, keeping the first input's mask.

    ``keras.layers.Concatenate`` ORs its inputs' masks and counts an unmasked input as
    all-real, so word embeddings (masked) joined with character features (unmasked)
    would lose the padding mask and let padding into the recurrent layers.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return ops.concatenate(inputs, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shapes):
        width = sum(shape[-1] for shape in input_shapes)
        return (*input_shapes[0][:-1], width)
