"""Compile and fit, stage by stage, with the library's defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from toolkit.training.early_stopping import MinimumEpochsEarlyStopping
from toolkit.training.optimizers import DEFAULT_WEIGHT_DECAY, make_optimizer
from toolkit.training.schedules import make_schedule
from toolkit.training.replicas import replica_safe
from toolkit.training.sharpness import SharpnessAwareModel

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
    jit_compile: bool | str = "auto",
    steps_per_execution: int = 1,
    checkpoint_dir: str | Path | None = None,
    sam_rho: float = 0.0,
) -> dict:
    """Run each stage (prepare, recompile, fit) and return the joined history.

    Early stopping watches ``val_loss`` with ``patience=early_stopping`` and restores
    the best weights; it is off without validation data or with ``early_stopping=None``.
    Under a decaying schedule (``"cosine"``, ``"onecycle"``) it never stops a stage
    before half its epochs (:class:`MinimumEpochsEarlyStopping`).
    A loss that turns NaN stops training (``keras.callbacks.TerminateOnNaN``) and raises
    a ``FloatingPointError`` saying what to try.

    With ``checkpoint_dir``, each stage backs up its progress at every epoch end
    (``keras.callbacks.BackupAndRestore``) and marks itself done when it ends, so a run
    killed mid-training and started again with the same arguments skips finished
    stages and resumes the current one at its last completed epoch; the best model so
    far is kept as ``checkpoint_dir/best.keras`` (``keras.callbacks.ModelCheckpoint``).

    With ``sam_rho > 0`` every step is sharpness-aware (:class:`SharpnessAwareModel`);
    under a multi-replica strategy the fit goes through :class:`ReplicaSafeModel`. Both
    share ``model``'s layers, so ``model`` ends up trained.
    """
    trainer = _training_model(model, sam_rho)
    steps_per_epoch = max(int(train.cardinality().numpy()), 1)
    history: dict[str, list] = {}
    for index, stage in enumerate(stages):
        if stage.prepare is not None:
            stage.prepare(model)
        done = None if checkpoint_dir is None else _stage_marker(checkpoint_dir, index, stage)
        if done is not None and done.with_suffix(".weights.h5").is_file():
            model.load_weights(done.with_suffix(".weights.h5"))
            history = merge_histories(history, json.loads(done.read_text(encoding="utf-8")))
            if verbose:
                print(f"[toolkit] stage '{stage.name}' already finished in {checkpoint_dir}; skipped")
            continue
        # Changing `trainable` only takes effect after compiling again.
        trainer.compile(
            optimizer=make_optimizer(
                make_schedule(schedule, stage.learning_rate, stage.epochs * steps_per_epoch),
                clipnorm=clipnorm,
                weight_decay=weight_decay,
                lr_multipliers=stage.lr_multipliers,
            ),
            loss=loss,
            metrics=metrics,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
        )
        if verbose and len(stages) > 1:
            print(f"[toolkit] stage '{stage.name}': {stage.epochs} epochs, lr={stage.learning_rate:g}")
        min_epochs = 0 if schedule == "constant" else stage.epochs // 2
        stage_callbacks = _callbacks(validation, early_stopping, callbacks, min_epochs)
        if done is not None:
            stage_callbacks += _checkpoint_callbacks(checkpoint_dir, index, stage, validation)
        result = trainer.fit(
            train,
            validation_data=validation,
            epochs=stage.epochs,
            callbacks=stage_callbacks,
            shuffle=False,  # the dataset is already shuffled, with the task's seed
            verbose=verbose,
        )
        stage_history = {k: [float(v) for v in values] for k, values in result.history.items()}
        _check_converging(stage_history, stage)
        if done is not None:
            model.save_weights(done.with_suffix(".weights.h5"))
            done.write_text(json.dumps(stage_history), encoding="utf-8")
        history = merge_histories(history, stage_history)
    return history


def _training_model(model: keras.Model, sam_rho: float) -> keras.Model:
    if sam_rho:
        return SharpnessAwareModel(model.inputs, model.outputs, rho=sam_rho, name=model.name)
    return replica_safe(model)


def _stage_marker(checkpoint_dir, index: int, stage: Stage) -> Path:
    directory = Path(checkpoint_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"stage_{index}_{stage.name}.done.json"


def _checkpoint_callbacks(checkpoint_dir, index: int, stage: Stage, validation) -> list:
    directory = Path(checkpoint_dir)
    return [
        keras.callbacks.BackupAndRestore(str(directory / "backup" / f"stage_{index}_{stage.name}")),
        keras.callbacks.ModelCheckpoint(
            str(directory / "best.keras"), save_best_only=True,
            monitor="val_loss" if validation is not None else "loss",
        ),
    ]


def _check_converging(history: dict, stage: Stage) -> None:
    losses = history.get("loss", [])
    if losses and not np.all(np.isfinite(losses)):
        raise FloatingPointError(
            f"Training diverged: the loss became NaN or infinite in stage '{stage.name}' "
            f"(epoch {len(losses)}, learning rate {stage.learning_rate:g}), so it was stopped. "
            "Try a lower learning_rate, or check the inputs and targets for extreme values."
        )


def check_early_stopping(early_stopping) -> int | None:
    """``early_stopping`` as an int patience (or ``None``: off), else a ``ValueError``."""
    if early_stopping is None:
        return None
    if isinstance(early_stopping, bool) or not isinstance(
            early_stopping, (int, np.integer)) or early_stopping < 1:
        raise ValueError("early_stopping must be None (off) or a patience of at least 1 "
                         f"epoch. Received: early_stopping={early_stopping!r}")
    return int(early_stopping)


def check_callbacks(callbacks) -> list:
    """``callbacks`` (``None`` or a list of ``keras.callbacks.Callback``) as a list, else a
    ``ValueError`` naming the item that is not a callback."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise ValueError("callbacks must be None or a list of keras.callbacks.Callback. "
                         f"Received: callbacks={callbacks!r:.80}")
    for index, callback in enumerate(callbacks):
        if not isinstance(callback, keras.callbacks.Callback):
            raise ValueError(f"callbacks[{index}] is not a keras.callbacks.Callback. "
                             f"Received: {callback!r:.80}")
    return list(callbacks)


def _callbacks(validation, early_stopping, user_callbacks, min_epochs: int = 0) -> list:
    callbacks = list(user_callbacks or []) + [keras.callbacks.TerminateOnNaN()]
    early_stopping = check_early_stopping(early_stopping)
    if validation is not None and early_stopping is not None:
        callbacks.append(
            MinimumEpochsEarlyStopping(
                min_epochs, monitor="val_loss", patience=early_stopping, restore_best_weights=True
            )
        )
    return callbacks


def merge_histories(first: dict, second: dict) -> dict:
    """Append the per-epoch lists of history ``second`` to those of ``first``."""
    merged = {key: list(values) for key, values in (first or {}).items()}
    for key, values in second.items():
        merged.setdefault(key, []).extend(values)
    return merged
