"""Audio backbones: spectrogram features ``(batch, frames, bins)`` -> features.

Every builder takes ``input_shape=(frames, bins)`` (``frames`` may be ``None`` when
``return_sequences`` is set) and returns a ``keras.Model`` named after the backbone:

- ``return_sequences=False`` (classification): one feature vector per utterance;
- ``return_sequences=True`` (CTC transcription): ``(batch, frames // time_reduction,
  features)``, one vector per (pooled) frame.

``extra["time_reduction"]`` says how much the time axis shrinks,
``extra["min_shape"]`` the smallest ``(frames, bins)`` spectrogram the model's pooling
accepts (the task checks it before building), and ``extra["layer_groups"]`` the
layer-name prefixes (bottom to top) the fine-tuning schedule unfreezes.
"""

from __future__ import annotations

import keras

from toolkit.backbones.registry import register_backbone


def _conv_block(x, filters: int, pool: tuple[int, int], name: str):
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return keras.layers.MaxPooling2D(pool, name=f"{name}_pool")(x)


def _frames_to_sequence(x, name: str):
    """``(batch, frames, bins, channels)`` -> ``(batch, frames, bins * channels)``."""
    bins, channels = x.shape[2], x.shape[3]
    return keras.layers.Reshape((-1, bins * channels), name=name)(x)


@register_backbone(
    "cnn", kind="audio",
    description="2-D CNN over the spectrogram (3 conv blocks, flattened: keeps where in time)",
    extra={"time_reduction": 2, "min_shape": (8, 8),
           "layer_groups": ["block1", "block2", "block3", "dense"]},
)
def build_audio_cnn(input_shape, return_sequences: bool = False, filters: int = 32,
                    units: int = 128, dropout: float = 0.25) -> keras.Model:
    """Three conv-BN-ReLU-maxpool blocks (``filters``, 2x, 2x), then features.

    Classification flattens the last feature map (a global average pool throws away
    *where* in the utterance a pattern is, and did far worse on spoken digits) and maps
    it to ``units``; transcription pools time only once and keeps one vector per frame.
    """
    features = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Reshape((-1, input_shape[1], 1), name="add_channel")(features)
    for index, scale in enumerate((1, 2, 2), start=1):
        pool = (2, 2) if not return_sequences or index == 1 else (1, 2)
        x = _conv_block(x, filters * scale, pool, f"block{index}")
    if return_sequences:
        x = _frames_to_sequence(x, "to_sequence")
        x = keras.layers.Dropout(dropout, name="dense_dropout")(x)
        x = keras.layers.Dense(units, activation="relu", name="dense")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dropout(dropout, name="dense_dropout")(x)
        x = keras.layers.Dense(units, activation="relu", name="dense")(x)
    return keras.Model(features, x, name="cnn")


@register_backbone(
    "ds_cnn", kind="audio",
    description="depthwise-separable CNN (Zhang et al. 2017, 'Hello Edge'), small and fast",
    extra={"time_reduction": 2, "min_shape": (1, 1),
           "layer_groups": ["stem", "ds1", "ds2", "ds3", "ds4"]},
)
def build_ds_cnn(input_shape, return_sequences: bool = False, filters: int = 64,
                 blocks: int = 4, dropout: float = 0.2) -> keras.Model:
    """A (10, 4) stride-2 convolution, then ``blocks`` depthwise + pointwise pairs.

    As in Hello Edge, classification averages the last map; transcription averages
    over frequency only and keeps time.
    """
    features = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Reshape((-1, input_shape[1], 1), name="add_channel")(features)
    x = keras.layers.Conv2D(filters, (10, 4), strides=2, padding="same", use_bias=False,
                            name="stem_conv")(x)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for index in range(1, blocks + 1):
        name = f"ds{index}"
        x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"{name}_dw")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_dw_bn")(x)
        x = keras.layers.ReLU(name=f"{name}_dw_relu")(x)
        x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_pw_bn")(x)
        x = keras.layers.ReLU(name=f"{name}_pw_relu")(x)
    if return_sequences:
        # Frequency is averaged away by a fixed-size pooling over the (known) bin axis.
        x = keras.layers.AveragePooling2D((1, x.shape[2]), name="pool_frequency")(x)
        x = keras.layers.Reshape((-1, filters), name="to_sequence")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(features, x, name="ds_cnn")


@register_backbone(
    "crnn", kind="audio", recurrent=True,
    description="convolutions then a bidirectional GRU (CRNN); the default for transcription",
    extra={"time_reduction": 4, "min_shape": (4, 4),
           "layer_groups": ["block1", "block2", "rnn"]},
)
def build_crnn(input_shape, return_sequences: bool = False, filters: int = 16,
               units: int = 64, layers: int = 2, dropout: float = 0.25) -> keras.Model:
    """Two 2x2-pooling conv blocks (40 ms per output step at a 10 ms hop), then
    ``layers`` BiGRUs.

    Classification keeps the last BiGRU's final states; transcription its every step.
    """
    features = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Reshape((-1, input_shape[1], 1), name="add_channel")(features)
    x = _conv_block(x, filters, (2, 2), "block1")
    x = _conv_block(x, filters * 2, (2, 2), "block2")
    x = _frames_to_sequence(x, "to_sequence")
    x = keras.layers.Dropout(dropout, name="rnn_input_dropout")(x)
    for index in range(1, layers + 1):
        last = index == layers
        x = keras.layers.Bidirectional(
            keras.layers.GRU(units, return_sequences=return_sequences or not last),
            name=f"rnn{index}",
        )(x)
        x = keras.layers.Dropout(dropout, name=f"rnn{index}_dropout")(x)
    return keras.Model(features, x, name="crnn")


__all__ = ["build_audio_cnn", "build_crnn", "build_ds_cnn"]
