"""The learning-rate range test (Smith, 2017; fastai's ``lr_find``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from toolkit.training.optimizers import make_optimizer
from toolkit.training.replicas import replica_safe


@dataclass
class LRFinderResult:
    """Learning rates tried, the smoothed loss at each, and a suggested rate.

    The suggestion is the rate at the steepest descent of the smoothed loss before
    its minimum: large enough to learn fast, below where training becomes unstable.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    suggestion: float

    def plot(self):
        """Return a matplotlib ``Figure`` of loss against learning rate (log scale)."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6, 4))
        axes = figure.add_subplot()
        axes.plot(self.learning_rates, self.losses)
        axes.axvline(self.suggestion, color="tab:red", linestyle="--",
                     label=f"suggested {self.suggestion:.2g}")
        axes.set(xscale="log", xlabel="learning rate", ylabel="loss (smoothed)",
                 title="Learning-rate range test")
        axes.legend()
        figure.tight_layout()
        return figure


class _RangeTest(keras.callbacks.Callback):
    def __init__(self, rates: np.ndarray, smoothing: float = 0.9, diverge: float = 4.0):
        super().__init__()
        self.rates = rates
        self.smoothing = smoothing
        self.diverge = diverge
        self.losses: list[float] = []
        self._average = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(float(self.rates[len(self.losses)]))

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"])
        step = len(self.losses) + 1
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        smoothed = self._average / (1 - self.smoothing**step)
        self.losses.append(smoothed)
        best = min(self.losses)
        if not np.isfinite(smoothed) or smoothed > self.diverge * best or step >= len(self.rates):
            self.model.stop_training = True


def find_learning_rate(
    model: keras.Model,
    dataset: tf.data.Dataset,
    *,
    loss,
    min_lr: float = 1e-6,
    max_lr: float = 1.0,
    steps: int = 100,
    clipnorm: float | None = None,
) -> LRFinderResult:
    """Train ``model`` for up to ``steps`` batches at exponentially growing rates.

    The model's weights are restored afterwards. Under a multi-replica strategy, call
    it inside the strategy's scope (it trains through :func:`replica_safe`).
    """
    if not 0 < min_lr < max_lr:
        raise ValueError(
            f"Expected 0 < min_lr < max_lr. Received: min_lr={min_lr!r}, max_lr={max_lr!r}"
        )
    rates = np.geomspace(min_lr, max_lr, steps)
    weights = model.get_weights()
    trainer = replica_safe(model)
    trainer.compile(optimizer=make_optimizer(min_lr, clipnorm=clipnorm), loss=loss)
    batches = max(int(dataset.cardinality().numpy()), 1)
    probe = _RangeTest(rates)
    trainer.fit(dataset.repeat(), steps_per_epoch=batches, epochs=int(np.ceil(steps / batches)),
              callbacks=[probe], shuffle=False, verbose=0)
    model.set_weights(weights)
    losses = np.asarray(probe.losses)
    tried = rates[: len(losses)]
    return LRFinderResult(tried, losses, _suggest(tried, losses))


def _suggest(rates: np.ndarray, losses: np.ndarray) -> float:
    finite = np.isfinite(losses)
    rates, losses = rates[finite], losses[finite]
    lowest = int(np.argmin(losses)) if len(losses) else 0
    if len(losses) < 3 or lowest < 2:
        # The loss diverged at once or only rose: the rates tried start too high.
        start = f" (from {rates[0]:g})" if len(rates) else ""
        warnings.warn(
            f"lr_find: the loss was lowest at the first rates tried{start}, so there is no "
            "falling stretch to pick a rate from and the suggestion is a guess at the bottom "
            "of the range. Try a lower min_lr or more steps.", RuntimeWarning, stacklevel=4)
        if len(losses) < 3:
            return float(rates[0]) if len(rates) else float("nan")
        return float(max(rates[lowest] / 10, rates[0]))  # within the range tried
    slopes = np.gradient(losses[: lowest + 1], np.log(rates[: lowest + 1]))
    return float(rates[int(np.argmin(slopes))])
