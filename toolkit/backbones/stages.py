"""A vision backbone's stage outputs: the feature maps decoders and feature pyramids need.

Every vision backbone of the registry is a functional ``keras.Model`` whose input is
halved in size a few times on the way to its last feature map. A *stage* is one of
those resolutions; its output is the **last** layer computed at that resolution (for
MobileNetV2 at stride 2 that is ``block_1_expand_relu``, the layer the Keras/TF
segmentation tutorials tap by hand). Finding stages from the shapes, not from a table of
layer names, makes the helper work for every backbone in the registry and any new one,
including those with ``"valid"`` padding whose sizes are a pixel or two short of an
exact halving (SqueezeNet at 160 pixels: 79, 39, 19, 9).

Shared by the segmentation decoders (U-Net skips, FPN) and free for detection heads
(feature pyramid over strides 8/16/32).

Examples
--------
>>> from toolkit.backbones.registry import get_backbone_spec
>>> from toolkit.backbones.stages import stage_model
>>> backbone = get_backbone_spec("resnet", kind="vision").builder(input_shape=(32, 32, 3))
>>> stages = stage_model(backbone)
>>> stages.strides
[1, 2, 4]
>>> [tuple(output.shape[1:3]) for output in stages.outputs]
[(32, 32), (16, 16), (8, 8)]
"""

from __future__ import annotations

import math

import keras


def find_stages(backbone: keras.Model) -> list[tuple[int, str]]:
    """Return ``(stride, layer_name)`` for each resolution stage of ``backbone``.

    Parameters
    ----------
    backbone : keras.Model
        A functional vision backbone with a fixed input size ``(batch, h, w, c)``.

    Returns
    -------
    list of (int, str)
        From the highest resolution to the lowest; ``stride`` is the input size over
        the stage's size, rounded to a power of two (1 when a stage keeps the input
        size). Layers before the first convolution (input rescaling) are never a
        stage, nor is anything coarser than the backbone's output (SE gates).

    Raises
    ------
    ValueError
        If the backbone has no fixed input size or no 4-D layer outputs.
    """
    height = backbone.input.shape[1]
    if height is None:
        raise ValueError(
            "find_stages needs a backbone built for a fixed image size. "
            f"Received: input shape {tuple(backbone.input.shape)}"
        )
    last_at_stride: dict[int, str] = {}
    seen_convolution = False
    for layer in backbone.layers:
        # Layers before the first convolution (input rescaling, grayscale-to-RGB) are
        # preprocessing, not features.
        seen_convolution = seen_convolution or isinstance(layer, keras.layers.Conv2D) or (
            isinstance(layer, keras.layers.DepthwiseConv2D))
        if not seen_convolution:
            continue
        output = layer.output
        shape = getattr(output, "shape", None)
        if shape is None or len(shape) != 4 or shape[1] is None:
            continue
        size = shape[1]
        stride = 2 ** max(0, round(math.log2(height / size)))
        # Padding layers make a map slightly *larger* than the stage's size (81 at
        # stride 2 of 160); valid convolutions make it slightly smaller (79). Only the
        # latter are stages.
        if height / stride - 2 < size <= math.ceil(height / stride):
            last_at_stride[stride] = layer.name
    if not last_at_stride:
        raise ValueError(f"Backbone {backbone.name!r} has no 4-D feature maps to tap.")
    # Squeeze-and-excitation gates are (1, 1) maps inside a stage, not a coarser stage:
    # nothing is coarser than the backbone's own output.
    final_size = backbone.output.shape[1]
    final_stride = 2 ** max(0, round(math.log2(height / final_size))) if final_size else None
    return sorted((stride, name) for stride, name in last_at_stride.items()
                  if final_stride is None or stride <= final_stride)


def stage_model(backbone: keras.Model, min_stride: int = 1,
                max_stride: int | None = None) -> keras.Model:
    """A model sharing ``backbone``'s layers whose outputs are its stage feature maps.

    Parameters
    ----------
    backbone : keras.Model
        A functional vision backbone (see :func:`find_stages`).
    min_stride, max_stride : int, optional
        Keep only stages whose stride lies in ``[min_stride, max_stride]`` (a detector's
        pyramid might keep 8..32).

    Returns
    -------
    keras.Model
        Same input as ``backbone``; a list of outputs from high to low resolution. Its
        ``strides`` attribute lists each output's stride. The layers (and weights) are
        the backbone's own, so freezing or loading weights into one affects both.
    """
    stages = [(stride, name) for stride, name in find_stages(backbone)
              if stride >= min_stride and (max_stride is None or stride <= max_stride)]
    if not stages:
        raise ValueError(
            f"No stage of backbone {backbone.name!r} has a stride in [{min_stride}, "
            f"{max_stride}]. Received: strides {[s for s, _ in find_stages(backbone)]}"
        )
    outputs = [backbone.get_layer(name).output for _, name in stages]
    model = keras.Model(backbone.input, outputs, name=f"{backbone.name}_stages")
    model.strides = [stride for stride, _ in stages]
    return model


__all__ = ["find_stages", "stage_model"]
