"""The U-Net encoder (Ronneberger et al., 2015), trained from scratch.

The contracting path alone is the backbone: ``UNET_DEPTH + 1`` blocks of two
3x3 convolutions (batch-normalised, ReLU) with ``UNET_BASE_FILTERS * 2**i`` filters,
a 2x2 max-pool between blocks. Its output is the bottleneck at stride ``2**UNET_DEPTH``;
the expanding path is a segmentation decoder
(:func:`toolkit.heads.segmentation.unet_decoder`) that takes its skips from each
block's last layer through :func:`toolkit.backbones.stages.stage_model`.
With the defaults (depth 4, 16 base filters) the encoder has 1.18M parameters and the
whole U-Net about 1.9M, the size of the hand-written plain-Keras U-Net the project measured against.
"""

from __future__ import annotations

import keras
from keras import layers

from toolkit.backbones.registry import register_backbone
from toolkit.backbones.vision import BATCH_NORM_MOMENTUM, check_input_shape
from toolkit.backbones.weights import check_weights

UNET_DEPTH = 4
UNET_BASE_FILTERS = 16


def conv_block(x, filters: int, name: str):
    """Two 3x3 convolutions, each batch-normalised and ReLU-activated (the U-Net unit)."""
    for index in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                          kernel_initializer="he_normal", name=f"{name}_conv{index}")(x)
        x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn{index}")(x)
        x = layers.ReLU(name=f"{name}_relu{index}")(x)
    return x


@register_backbone(
    "unet", kind="vision", normalization="unit", default_image_size=160,
    min_image_size=2 ** UNET_DEPTH,
    description="U-Net encoder (depth 4, 16-256 filters, 1.2M params; the decoder adds 0.7M)",
    extra={"layer_groups": [f"block{index}" for index in range(1, UNET_DEPTH + 2)]},
)
def build_unet(input_shape: tuple[int, int, int], weights: str | None = None) -> keras.Model:
    """The U-Net contracting path; see the module docstring.

    ``input_shape`` is ``(height, width, channels)``; sizes divisible by 16 keep every
    skip an exact halving (other sizes work: the decoder resizes to each skip).
    ``weights`` must be ``None`` (trained from scratch).
    """
    check_weights("unet", weights)
    inputs = keras.Input(shape=check_input_shape("unet", input_shape), name="image")
    x = inputs
    for index in range(1, UNET_DEPTH + 2):
        if index > 1:
            x = layers.MaxPooling2D(2, name=f"pool{index - 1}")(x)
        x = conv_block(x, UNET_BASE_FILTERS * 2 ** (index - 1), f"block{index}")
    return keras.Model(inputs, x, name="unet")


__all__ = ["build_unet", "conv_block"]
