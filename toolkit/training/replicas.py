"""A training model that fits under a multi-replica strategy whatever the batch sizes."""

from __future__ import annotations

import keras
import tensorflow as tf


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
