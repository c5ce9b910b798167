"""Sharpness-aware minimisation: the step matches the textbook update, under mixed precision
too (two replicas: tests/toolkit/training/test_runtime.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit import Task
from toolkit.data.samples import load_sentiment_sample
from toolkit.training.precision import dtype_policy
from toolkit.training.sharpness import SharpnessAwareModel

RHO = 0.05


def _tiny_recurrent(seed: int = 1) -> keras.Model:
    keras.utils.set_random_seed(seed)
    token_ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(50, 8, mask_zero=True)(token_ids)
    x = keras.layers.Bidirectional(keras.layers.LSTM(4))(x)
    return keras.Model(token_ids, keras.layers.Dense(2, activation="softmax")(x))


def _data():
    rng = np.random.RandomState(0)
    x = rng.randint(1, 50, size=(64, 7)).astype("int32")
    return x, (x[:, 0] > 25).astype("int32")


def _reference_sam(model: keras.Model, x, y, *, learning_rate: float, batch_size: int):
    """SAM written out with plain SGD: perturb in place, take the gradient, undo, step."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    variables = model.trainable_variables
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
        norm = tf.linalg.global_norm(grads)
        deltas = [RHO * g / norm for g in grads]
        for variable, delta in zip(variables, deltas):
            variable.assign_add(delta)
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, variables)
        for variable, delta, grad in zip(variables, deltas, grads):
            variable.assign(variable - delta - learning_rate * tf.convert_to_tensor(grad))


def test_step_equals_perturb_then_descend():
    x, y = _data()
    plain = _tiny_recurrent()
    trainer = SharpnessAwareModel(plain.inputs, plain.outputs, rho=RHO)
    trainer.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    history = trainer.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    reference = _tiny_recurrent()
    for _ in range(2):
        _reference_sam(reference, x, y, learning_rate=0.5, batch_size=16)
    for ours, theirs in zip(plain.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # The loss shown is the unperturbed one, as without SAM.
    assert history.history["loss"][-1] == pytest.approx(
        float(keras.losses.SparseCategoricalCrossentropy()(y, plain(x))), abs=0.1)


def test_step_differs_from_plain_descent():
    x, y = _data()
    plain, sam = _tiny_recurrent(), _tiny_recurrent()
    plain.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    plain.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    trainer = SharpnessAwareModel(sam.inputs, sam.outputs, rho=RHO)
    trainer.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    trainer.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert max(np.abs(a - b).max() for a, b in zip(plain.get_weights(), sam.get_weights())) > 1e-4


def test_mixed_float16_scaling_cancels():
    x, y = _data()
    with dtype_policy("mixed_float16"):
        plain = _tiny_recurrent()
        trainer = SharpnessAwareModel(plain.inputs, plain.outputs, rho=RHO)
        trainer.compile(keras.optimizers.AdamW(1e-2), "sparse_categorical_crossentropy")
        history = trainer.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_config_round_trip_keeps_rho():
    plain = _tiny_recurrent()
    trainer = SharpnessAwareModel(plain.inputs, plain.outputs, rho=0.2)
    restored = SharpnessAwareModel.from_config(trainer.get_config())
    assert isinstance(restored, SharpnessAwareModel) and restored.rho == 0.2


def test_task_trains_with_sam_and_keeps_a_plain_model(tmp_path):
    texts, labels = load_sentiment_sample(160)
    task = Task("sentiment", sam_rho=RHO, epochs=3, batch_size=16, learning_rate=5e-3,
                seed=0, verbose=0).fit(texts[:120], labels[:120])
    assert task.score(texts[120:], labels[120:]) > 0.8
    # Only the training step changes: what is saved and loaded is the plain model.
    assert not isinstance(task.model_, SharpnessAwareModel)
    loaded = Task.load(task.save(tmp_path / "model"))
    assert loaded.sam_rho == RHO
    np.testing.assert_array_equal(loaded.predict(texts[120:]), task.predict(texts[120:]))


@pytest.mark.parametrize("bad", [-0.1, float("nan"), "0.05", True])
def test_task_refuses_a_bad_rho(bad):
    texts, labels = load_sentiment_sample(40)
    with pytest.raises(ValueError, match="sam_rho must be a number >= 0"):
        Task("sentiment", sam_rho=bad, epochs=1, verbose=0).fit(texts, labels)

