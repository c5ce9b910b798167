"""AdamW with optional per-layer learning-rate multipliers (discriminative rates)."""

from __future__ import annotations

import keras

DEFAULT_WEIGHT_DECAY = 1e-4


@keras.saving.register_keras_serializable(package="toolkit")
class DiscriminativeAdamW(keras.optimizers.AdamW):
    """AdamW whose step for each variable is scaled by its layer group's multiplier.

    This is fastai's discriminative learning rates done the Keras way: lower layers of
    a pretrained backbone get smaller rates than the layers above them, all inside one
    optimizer.

    Parameters
    ----------
    lr_multipliers : dict[str, float]
        Maps a layer-name prefix (e.g. ``"fire2"``) to a multiplier of the learning
        rate; a variable whose path has a segment starting with the prefix gets it,
        variables matching no prefix use the full rate.
    **kwargs
        Passed to :class:`keras.optimizers.AdamW`.

    Examples
    --------
    >>> optimizer = DiscriminativeAdamW(learning_rate=1e-3, lr_multipliers={"conv1": 0.1})
    """

    def __init__(self, lr_multipliers: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.lr_multipliers = dict(lr_multipliers or {})

    def _multiplier(self, variable) -> float:
        segments = getattr(variable, "path", variable.name).split("/")
        for prefix, multiplier in self.lr_multipliers.items():
            if any(segment.startswith(prefix) for segment in segments):
                return multiplier
        return 1.0

    def update_step(self, gradient, variable, learning_rate):
        scaled = learning_rate * self._multiplier(variable)
        return super().update_step(gradient, variable, scaled)

    def get_config(self):
        return {**super().get_config(), "lr_multipliers": self.lr_multipliers}


def make_optimizer(
    learning_rate,
    *,
    clipnorm: float | None = None,
    lr_multipliers: dict | None = None,
    weight_decay: float = DEFAULT_WEIGHT_DECAY,
) -> keras.optimizers.Optimizer:
    """The default optimizer: AdamW, optionally clipped and with per-layer rates."""
    options = {"learning_rate": learning_rate, "weight_decay": weight_decay, "clipnorm": clipnorm}
    if lr_multipliers:
        return DiscriminativeAdamW(lr_multipliers=lr_multipliers, **options)
    return keras.optimizers.AdamW(**options)
