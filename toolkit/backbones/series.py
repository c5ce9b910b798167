"""Series backbones: real-valued windows ``(batch, lookback, channels)`` -> features.

Every builder has the signature ``builder(input_shape, units=64, dropout=0.1) ->
keras.Model`` and returns one feature vector per window; the forecasting head maps it
to all horizon steps at once (direct multi-horizon output).

- ``linear``: the window itself, flattened. With the dense head this is a linear model
  on the lags (DLinear's lesson: a strong baseline on ETT).
- ``mlp``: two hidden layers on the flattened window.
- ``lstm`` / ``gru``: the last state of a recurrent layer.
- ``cnn``: a TCN, residual blocks of dilated causal convolutions whose receptive field
  covers the window; the features are those of the last step.
"""

from __future__ import annotations

import keras

from toolkit.backbones.registry import register_backbone
from toolkit.backbones.sequence import _rnn


def _window(input_shape):
    return keras.Input(shape=input_shape, name="window")


@register_backbone("linear", kind="series",
                   description="the flattened window (a linear model with the dense head)")
def build_linear(input_shape=(96, 1), units=64, dropout=0.1):
    """The flattened window; ``units`` and ``dropout`` are unused (kept for one signature)."""
    window = _window(input_shape)
    return keras.Model(window, keras.layers.Flatten(name="flatten")(window), name="linear")


@register_backbone("mlp", kind="series", description="two ReLU layers on the flattened window")
def build_mlp(input_shape=(96, 1), units=64, dropout=0.1):
    """Flatten, then two ``Dense(units, relu)`` layers with dropout."""
    window = _window(input_shape)
    x = keras.layers.Flatten(name="flatten")(window)
    for level in (1, 2):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{level}")(x)
        x = keras.layers.Dropout(dropout, name=f"dropout_{level}")(x)
    return keras.Model(window, x, name="mlp")


def _register_recurrent(name: str, description: str):
    @register_backbone(name, kind="series", recurrent=True, description=description)
    def build(input_shape=(96, 1), units=64, dropout=0.1):
        window = _window(input_shape)
        x = _rnn(name, units, name=name, return_sequences=False)(window)
        x = keras.layers.Dropout(dropout, name="dropout")(x)
        return keras.Model(window, x, name=name)

    build.__name__ = f"build_{name}"
    build.__doc__ = f"{description}; see the module docstring for the arguments."
    return build


build_lstm = _register_recurrent("lstm", "LSTM over the window, last state")
build_gru = _register_recurrent("gru", "GRU over the window, last state")


@register_backbone("cnn", kind="series",
                   description="TCN: residual dilated causal convolutions, last step")
def build_tcn(input_shape=(96, 1), units=64, dropout=0.1, kernel_size=3):
    """Residual blocks of two causal ``Conv1D(units, kernel_size)`` with dilations
    1, 2, 4, ... until the receptive field covers the window (Bai et al., 2018)."""
    window = _window(input_shape)
    x = keras.layers.Conv1D(units, 1, name="input_projection")(window)
    dilation, receptive_field, block = 1, 1, 0
    while receptive_field < input_shape[0]:
        block += 1
        residual = x
        for conv in (1, 2):
            x = keras.layers.Conv1D(units, kernel_size, padding="causal", dilation_rate=dilation,
                                    activation="relu", name=f"block{block}_conv{conv}")(x)
            x = keras.layers.Dropout(dropout, name=f"block{block}_dropout{conv}")(x)
        x = keras.layers.Add(name=f"block{block}_add")([residual, x])
        receptive_field += 2 * (kernel_size - 1) * dilation
        dilation *= 2
    x = keras.layers.Cropping1D((input_shape[0] - 1, 0), name="last_step")(x)
    x = keras.layers.Flatten(name="features")(x)
    return keras.Model(window, x, name="cnn")
