"""Vision backbones built here: small CNNs for small images, and SqueezeNet v1.1.

Every builder has the signature ``builder(input_shape, weights=None) -> keras.Model``.
``input_shape`` is ``(height, width, channels)``; the model takes images already
normalised as the backbone's registry spec says and returns the last feature map
``(batch, height', width', channels')``, unpooled: the task adds pooling and head.

Every layer is named so that the ``layer_groups`` prefixes in each spec's ``extra``
split the weighted layers into groups for discriminative fine-tuning. A group is a
prefix, or a tuple of prefixes where one prefix cannot cover it; both forms can be
passed straight to ``str.startswith``.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import keras
from keras import layers, ops

from toolkit.backbones.registry import get_backbone_spec, register_backbone, serializable
from toolkit.backbones.weights import IMAGENET, check_weights, imagenet_download

VGG_WIDTHS = (32, 64)
RESNET_WIDTHS = (32, 64, 128)
# One block per stage (0.3M params): two would more than double the CPU time of an
# MNIST epoch for a model that already reaches ~99%.
RESNET_BLOCKS_PER_STAGE = 1
RESNEXT_CARDINALITY = 8
# A bottleneck block outputs this many times the channels of its grouped 3x3 convolution.
RESNEXT_EXPANSION = 2
DENSENET_GROWTH_RATE = 12
# Six bottleneck layers per block: DenseNet-BC with depth 40, the smallest in the paper.
DENSENET_LAYERS_PER_BLOCK = 6
DENSENET_COMPRESSION = 0.5
# Keras's default 0.99 needs hundreds of steps before the moving statistics used at
# inference are usable; these small-image nets often train for fewer than that.
BATCH_NORM_MOMENTUM = 0.9

# (squeeze, expand) filters of fire modules 2..9; a 3x3/2 max-pool follows fire 3 and 5.
SQUEEZENET_FIRES = {2: (16, 64), 3: (16, 64), 4: (32, 128), 5: (32, 128),
                    6: (48, 192), 7: (48, 192), 8: (64, 256), 9: (64, 256)}
SQUEEZENET_POOL_AFTER = (3, 5)
SQUEEZENET_WEIGHTS_URL = (
    "https://github.com/rcmalli/keras-squeezenet/releases/download/v1.0/"
    "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


def check_input_shape(backbone: str, input_shape: Sequence[int],
                      channels: Sequence[int] | None = None) -> tuple[int, int, int]:
    """Validate a vision builder's ``input_shape`` against the backbone's spec.

    Parameters
    ----------
    backbone : str
        Registry name; its spec's ``min_image_size`` bounds height and width.
    input_shape : sequence of int
        ``(height, width, channels)``.
    channels : sequence of int, optional
        Allowed channel counts; any positive count when ``None``.

    Returns
    -------
    tuple of int
        ``(height, width, channels)`` as plain ints.

    Raises
    ------
    ValueError
        If the shape is not three positive integers, is smaller than the
        backbone's minimum size, or has a channel count not in ``channels``.
    """
    shape = tuple(input_shape) if isinstance(input_shape, Sequence) else ()
    if len(shape) != 3 or not all(
        isinstance(dim, numbers.Integral) and dim > 0 for dim in shape
    ):
        raise ValueError(
            "Expected input_shape=(height, width, channels) with positive integers. "
            f"Received: input_shape={input_shape!r}"
        )
    height, width, depth = (int(dim) for dim in shape)
    min_size = get_backbone_spec(backbone, kind="vision").min_image_size
    if min(height, width) < min_size:
        raise ValueError(
            f"Backbone {backbone!r} expects images of at least {min_size}x{min_size} "
            f"pixels. Received: input_shape={(height, width, depth)}"
        )
    if channels is not None and depth not in channels:
        raise ValueError(
            f"Backbone {backbone!r} expects images with {' or '.join(map(str, channels))} "
            f"channels. Received: input_shape={(height, width, depth)}"
        )
    return height, width, depth


@serializable
class GroupedConv2D(layers.Conv2D):
    """``Conv2D`` whose ``groups`` are computed as one plain convolution per group.

    TensorFlow has no CPU kernel for grouped convolutions, so Keras compiles them
    with XLA, whose gradient is about 20x slower than a dense convolution of the
    same shape. Splitting into per-group convolutions gives the same outputs from
    the same kernel (weights and config are those of ``Conv2D``) with fast
    gradients on every backend.

    Examples
    --------
    >>> conv = GroupedConv2D(16, 3, groups=8)
    >>> tuple(conv(keras.ops.ones((1, 5, 5, 8))).shape)
    (1, 3, 3, 16)
    """

    def convolution_op(self, inputs, kernel):
        axis = -1 if self.data_format == "channels_last" else 1
        groups = zip(ops.split(inputs, self.groups, axis=axis),
                     ops.split(kernel, self.groups, axis=-1))
        return ops.concatenate(
            [super(GroupedConv2D, self).convolution_op(x, k) for x, k in groups], axis=axis
        )


def _conv_bn(x, filters: int, kernel_size: int, name: str, strides: int = 1,
             groups: int = 1):
    conv = GroupedConv2D if groups > 1 else layers.Conv2D
    # No bias: the BatchNormalization right after it has its own offset.
    x = conv(filters, kernel_size, strides=strides, padding="same", groups=groups,
             use_bias=False, kernel_initializer="he_normal", name=f"{name}_conv")(x)
    return layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)


def _conv_bn_relu(x, filters: int, kernel_size: int, name: str, strides: int = 1,
                  groups: int = 1):
    x = _conv_bn(x, filters, kernel_size, name, strides=strides, groups=groups)
    return layers.ReLU(name=f"{name}_relu")(x)


def _shortcut(x, filters: int, strides: int, name: str):
    """Identity, or a strided 1x1 projection where the block changes the shape."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return _conv_bn(x, filters, 1, f"{name}_0", strides=strides)


