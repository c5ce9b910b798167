"""Learning-rate schedules: cosine with warm-up, one-cycle, constant."""

from __future__ import annotations

import math

import keras
from keras import ops

SCHEDULES = ("cosine", "onecycle", "constant")


@keras.saving.register_keras_serializable(package="toolkit")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Smith's one-cycle policy: cosine warm-up to ``max_lr``, then cosine anneal.

    Parameters
    ----------
    max_lr : float
        Peak learning rate.
    total_steps : int
        Optimizer steps in the whole cycle.
    warmup_fraction : float
        Share of the steps spent warming up (fastai uses 0.25).
    div_factor : float
        Starting rate is ``max_lr / div_factor``.
    final_div_factor : float
        Final rate is ``max_lr / (div_factor * final_div_factor)``.

    Examples
    --------
    >>> schedule = OneCycle(max_lr=1e-2, total_steps=100)
    >>> round(float(schedule(25)), 6)
    0.01
    """

    def __init__(self, max_lr, total_steps, warmup_fraction=0.25, div_factor=25.0,
                 final_div_factor=1e4):
        self.max_lr = max_lr
        self.total_steps = total_steps
        self.warmup_fraction = warmup_fraction
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = max(1.0, self.total_steps * self.warmup_fraction)
        anneal = max(1.0, self.total_steps - warmup)
        start = self.max_lr / self.div_factor
        end = start / self.final_div_factor
        up = ops.clip(step / warmup, 0.0, 1.0)
        down = ops.clip((step - warmup) / anneal, 0.0, 1.0)
        rising = start + (self.max_lr - start) * (1 - ops.cos(math.pi * up)) / 2
        falling = end + (self.max_lr - end) * (1 + ops.cos(math.pi * down)) / 2
        return ops.where(step < warmup, rising, falling)

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
        }


def check_schedule(name: str) -> str:
    """``name`` if it is one of :data:`SCHEDULES`, else a ``ValueError`` naming them."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}. Received: schedule={name!r}")
    return name


def make_schedule(name: str, learning_rate: float, total_steps: int):
    """Return the learning rate (a float or a schedule) for ``name``.

    ``"cosine"`` warms up linearly over 5% of the steps, then decays to 1% of the
    rate; ``"onecycle"`` is :class:`OneCycle`; ``"constant"`` is the plain float.
    """
    check_schedule(name)
    total_steps = max(int(total_steps), 1)
    if name == "constant":
        return learning_rate
    if name == "onecycle":
        return OneCycle(max_lr=learning_rate, total_steps=total_steps)
    warmup = max(1, total_steps // 20)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate / 10,
        decay_steps=max(total_steps - warmup, 1),
        alpha=0.01,
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )
