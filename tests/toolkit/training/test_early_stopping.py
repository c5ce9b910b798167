"""Early stopping that never stops before a minimum number of epochs."""

import keras
import numpy as np

from toolkit.training.early_stopping import MinimumEpochsEarlyStopping


def _run(stopper, val_losses, model=None):
    """Feed ``val_losses`` epoch by epoch; return the epoch training stopped after (or None)."""
    model = model or keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()
    for epoch, loss in enumerate(val_losses):
        model.layers[0].bias.assign([float(epoch)])  # tells the epochs' weights apart
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            return epoch
    return None


def test_waits_for_the_minimum_then_stops_with_the_best_weights_of_any_epoch():
    losses = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert _run(keras.callbacks.EarlyStopping(patience=1), losses) == 1
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = MinimumEpochsEarlyStopping(4, patience=1, restore_best_weights=True)
    assert _run(stopper, losses, model) == 3  # the 4th epoch, and no earlier
    stopper.on_train_end()
    assert float(model.layers[0].bias.numpy()[0]) == 0.0  # epoch 0's weights: still the best


def test_a_new_best_after_the_minimum_resets_the_patience():
    stopper = MinimumEpochsEarlyStopping(4, patience=2)  # would stop after epoch 2
    assert _run(stopper, [5.0, 6.0, 7.0, 1.0, 2.0, 3.0, 4.0]) == 5


def test_min_epochs_zero_is_keras_early_stopping():
    losses = [1.0, 0.5, 0.7, 0.8, 0.9]
    assert _run(MinimumEpochsEarlyStopping(0, patience=2), losses) == _run(
        keras.callbacks.EarlyStopping(patience=2), losses) == 3


def test_another_callbacks_stop_is_not_undone():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = MinimumEpochsEarlyStopping(10, patience=1)
    stopper.set_model(model)
    stopper.on_train_begin()
    model.stop_training = True  # as TerminateOnNaN sets it on a NaN loss
    stopper.on_epoch_end(0, {"val_loss": np.nan})
    assert model.stop_training
