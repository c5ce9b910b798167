"""Stage outputs of vision backbones (skips for U-Net/FPN decoders) and the U-Net encoder."""

import keras
import numpy as np
import pytest

from toolkit.backbones import unet  # noqa: F401  (registers "unet")
from toolkit.backbones.registry import get_backbone_spec
from toolkit.backbones.stages import find_stages, stage_model


def _build(name, size=64, channels=3):
    return get_backbone_spec(name, kind="vision").builder(input_shape=(size, size, channels))


def test_unet_encoder_stages_are_its_blocks():
    stages = stage_model(_build("unet", 64))
    assert stages.strides == [1, 2, 4, 8, 16]
    assert [o.shape[-1] for o in stages.outputs] == [16, 32, 64, 128, 256]
    assert [layer for _, layer in find_stages(_build("unet", 64))] == [
        f"block{i}_relu2" for i in range(1, 6)]


def test_mobilenetv2_stages_are_the_usual_skip_layers():
    names = [name for _, name in find_stages(_build("mobilenetv2", 96))]
    assert names[:4] == ["block_1_expand_relu", "block_3_expand_relu",
                         "block_6_expand_relu", "block_13_expand_relu"]


def test_valid_padding_sizes_still_make_stages_and_share_weights():
    backbone = _build("squeezenet", 96)
    stages = stage_model(backbone, min_stride=4, max_stride=16)
    assert stages.strides == [4, 8, 16]
    outputs = stages(np.zeros((1, 96, 96, 3), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs[-1]),
                               keras.ops.convert_to_numpy(backbone(np.zeros((1, 96, 96, 3)))))
    assert stages.get_layer("fire9_squeeze1x1") is backbone.get_layer("fire9_squeeze1x1")


def test_no_stage_in_range_is_a_clear_error():
    with pytest.raises(ValueError, match="stride"):
        stage_model(_build("resnet", 32), min_stride=64)


def test_unet_has_no_pretrained_weights():
    with pytest.raises(ValueError, match="pretrained"):
        get_backbone_spec("unet", kind="vision").builder(input_shape=(32, 32, 3), weights="w.h5")