def _residual_output(shortcut, residual, name: str):
    x = layers.Add(name=f"{name}_add")([shortcut, residual])
    return layers.ReLU(name=f"{name}_out")(x)


def _basic_block(x, filters: int, strides: int, name: str):
    shortcut = _shortcut(x, filters, strides, name)
    y = _conv_bn_relu(x, filters, 3, f"{name}_1", strides=strides)
    y = _conv_bn(y, filters, 3, f"{name}_2")
    return _residual_output(shortcut, y, name)


def _grouped_bottleneck_block(x, width: int, strides: int, name: str):
    filters = width * RESNEXT_EXPANSION
    shortcut = _shortcut(x, filters, strides, name)
    y = _conv_bn_relu(x, width, 1, f"{name}_1")
    y = _conv_bn_relu(y, width, 3, f"{name}_2", strides=strides, groups=RESNEXT_CARDINALITY)
    y = _conv_bn(y, filters, 1, f"{name}_3")
    return _residual_output(shortcut, y, name)


def _residual_network(name: str, input_shape: tuple[int, int, int], block) -> keras.Model:
    """Stem plus one stage per ``RESNET_WIDTHS`` entry, halving the size between stages."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = _conv_bn_relu(inputs, RESNET_WIDTHS[0], 3, "stem")
    for stage, width in enumerate(RESNET_WIDTHS, start=1):
        for index in range(1, RESNET_BLOCKS_PER_STAGE + 1):
            strides = 2 if stage > 1 and index == 1 else 1
            x = block(x, width, strides, f"stage{stage}_block{index}")
    return keras.Model(inputs, x, name=name)


def _bn_relu(x, name: str):
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _dense_layer(x, name: str):
    """BN-ReLU-Conv1x1 bottleneck then BN-ReLU-Conv3x3, concatenated onto the input."""
    y = x
    for step, (filters, kernel_size) in enumerate(
        ((4 * DENSENET_GROWTH_RATE, 1), (DENSENET_GROWTH_RATE, 3)), start=1
    ):
        y = _bn_relu(y, f"{name}_{step}")
        y = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False,
                          kernel_initializer="he_normal", name=f"{name}_{step}_conv")(y)
    return layers.Concatenate(name=f"{name}_concat")([x, y])


def _transition(x, name: str):
    """Compress the channels and halve the size between dense blocks."""
    filters = int(x.shape[-1] * DENSENET_COMPRESSION)
    x = _bn_relu(x, name)
    x = layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="he_normal",
                      name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, name=f"{name}_pool")(x)


def _fire(x, index: int, squeeze: int, expand: int):
    # Creation order (squeeze, expand1x1, expand3x3) is the order the pretrained
    # weights file lists the layers in, and legacy HDF5 loading goes by that order.
    name = f"fire{index}"
    x = layers.Conv2D(squeeze, 1, activation="relu", name=f"{name}_squeeze1x1")(x)
    left = layers.Conv2D(expand, 1, activation="relu", name=f"{name}_expand1x1")(x)
    right = layers.Conv2D(expand, 3, padding="same", activation="relu",
                          name=f"{name}_expand3x3")(x)
    return layers.Concatenate(name=f"{name}_concat")([left, right])


@register_backbone(
    "lenet", kind="vision", normalization="unit", default_image_size=32,
    min_image_size=16, description="LeNet-5 style CNN (3 conv layers, ~50k params)",
    extra={"layer_groups": ["conv1", "conv2", "conv3"]},
)
def build_lenet(input_shape: tuple[int, int, int], weights: str | None = None) -> keras.Model:
    """LeNet-5 with ReLU and max-pooling; C1 and C5 pad so 16-pixel images fit.

    See the module docstring for the arguments.
    """
    check_weights("lenet", weights)
    inputs = keras.Input(shape=check_input_shape("lenet", input_shape), name="image")
    x = layers.Conv2D(6, 5, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 5, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(120, 5, padding="same", activation="relu", name="conv3")(x)
    return keras.Model(inputs, x, name="lenet")


@register_backbone(
    "vgg", kind="vision", normalization="unit", default_image_size=32,
    min_image_size=8, description="Small VGG-style CNN (2 blocks of two 3x3 convs, 66k params)",
    extra={"layer_groups": ["block1", "block2"]},
)
def build_vgg(input_shape: tuple[int, int, int], weights: str | None = None) -> keras.Model:
    """Two VGG blocks (Simonyan & Zisserman, 2015), each two 3x3 convolutions with
    BatchNorm and ReLU, then 2x2 max-pooling; widths ``VGG_WIDTHS``.

    The fast choice for MNIST-sized images: on the MNIST benchmark's split it matched
    ``resnet``'s accuracy in about half the time (docs/tasks/image_classification.md).
    See the module docstring for the arguments.
    """
    check_weights("vgg", weights)
    inputs = keras.Input(shape=check_input_shape("vgg", input_shape), name="image")
    x = inputs
    for block, width in enumerate(VGG_WIDTHS, start=1):
        for conv in (1, 2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False,
                              name=f"block{block}_conv{conv}")(x)
            x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM,
                                          name=f"block{block}_bn{conv}")(x)
            x = layers.ReLU(name=f"block{block}_relu{conv}")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    return keras.Model(inputs, x, name="vgg")


@register_backbone(
    "resnet", kind="vision", normalization="unit", default_image_size=32,
    min_image_size=8,
    description="Small ResNet for MNIST/CIFAR-sized images (basic blocks, 0.3M params)",
    extra={"layer_groups": ["stem", "stage1", "stage2", "stage3"]},
)
def build_resnet(input_shape: tuple[int, int, int], weights: str | None = None) -> keras.Model:
    """Stem conv plus three stages of basic residual blocks, widths 32/64/128.

    See the module docstring for the arguments.
    """
    check_weights("resnet", weights)
    shape = check_input_shape("resnet", input_shape)
    return _residual_network("resnet", shape, _basic_block)


@register_backbone(
    "resnext", kind="vision", normalization="unit", default_image_size=32,
    min_image_size=8,
    description="Small ResNeXt for MNIST/CIFAR-sized images (cardinality 8, 0.14M params)",
    extra={"layer_groups": ["stem", "stage1", "stage2", "stage3"]},
)
def build_resnext(input_shape: tuple[int, int, int], weights: str | None = None) -> keras.Model:
    """The ``resnet`` layout with grouped-convolution bottleneck blocks.

    See the module docstring for the arguments.
    """
    check_weights("resnext", weights)
    shape = check_input_shape("resnext", input_shape)
    return _residual_network("resnext", shape, _grouped_bottleneck_block)


@register_backbone(
    "densenet", kind="vision", normalization="unit", default_image_size=32,
    min_image_size=8,
    description="Small DenseNet-BC-40 for MNIST/CIFAR-sized images (growth 12, 0.18M params)",
    extra={"layer_groups": ["stem", "block1", "block2", "block3"]},
)
def build_densenet(input_shape: tuple[int, int, int], weights: str | None = None) -> keras.Model:
    """DenseNet-BC: three dense blocks joined by transitions with compression 0.5.

    See the module docstring for the arguments.
    """
    check_weights("densenet", weights)
    inputs = keras.Input(shape=check_input_shape("densenet", input_shape), name="image")
    x = layers.Conv2D(2 * DENSENET_GROWTH_RATE, 3, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name="stem_conv")(inputs)
    for block in (1, 2, 3):
        for index in range(1, DENSENET_LAYERS_PER_BLOCK + 1):
            x = _dense_layer(x, f"block{block}_layer{index}")
        if block < 3:
            x = _transition(x, f"block{block}_transition")
    # Dense layers are pre-activation, so the last block's output is not yet normalised.
    x = _bn_relu(x, "block3_out")
    return keras.Model(inputs, x, name="densenet")


@register_backbone(
    "squeezenet", kind="vision", normalization="caffe", default_image_size=227,
    min_image_size=64, pretrained=True,
    description="SqueezeNet v1.1 (ImageNet weights available, 0.7M params)",
    extra={"layer_groups": ["conv1", ("fire2", "fire3"), ("fire4", "fire5"),
                            ("fire6", "fire7"), ("fire8", "fire9")]},
)
def build_squeezenet(input_shape: tuple[int, int, int],
                     weights: str | None = None) -> keras.Model:
    """SqueezeNet v1.1 without its classifier, laid out so the original weights load.

    ``weights`` may be ``"imagenet"`` (downloaded from the keras-squeezenet
    release) or the path of that legacy HDF5 file; both need 3-channel input.
    See the module docstring for the other arguments.
    """
    check_weights("squeezenet", weights)
    shape = check_input_shape("squeezenet", input_shape)
    if weights is not None and shape[-1] != 3:
        raise ValueError(
            "SqueezeNet's pretrained weights expect 3-channel (RGB) images: convert "
            "grayscale images to RGB, or use weights=None. "
            f"Received: input_shape={shape}, weights={weights!r}"
        )
    inputs = keras.Input(shape=shape, name="image")
    x = layers.Conv2D(64, 3, strides=2, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for index, (squeeze, expand) in SQUEEZENET_FIRES.items():
        x = _fire(x, index, squeeze, expand)
        if index in SQUEEZENET_POOL_AFTER:
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)
    model = keras.Model(inputs, x, name="squeezenet")
    if weights == IMAGENET:
        with imagenet_download("squeezenet"):
            weights = keras.utils.get_file(
                SQUEEZENET_WEIGHTS_URL.rsplit("/", 1)[-1], SQUEEZENET_WEIGHTS_URL,
                cache_subdir="models",
            )
    if weights is not None:
        model.load_weights(weights)
    return model
