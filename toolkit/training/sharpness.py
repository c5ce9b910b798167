"""Sharpness-aware minimisation (SAM; Foret et al. 2021) as a Keras training step.

SAM looks for weights whose whole neighbourhood has a low loss rather than a single
low point: each step first moves the weights up the gradient by ``rho`` (in global L2
norm), takes the gradient there, and applies that gradient to the original weights.
Flat minima generalise better; the price is a second forward and backward pass per
step.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from toolkit.training.replicas import ReplicaSafeModel


@keras.saving.register_keras_serializable(package="toolkit")
class SharpnessAwareModel(ReplicaSafeModel):
    """A functional model whose ``fit`` takes sharpness-aware steps.

    Built from another model's inputs and outputs, it shares that model's layers, so
    training it trains the original; the task keeps the plain model for prediction
    and saving. The perturbed pass runs through ``stateless_call`` (no variable is
    changed in place), so each replica of a ``tf.distribute`` strategy perturbs by its
    own gradient, as in the paper's m-sharpness; batch-normalisation statistics and
    dropout seeds are updated by the first pass only. Loss scaling under
    ``mixed_float16`` is handled: the perturbation is a normalised direction, so the
    scale cancels.

    Parameters
    ----------
    inputs, outputs
        The functional graph (``model.inputs``, ``model.outputs``).
    rho : float
        Radius of the neighbourhood, in the global L2 norm of all trainable weights.

    Examples
    --------
    >>> import numpy as np
    >>> inputs = keras.Input((3,))
    >>> plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> trainer = SharpnessAwareModel(plain.inputs, plain.outputs, rho=0.05)
    >>> trainer.compile(optimizer="sgd", loss="mse")
    >>> history = trainer.fit(np.ones((8, 3)), np.zeros((8, 1)), epochs=1, verbose=0)
    >>> trainer.layers[-1] is plain.layers[-1]
    True
    """

    def __init__(self, *args, rho: float = 0.05, **kwargs):
        super().__init__(*args, **kwargs)
        self.rho = rho

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                      training=True)
            scaled = self.optimizer.scale_loss(loss)
        self._track_loss(loss, x)
        gradients = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                     for v, g in zip(variables, tape.gradient(scaled, variables))]
        step = self.rho / tf.maximum(tf.linalg.global_norm(gradients), 1e-12)
        perturbed = [tf.convert_to_tensor(v) + step * g for v, g in zip(variables, gradients)]
        with tf.GradientTape() as tape:
            tape.watch(perturbed)
            y_perturbed, _ = self.stateless_call(
                perturbed, [tf.convert_to_tensor(v) for v in self.non_trainable_variables],
                x, training=True,
            )
            perturbed_loss = self._compute_loss(x=x, y=y, y_pred=y_perturbed,
                                                sample_weight=sample_weight, training=True)
            scaled = self.optimizer.scale_loss(perturbed_loss)
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, perturbed), variables))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _track_loss(self, loss, x) -> None:
        # As keras's own step: the loss is divided across replicas, the tracker shows it whole.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.shape(tf.nest.flatten(x)[0])[0]
        self._loss_tracker.update_state(loss * tf.cast(replicas, loss.dtype), sample_weight=batch)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = super().from_config(config, custom_objects=custom_objects)
        model.rho = config.get("rho", model.rho)
        return model
