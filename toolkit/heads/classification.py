"""The classification head shared by every single-label task."""

from __future__ import annotations

import keras


def classification_head(features, num_classes: int, *, dropout: float = 0.3,
                        normalize: bool = False):
    """Pool (if spatial), normalise (optionally), drop out, map to class probabilities.

    The softmax runs in float32 so mixed-precision training stays numerically safe.

    Parameters
    ----------
    features : KerasTensor
        ``(batch, features)`` or a feature map ``(batch, h, w, channels)``.
    num_classes : int
        Number of classes.
    dropout : float
        Dropout rate before the output layer.
    normalize : bool
        Layer-normalise the pooled features, as fastai's transfer heads do: pretrained
        bodies emit features of arbitrary scale (SqueezeNet's caffe-scale ReLUs reach
        the hundreds), which would give a fresh output layer huge logits.
    """
    if len(features.shape) == 4:
        features = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    if normalize:
        features = keras.layers.LayerNormalization(name="head_norm")(features)
    features = keras.layers.Dropout(dropout, name="head_dropout")(features)
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                              name="predictions")(features)
