"""Training defaults: seeding, restarts, fine-tuning, LR finder, schedules, optimizer."""

import keras
import numpy as np
import pytest

from toolkit import Task
from toolkit.training.fine_tuning import fine_tuning_stages
from toolkit.training.optimizers import DiscriminativeAdamW
from toolkit.training.schedules import OneCycle, make_schedule


def test_same_seed_gives_identical_predictions(tiny_texts, fast_text_params):
    first = Task("sentiment", **fast_text_params).fit(*tiny_texts)
    second = Task("sentiment", **fast_text_params).fit(*tiny_texts)
    np.testing.assert_array_equal(first.predict_proba(tiny_texts[0]),
                                  second.predict_proba(tiny_texts[0]))


def test_fit_starts_over_and_fine_tune_continues(tiny_images, fast_image_params):
    images, labels = tiny_images
    task = Task("image_classification", **fast_image_params).fit(images, labels)
    first_model = task.model_
    weights = [w.copy() for w in first_model.get_weights()]
    task.fine_tune(images, labels, epochs=1)
    assert task.model_ is first_model  # continued, not rebuilt
    assert any(not np.allclose(a, b) for a, b in zip(weights, task.model_.get_weights()))
    assert len(task.history_["loss"]) == 2
    task.fit(images, labels)
    assert task.model_ is not first_model and len(task.history_["loss"]) == 1


def test_fine_tune_rejects_unknown_labels(tiny_images, fast_image_params):
    images, labels = tiny_images
    task = Task("image_classification", **fast_image_params).fit(images, labels)
    with pytest.raises(ValueError, match="Unknown label"):
        task.fine_tune(images, np.full(len(labels), 7))


def test_callbacks_are_passed_through(tiny_texts, fast_text_params):
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    Task("sentiment", callbacks=[Recorder()], **{**fast_text_params, "epochs": 2}).fit(*tiny_texts)
    assert seen == [0, 1]


def test_early_stopping_restores_best_weights(tiny_texts, fast_text_params):
    texts, labels = tiny_texts
    params = {**fast_text_params, "epochs": 6, "learning_rate": 0.05, "early_stopping": 2,
              "schedule": "constant"}
    task = Task("sentiment", **params).fit(texts[:64], labels[:64],
                                          validation_data=(texts[64:], labels[64:]))
    inputs, targets = task._encode(task._read(texts[64:], labels[64:], training=True))
    task.model_.compile(loss=task._loss())
    restored = task.model_.evaluate(inputs, targets, verbose=0, return_dict=True)["loss"]
    assert restored == pytest.approx(min(task.history_["val_loss"]), rel=1e-4)


def test_early_stopping_lets_a_decaying_schedule_run_half_its_epochs(tiny_texts, fast_text_params):
    """Validation labels flipped: every epoch that learns the training labels raises the
    validation loss, so plain early stopping (patience 1) stops after the second epoch;
    under the cosine schedule it waits for half of the 6 epochs."""
    texts, labels = tiny_texts
    flipped = ["negative" if label == "positive" else "positive" for label in labels[64:]]
    params = {**fast_text_params, "epochs": 6, "learning_rate": 0.01, "early_stopping": 1}
    runs = {schedule: len(Task("sentiment", **params, schedule=schedule).fit(
        texts[:64], labels[:64], validation_data=(texts[64:], flipped)).history_["loss"])
        for schedule in ("constant", "cosine")}
    assert runs == {"constant": 2, "cosine": 3}


def test_lr_find_suggests_a_rate_and_leaves_the_task_as_it_was(tiny_texts, fast_text_params):
    task = Task("sentiment", **fast_text_params)
    result = task.lr_find(*tiny_texts, steps=20, min_lr=1e-5, max_lr=1.0)
    assert 1e-5 <= result.suggestion <= 1.0
    assert len(result.learning_rates) == len(result.losses) > 2
    assert result.plot().axes
    assert not hasattr(task, "model_")
    task.fit(*tiny_texts)
    model, probabilities = task.model_, task.predict_proba(tiny_texts[0][:4])
    task.lr_find(*tiny_texts, steps=5)
    assert task.model_ is model
    for bad, match in [({"steps": 0}, "steps"), ({"min_lr": 1.0, "max_lr": 0.1}, "below max_lr")]:
        with pytest.raises(ValueError, match=match):
            task.lr_find(*tiny_texts, **bad)
    np.testing.assert_array_equal(task.predict_proba(tiny_texts[0][:4]), probabilities)


