"""Training and prediction under a multi-replica strategy, whatever the batch sizes."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from toolkit.data.pipeline import make_dataset


@keras.saving.register_keras_serializable(package="toolkit")
class ReplicaSafeModel(keras.Model):
    """A functional model that builds its loss and metrics from the dataset's shapes.

    Under a ``tf.distribute`` strategy, Keras (3.15, TensorFlow backend) takes the
    first batch of every ``fit``/``evaluate`` dataset, sums its per-replica parts to
    learn the shapes, and fails with ``InvalidArgumentError: Inputs to operation AddN
    ... must have the same size and shape`` when that batch splits unevenly: a
    ``batch_size`` that is not a multiple of the number of replicas (128 on 3 GPUs), a
    validation set smaller than one odd batch, or length-bucketed batches of a small
    dataset. This model gives Keras the dataset's ``element_spec`` instead, which has
    the shapes without reading a batch. Built from another model's inputs and
    outputs, it shares that model's layers, so training it trains the original.

    Examples
    --------
    >>> inputs = keras.Input((3,))
    >>> plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> trainer = ReplicaSafeModel(plain.inputs, plain.outputs)
    >>> trainer.layers[-1] is plain.layers[-1]
    True
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        adapter = getattr(iterator, "data_adapter", None)
        if adapter is not None and data_batch is None:
            iterator, data_batch = None, adapter.get_tf_dataset().element_spec
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def replica_safe(model: keras.Model) -> keras.Model:
    """``model`` itself on one replica; a :class:`ReplicaSafeModel` sharing its layers
    under a strategy with several (call it inside the strategy's scope).

    Examples
    --------
    >>> inputs = keras.Input((3,))
    >>> plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> replica_safe(plain) is plain
    True
    """
    if tf.distribute.get_strategy().num_replicas_in_sync > 1:
        return ReplicaSafeModel(model.inputs, model.outputs, name=model.name)
    return model


def predict_in_batches(model: keras.Model, inputs: Any, batch_size: int) -> Any:
    """``model.predict`` on ``inputs`` (an array or dict/tuple of arrays) in batches.

    Under a strategy of N replicas, a last batch of fewer than N examples leaves some
    replica an empty share, on which TensorFlow's kernels fail (convolutions: "input
    depth must be evenly divisible"). That batch is padded with copies of the last
    example, whose outputs are dropped, so every example still gets its prediction.

    Examples
    --------
    >>> inputs = keras.Input((3,))
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> predict_in_batches(model, np.zeros((5, 3), "float32"), batch_size=2).shape
    (5, 1)
    """
    replicas = model.distribute_strategy.num_replicas_in_sync
    batch_size = max(batch_size, replicas)  # every batch gives each replica an example
    count = len(tf.nest.flatten(inputs)[0])
    short = count % batch_size
    padding = replicas - short if 0 < short < replicas else 0
    if padding:
        inputs = tf.nest.map_structure(
            lambda array: np.concatenate([array, np.repeat(array[-1:], padding, axis=0)]),
            inputs)
    outputs = model.predict(make_dataset(inputs, None, batch_size=batch_size), verbose=0)
    return tf.nest.map_structure(lambda array: array[:count], outputs) if padding else outputs
