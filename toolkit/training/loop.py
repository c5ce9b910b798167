"""Compile and fit, stage by stage, with the library's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import keras
import tensorflow as tf

from toolkit.training.optimizers import DEFAULT_WEIGHT_DECAY, make_optimizer
from toolkit.training.schedules import make_schedule

#: Gradient-norm clip for recurrent backbones.
CLIPNORM = 1.0
#: ``fine_tune()`` trains at this fraction of the task's learning rate by default.
FINE_TUNE_LR_FACTOR = 0.1


@dataclass
class Stage:
    """One compile+fit round.

    Parameters
    ----------
    name : str
        Shown in progress output and prefixed to nothing (histories are concatenated).
    epochs : int
        Maximum epochs of this stage.
    learning_rate : float
        Peak learning rate of this stage.
    prepare : callable, optional
        ``prepare(model)`` called before compiling (freezing/unfreezing layers).
    lr_multipliers : dict, optional
        Per-layer learning-rate multipliers for :class:`DiscriminativeAdamW`.
    """

    name: str
    epochs: int
    learning_rate: float
    prepare: Callable[[keras.Model], None] | None = None
    lr_multipliers: dict = field(default_factory=dict)


def run_stages(
    model: keras.Model,
    stages: list[Stage],
    train: tf.data.Dataset,
    validation: tf.data.Dataset | None,
    *,
    loss,
    metrics: list,
    schedule: str = "cosine",
    weight_decay: float = DEFAULT_WEIGHT_DECAY,
    clipnorm: float | None = None,
    early_stopping: int | None = 3,
    callbacks: list | None = None,
    verbose: int = 1,
) -> dict:
    """Run each stage (prepare, recompile, fit) and return the joined history.

    Early stopping watches ``val_loss`` with ``patience=early_stopping`` and restores
    the best weights; it is off without validation data or with ``early_stopping=None``.
    """
    steps_per_epoch = max(int(train.cardinality().numpy()), 1)
    history: dict[str, list] = {}
    for stage in stages:
        if stage.prepare is not None:
            stage.prepare(model)
        # Changing `trainable` only takes effect after compiling again.
        model.compile(
            optimizer=make_optimizer(
                make_schedule(schedule, stage.learning_rate, stage.epochs * steps_per_epoch),
                clipnorm=clipnorm,
                weight_decay=weight_decay,
                lr_multipliers=stage.lr_multipliers,
            ),
            loss=loss,
            metrics=metrics,
        )
        if verbose and len(stages) > 1:
            print(f"[toolkit] stage '{stage.name}': {stage.epochs} epochs, lr={stage.learning_rate:g}")
        result = model.fit(
            train,
            validation_data=validation,
            epochs=stage.epochs,
            callbacks=_callbacks(validation, early_stopping, callbacks),
            shuffle=False,  # the dataset is already shuffled, with the task's seed
            verbose=verbose,
        )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
    return history


def _callbacks(validation, early_stopping, user_callbacks) -> list:
    callbacks = list(user_callbacks or [])
    if validation is not None and early_stopping is not None:
        if isinstance(early_stopping, bool) or not isinstance(early_stopping, int) or early_stopping < 1:
            raise ValueError(
                "early_stopping must be a positive int (patience in epochs) or None. "
                f"Received: early_stopping={early_stopping!r}"
            )
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=early_stopping, restore_best_weights=True
            )
        )
    return callbacks


def merge_histories(first: dict, second: dict) -> dict:
    """Append the per-epoch lists of history ``second`` to those of ``first``."""
    merged = {key: list(values) for key, values in (first or {}).items()}
    for key, values in second.items():
        merged.setdefault(key, []).extend(values)
    return merged
