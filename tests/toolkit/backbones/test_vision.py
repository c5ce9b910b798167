"""Tests for the vision backbones: the small CNNs, SqueezeNet and keras.applications.

Everything runs offline on tiny inputs. The SqueezeNet test reads the real ImageNet
weights from ``../shared/weights`` (or ``$TOOLKIT_WEIGHTS_DIR``) and skips when
they are absent.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from keras.src.utils import file_utils

from toolkit.backbones import applications, vision  # noqa: F401  (registration)
from toolkit.backbones.registry import get_backbone_spec

SMALL_BACKBONES = ["lenet", "vgg", "resnet", "resnext", "densenet", "squeezenet"]
APPLICATIONS = ["mobilenetv2", "resnet50", "densenet121", "convnext_tiny", "efficientnetb0"]


def _images(shape: tuple[int, int, int], batch: int = 2) -> np.ndarray:
    return np.random.default_rng(0).random((batch, *shape), dtype="float32")


def assert_layer_groups(model: keras.Model, layer_groups: list) -> None:
    """Every layer with weights falls in exactly one group, and no group is empty."""
    sizes = [0] * len(layer_groups)
    for layer in model.layers:
        if not layer.weights:
            continue
        matches = [i for i, prefix in enumerate(layer_groups) if layer.name.startswith(prefix)]
        assert len(matches) == 1, f"layer {layer.name!r} matches groups {matches}"
        sizes[matches[0]] += 1
    assert all(sizes), f"empty layer groups: {[g for g, n in zip(layer_groups, sizes) if not n]}"


def assert_round_trip(model: keras.Model, images: np.ndarray, tmp_path: Path) -> None:
    """The model saves as .keras and loads in safe mode with the same outputs."""
    path = tmp_path / "m.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(images)),
        keras.ops.convert_to_numpy(model(images)),
        rtol=1e-5, atol=1e-5,
    )


def run_backbone_test(name: str, input_shape: tuple[int, int, int], tmp_path: Path,
                      round_trip: bool = True) -> tuple[keras.Model, np.ndarray]:
    """Build ``name``, run it, check its layer groups and (optionally) saving.

    Returns the model and its features on two images.
    """
    spec = get_backbone_spec(name, kind="vision")
    model = spec.builder(input_shape)
    images = _images(input_shape)
    features = model(images)
    assert len(features.shape) == 4
    assert features.shape[0] == 2
    assert_layer_groups(model, spec.extra["layer_groups"])
    if round_trip:
        assert_round_trip(model, images, tmp_path)
    return model, keras.ops.convert_to_numpy(features)


@pytest.fixture
def offline(monkeypatch):
    """Make weight downloads fail at once, the way ``keras.utils.get_file`` does offline."""

    def fail(*args, **kwargs):
        # keras.utils.get_file reports a failed fetch as a bare Exception.
        raise Exception("URL fetch failure: no network in tests")

    # keras.applications call get_file through this module, toolkit through keras.utils.
    monkeypatch.setattr(file_utils, "get_file", fail)
    monkeypatch.setattr(keras.utils, "get_file", fail)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", SMALL_BACKBONES)
def test_small_backbone_at_min_size(name, channels, tmp_path):
    size = get_backbone_spec(name).min_image_size
    # Non-square on purpose: height and width must be handled independently.
    shape = (size, size + 5, channels)
    model, features = run_backbone_test(name, shape, tmp_path, round_trip=channels == 3)
    assert tuple(model.input_shape[1:]) == shape
    assert features.ndim == 4 and min(features.shape[1:]) >= 1 and np.isfinite(features).all()


@pytest.mark.parametrize("name", APPLICATIONS)
def test_application_at_small_size(name, tmp_path):
    # Saving is slow for these (10-110 MB each): round-trip only EfficientNet, whose
    # built-in Rescaling/Normalization layers are the likeliest to break, and
    # MobileNetV2 in the grayscale test below.
    model, features = run_backbone_test(name, (32, 40, 3), tmp_path,
                                        round_trip=name == "efficientnetb0")
    assert tuple(model.input_shape[1:]) == (32, 40, 3)
    assert features.ndim == 4 and features.shape[-1] >= 512 and np.isfinite(features).all()


def test_application_repeats_a_grayscale_channel(tmp_path):
    model, _ = run_backbone_test("mobilenetv2", (32, 32, 1), tmp_path)
    assert model.get_layer("grayscale_to_rgb").output.shape[-1] == 3


def test_grouped_conv_matches_keras_grouped_conv():
    images = _images((6, 6, 16))
    reference = keras.layers.Conv2D(8, 3, groups=4)
    split = vision.GroupedConv2D(8, 3, groups=4)
    reference(images)
    split(images)
    split.set_weights(reference.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(split(images)),
        keras.ops.convert_to_numpy(reference(images)),
        rtol=1e-5, atol=1e-5,
    )


def test_squeezenet_loads_real_imagenet_weights(squeezenet_weights):
    model = get_backbone_spec("squeezenet").builder((227, 227, 3), weights=str(squeezenet_weights))
    assert tuple(model.output.shape) == (None, 13, 13, 512)
    with h5py.File(squeezenet_weights, "r") as weights_file:
        # Legacy HDF5 loading goes by layer order, not name: compare every layer by name.
        layer_names = [name.decode() for name in weights_file.attrs["layer_names"]]
        conv_names = [name for name in layer_names if len(weights_file[name].attrs["weight_names"])]
        assert len(conv_names) == 25  # conv1 + 8 fire modules x 3 (no conv10: no top)
        for file_name in conv_names:
            group = weights_file[file_name]
            kernel, bias = (group[name][()] for name in group.attrs["weight_names"])
            # Keras 3 forbids "/" in layer names: "fire9/expand3x3" is "fire9_expand3x3".
            layer = model.get_layer(file_name.replace("/", "_"))
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.kernel), kernel)
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.bias), bias)


# 96 is the smallest size MobileNetV2 has ImageNet weights for (no warning).
@pytest.mark.parametrize("name, input_shape", [("mobilenetv2", (96, 96, 3)),
                                               ("squeezenet", (64, 64, 3))])
def test_imagenet_download_failure_says_what_to_do(name, input_shape, offline):
    with pytest.raises(ValueError, match="could not be downloaded.*path/to/file.h5"):
        get_backbone_spec(name).builder(input_shape, weights="imagenet")


def test_application_loads_a_weights_file(tmp_path):
    build = get_backbone_spec("mobilenetv2").builder
    path = tmp_path / "mobilenetv2.weights.h5"
    source = build((32, 32, 3))
    source.save_weights(path)
    loaded = build((32, 32, 3), weights=str(path))
    for expected, actual in zip(source.weights, loaded.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(actual),
                                      keras.ops.convert_to_numpy(expected))


@pytest.mark.parametrize("name", ["squeezenet", "mobilenetv2"])
def test_missing_weights_file_is_named(name, tmp_path):
    missing = tmp_path / "nope.h5"
    with pytest.raises(ValueError, match="nope.h5"):
        get_backbone_spec(name).builder((64, 64, 3), weights=str(missing))


def test_weights_on_backbone_without_pretrained_weights(offline):
    with pytest.raises(ValueError, match="no pretrained weights.*squeezenet"):
        get_backbone_spec("lenet").builder((32, 32, 3), weights="imagenet")


def test_pretrained_squeezenet_needs_rgb(offline):
    with pytest.raises(ValueError, match="3-channel"):
        get_backbone_spec("squeezenet").builder((64, 64, 1), weights="imagenet")


@pytest.mark.parametrize("input_shape", [(32, 32), (32, 0, 3), (32.0, 32, 3), "32x32x3"])
def test_malformed_input_shape(input_shape):
    with pytest.raises(ValueError, match="Received: input_shape="):
        get_backbone_spec("resnet").builder(input_shape)


@pytest.mark.parametrize("name, input_shape", [("lenet", (15, 32, 1)),
                                               ("squeezenet", (64, 63, 3)),
                                               ("mobilenetv2", (16, 16, 3))])
def test_too_small_input(name, input_shape):
    with pytest.raises(ValueError, match="at least"):
        get_backbone_spec(name).builder(input_shape)


def test_application_rejects_other_channel_counts():
    with pytest.raises(ValueError, match="1 or 3 channels"):
        get_backbone_spec("mobilenetv2").builder((32, 32, 4))