def test_lr_find_suggests_within_the_range_even_when_the_loss_only_rises():
    from toolkit.training.lr_finder import _suggest

    rates = np.geomspace(1e-6, 1.0, 20)
    # Each time the loss never really fell, so the user is warned to try lower rates.
    with pytest.warns(RuntimeWarning, match="lower min_lr"):
        assert _suggest(rates, np.linspace(1.0, 5.0, 20)) == pytest.approx(1e-6)
    with pytest.warns(RuntimeWarning, match="lower min_lr"):
        assert _suggest(rates, np.r_[2.0, 1.0, np.linspace(1.5, 5.0, 18)]) == pytest.approx(1e-6)
    coarse = np.geomspace(1e-6, 1.0, 4)  # 1e-6, 1e-4, 1e-2, 1: a tenth of 1e-4 is in range
    with pytest.warns(RuntimeWarning, match="lower min_lr"):
        assert _suggest(coarse, np.array([2.0, 1.0, 3.0, 4.0])) == pytest.approx(1e-5)
    with pytest.warns(RuntimeWarning, match="from 1e\\+08"):  # diverged at the second rate
        assert _suggest(np.array([1e8, 1e12]), np.array([0.68, np.inf])) == 1e8


def test_lr_find_refuses_non_finite_inputs_as_fit_does():
    waves = [np.full(2000, np.nan, dtype="float32")] * 4  # reading lets NaN through
    task = Task("speech", sample_rate=8000, verbose=0)
    with pytest.raises(ValueError, match="NaN"):
        task.lr_find(waves, ["low", "high"] * 2, steps=3)


def test_one_cycle_rises_then_falls():
    schedule = OneCycle(max_lr=1.0, total_steps=100)
    values = [float(schedule(step)) for step in (0, 25, 60, 99)]
    assert values[0] < values[1] == pytest.approx(1.0) and values[1] > values[2] > values[3]
    assert OneCycle.from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="schedule"):
        make_schedule("linear", 1e-3, 10)


def test_discriminative_optimizer_scales_each_layers_step():
    slow = keras.Variable(np.ones(3, "float32"), name="slow")
    fast = keras.Variable(np.ones(3, "float32"), name="fast")
    optimizer = DiscriminativeAdamW(learning_rate=0.1, weight_decay=0.0,
                                    lr_multipliers={"slow": 0.1})
    optimizer.apply_gradients([(np.ones(3, "float32"), slow), (np.ones(3, "float32"), fast)])
    slow_step, fast_step = 1 - slow.numpy()[0], 1 - fast.numpy()[0]
    assert fast_step == pytest.approx(10 * slow_step, rel=1e-3)


def test_gradual_fine_tuning_freezes_then_unfreezes_the_top():
    inputs = keras.Input((4,))
    body = keras.Sequential([keras.layers.Dense(4, name="low"), keras.layers.Dense(4, name="mid"),
                             keras.layers.Dense(4, name="top")], name="body")
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(body(inputs)))
    head, unfreeze = fine_tuning_stages("gradual", backbone_name="body",
                                        layer_groups=["low", "mid", "top"], epochs=4,
                                        learning_rate=1e-3)
    head.prepare(model)
    assert [layer.trainable for layer in body.layers] == [False, False, False]
    unfreeze.prepare(model)
    assert [layer.trainable for layer in body.layers] == [False, False, True]
    assert unfreeze.learning_rate < head.learning_rate
    for epochs, split in [(1, [1]), (2, [1, 1]), (3, [1, 2]), (4, [2, 2])]:  # never more
        stages = fine_tuning_stages("gradual", backbone_name="body", layer_groups=["low", "top"],
                                    epochs=epochs, learning_rate=1e-3)
        assert [stage.epochs for stage in stages] == split
    full, = fine_tuning_stages("full", backbone_name="body", layer_groups=[("low", "mid"), "top"],
                               epochs=1, learning_rate=1e-3)
    assert full.lr_multipliers == {"low": pytest.approx(0.1), "mid": pytest.approx(0.1), "top": 1.0}
    with pytest.raises(ValueError, match="fine_tuning"):
        fine_tuning_stages("some", backbone_name="body", layer_groups=["low"], epochs=1,
                           learning_rate=1e-3)
