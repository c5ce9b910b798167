"""Segmentation decoders over a backbone's stage outputs, the per-pixel classifier, and
the flip augmentation that moves the mask with the pixels.

Decoders take the list of stage feature maps from
:func:`toolkit.backbones.stages.stage_model` (high to low resolution) and return a
feature map at the input size:

* ``"unet"`` (Ronneberger et al., 2015): from the deepest stage up, upsample, concatenate
  the skip of the next stage, two 3x3 conv-BN-ReLU. Over the ``unet`` encoder this is
  the classic U-Net; over a pretrained encoder, a U-Net decoder on its stages.
* ``"fpn"`` (Kirillov et al., 2019, the Panoptic-FPN semantic branch): a feature
  pyramid over the stages of stride 4 and coarser, each level brought to stride 4 and
  summed, then upsampled to the input.

Upsampling is bilinear to each skip's exact size, so backbones with ``"valid"``
padding (SqueezeNet's 79/39/19/9 pixels at 160) need no cropping.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from toolkit.backbones.registry import serializable
from toolkit.backbones.vision import BATCH_NORM_MOMENTUM

DECODERS = ("unet", "fpn")
#: Decoder widths follow the skips they merge, capped here (MobileNetV2's 576-channel
#: stride-16 stage would otherwise cost more than the encoder).
MAX_DECODER_FILTERS = 128
FPN_FILTERS = 128
#: Width of the conv block run at full resolution when the shallowest stage is coarser.
FULL_RESOLUTION_FILTERS = 32


def _conv_bn_relu(x, filters: int, name: str, kernel_size: int = 3):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _resize_to(x, size: tuple[int, int], name: str):
    """Bilinear upsampling to ``size``: a 2x ``UpSampling2D`` when exact, else ``Resizing``."""
    height, width = x.shape[1], x.shape[2]
    if (height, width) == tuple(size):
        return x
    if (2 * height, 2 * width) == tuple(size):
        return layers.UpSampling2D(2, interpolation="bilinear", name=name)(x)
    return layers.Resizing(size[0], size[1], interpolation="bilinear", name=name)(x)


def _to_full_resolution(x, image_size: tuple[int, int]):
    if tuple(x.shape[1:3]) == tuple(image_size):
        return x
    x = _resize_to(x, image_size, "decoder_full_upsample")
    return _conv_bn_relu(x, FULL_RESOLUTION_FILTERS, "decoder_full")


def unet_decoder(stages: list, image_size: tuple[int, int]):
    """U-Net expanding path over ``stages`` (high to low resolution); see the module doc."""
    x = stages[-1]
    for level in range(len(stages) - 2, -1, -1):
        skip = stages[level]
        x = _resize_to(x, skip.shape[1:3], f"decoder{level}_upsample")
        x = layers.Concatenate(name=f"decoder{level}_concat")([x, skip])
        filters = min(int(skip.shape[-1]), MAX_DECODER_FILTERS)
        x = _conv_bn_relu(x, filters, f"decoder{level}_1")
        x = _conv_bn_relu(x, filters, f"decoder{level}_2")
    return _to_full_resolution(x, image_size)


def fpn_decoder(stages: list, strides: list[int], image_size: tuple[int, int]):
    """Panoptic-FPN semantic branch over the stages of stride >= 4; see the module doc."""
    levels = [stage for stage, stride in zip(stages, strides) if stride >= 4] or stages[-1:]
    laterals = [layers.Conv2D(FPN_FILTERS, 1, name=f"fpn_lateral{i}")(stage)
                for i, stage in enumerate(levels)]
    pyramid = [laterals[-1]]
    for i in range(len(levels) - 2, -1, -1):
        top = _resize_to(pyramid[0], laterals[i].shape[1:3], f"fpn_topdown{i}")
        pyramid.insert(0, layers.Add(name=f"fpn_merge{i}")([laterals[i], top]))
    finest = pyramid[0].shape[1:3]
    merged = []
    for i, level in enumerate(pyramid):
        level = _conv_bn_relu(level, FPN_FILTERS // 2, f"fpn_out{i}")
        merged.append(_resize_to(level, finest, f"fpn_upsample{i}"))
    x = merged[0] if len(merged) == 1 else layers.Add(name="fpn_sum")(merged)
    x = _conv_bn_relu(x, FPN_FILTERS // 2, "fpn_fuse")
    return _to_full_resolution(x, image_size)


def segmentation_head(features, num_classes: int):
    """Per-pixel class probabilities ``(batch, h, w, num_classes)``, softmax in float32."""
    logits = layers.Conv2D(num_classes, 1, name="classifier", dtype="float32")(features)
    return layers.Softmax(name="masks", dtype="float32")(logits)


@serializable
class RandomFlipFlags(keras.layers.Layer):
    """One random 0/1 flag per image (1 = flip) while training; all zeros at inference.

    Used with :class:`FlipWhere` on the image *and* on the model's output, so the
    prediction comes back in the frame of the (unflipped) target mask: horizontal flip
    augmentation that keeps masks aligned without touching the data pipeline.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        batch = ops.shape(images)[0]
        if not training:
            return ops.zeros((batch,), dtype=self.compute_dtype)
        draws = keras.random.uniform((batch,), seed=self.seed_generator)
        return ops.cast(draws < 0.5, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@serializable
class FlipWhere(keras.layers.Layer):
    """Flip each ``(batch, h, w, c)`` map left-right where its flag is 1."""

    def call(self, inputs):
        maps, flags = inputs
        flags = ops.cast(ops.reshape(flags, (-1, 1, 1, 1)), maps.dtype)
        return flags * ops.flip(maps, axis=2) + (1 - flags) * maps

    def compute_output_shape(self, input_shape):
        return input_shape[0]


__all__ = ["DECODERS", "unet_decoder", "fpn_decoder", "segmentation_head",
           "RandomFlipFlags", "FlipWhere"]
