"""ImageNet-pretrained vision backbones from ``keras.applications``.

Every builder has the signature ``builder(input_shape, weights=None) -> keras.Model``
(see ``vision.py``); ``weights`` may also be ``"imagenet"``, downloaded by Keras.
The applications need 3-channel input: for 1-channel (grayscale) images the model
repeats the channel three times in a ``Concatenate`` layer named
``"grayscale_to_rgb"``, so pretrained weights still apply. Each application's
``layer_groups`` follow its resolution stages; the prefixes are the layer names
Keras gives, so they change only if Keras renames its layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import keras

from toolkit.backbones.registry import register_backbone
from toolkit.backbones.vision import check_input_shape
from toolkit.backbones.weights import IMAGENET, check_weights, imagenet_download

# Smallest input every application here accepts (ResNet50 and DenseNet121 say 32).
MIN_IMAGE_SIZE = 32
DEFAULT_IMAGE_SIZE = 224


@dataclass(frozen=True)
class _Application:
    """What the registry needs to know about one ``keras.applications`` model."""

    constructor: Callable[..., keras.Model]
    normalization: str
    layer_groups: list
    description: str
    options: dict = field(default_factory=dict)


def _block_prefixes(first: int, last: int) -> tuple[str, ...]:
    # The trailing "_" keeps "block_1_" from also matching "block_10_".
    return tuple(f"block_{index}_" for index in range(first, last + 1))


_APPLICATIONS = {
    "mobilenetv2": _Application(
        keras.applications.MobileNetV2, "tf",
        [("Conv1", "bn_Conv1", "expanded_conv"), _block_prefixes(1, 2),
         _block_prefixes(3, 5), _block_prefixes(6, 12), _block_prefixes(13, 16) + ("Conv_1",)],
        "MobileNetV2 (ImageNet weights available, 2.3M params)",
    ),
    "resnet50": _Application(
        keras.applications.ResNet50, "caffe",
        ["conv1", "conv2", "conv3", "conv4", "conv5"],
        "ResNet50 (ImageNet weights available, 23.6M params)",
    ),
    "densenet121": _Application(
        keras.applications.DenseNet121, "torch",
        # "poolN_*" is the transition after dense block N-1; "bn" the final norm.
        ["conv1", ("conv2", "pool2"), ("conv3", "pool3"), ("conv4", "pool4"), ("conv5", "bn")],
        "DenseNet121 (ImageNet weights available, 7.0M params)",
    ),
    "convnext_tiny": _Application(
        keras.applications.ConvNeXtTiny, "raw",
        # "layer_normalization" is the final norm; Keras names it without the model prefix.
        [("convnext_tiny_stem", "convnext_tiny_stage_0"),
         ("convnext_tiny_downsampling_block_0", "convnext_tiny_stage_1"),
         ("convnext_tiny_downsampling_block_1", "convnext_tiny_stage_2"),
         ("convnext_tiny_downsampling_block_2", "convnext_tiny_stage_3", "layer_normalization")],
        "ConvNeXt-Tiny (ImageNet weights available, 27.8M params)",
        # Its own ImageNet mean/std normalisation, hence normalization="raw".
        {"include_preprocessing": True},
    ),
    "efficientnetb0": _Application(
        keras.applications.EfficientNetB0, "raw",
        # "normalization" is its built-in input normalisation, which has weights.
        [("normalization", "stem", "block1"), ("block2", "block3"), ("block4", "block5"),
         ("block6", "block7", "top")],
        "EfficientNetB0 (ImageNet weights available, 4.0M params)",
    ),
}


def _build_application(name: str, input_shape: tuple[int, int, int],
                       weights: str | None) -> keras.Model:
    application = _APPLICATIONS[name]
    check_weights(name, weights)
    height, width, channels = check_input_shape(name, input_shape, channels=(1, 3))
    inputs = keras.Input(shape=(height, width, channels), name="image")
    rgb = inputs if channels == 3 else keras.layers.Concatenate(
        name="grayscale_to_rgb")([inputs, inputs, inputs])
    arguments = dict(include_top=False, input_tensor=rgb, input_shape=(height, width, 3),
                     **application.options)
    if weights == IMAGENET:
        with imagenet_download(name):
            features = application.constructor(weights=IMAGENET, **arguments)
    else:
        features = application.constructor(weights=None, **arguments)
    # Built on `input_tensor`, the application takes a list of inputs; rewrapping
    # gives the plain single-tensor signature callers use (the layers are shared).
    model = keras.Model(inputs, features.outputs[0], name=features.name)
    if weights not in (None, IMAGENET):
        model.load_weights(weights)
    return model


def _register_application(name: str) -> Callable[..., keras.Model]:
    application = _APPLICATIONS[name]

    @register_backbone(
        name, kind="vision", normalization=application.normalization,
        default_image_size=DEFAULT_IMAGE_SIZE, min_image_size=MIN_IMAGE_SIZE,
        pretrained=True, description=application.description,
        extra={"layer_groups": application.layer_groups},
    )
    def build(input_shape: tuple[int, int, int], weights: str | None = None) -> keras.Model:
        return _build_application(name, input_shape, weights)

    build.__name__ = f"build_{name}"
    build.__doc__ = f"{application.description}; see the module docstring for the arguments."
    return build


build_mobilenetv2 = _register_application("mobilenetv2")
build_resnet50 = _register_application("resnet50")
build_densenet121 = _register_application("densenet121")
build_convnext_tiny = _register_application("convnext_tiny")
build_efficientnetb0 = _register_application("efficientnetb0")
