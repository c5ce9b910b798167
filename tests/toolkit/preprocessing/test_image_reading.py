"""Image files: one reader for every task, agreeing with the folder reader."""

import warnings

import keras
import numpy as np
import pytest
from PIL import Image

from toolkit.preprocessing.image import (
    check_images,
    match_channels_and_size,
    read_image,
    read_image_files,
    read_image_folder,
)


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (17, 23, 3), dtype="uint8")).save(tmp_path / "rgb.png")
    Image.fromarray(rng.integers(0, 255, (17, 23, 4), dtype="uint8"), mode="RGBA").save(
        tmp_path / "rgba.png")
    paletted = Image.fromarray(rng.integers(0, 4, (17, 23), dtype="uint8"), mode="P")
    paletted.putpalette(rng.integers(0, 255, 768).tolist())
    paletted.save(tmp_path / "palette.png")
    Image.fromarray(rng.integers(0, 255, (17, 23), dtype="uint8")).save(tmp_path / "grey.jpg")
    return tmp_path


@pytest.mark.parametrize("name", ["rgb.png", "rgba.png", "palette.png", "grey.jpg"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [None, (8, 11), (40, 30)])
def test_read_image_equals_keras_load_img(images, name, channels, size):
    expected = keras.utils.img_to_array(keras.utils.load_img(
        images / name, color_mode="grayscale" if channels == 1 else "rgb", target_size=size))
    image = read_image(images / name, channels, size)
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image, expected.astype("uint8"))


@pytest.mark.parametrize("channels", [1, 3])
def test_sixteen_bit_grey_files_are_scaled_as_the_folder_reader_scales_them(tmp_path, channels):
    wide = (np.arange(12).reshape(3, 4) * 5000).astype("uint16")  # up to 55000
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.fromarray(wide).save(tmp_path / folder / "depth.png")
    from_file = read_image(tmp_path / "a" / "depth.png", channels)
    from_folder, _ = read_image_folder(tmp_path, (3, 4), channels)
    np.testing.assert_array_equal(from_file, from_folder[0])
    np.testing.assert_array_equal(from_file[..., 0], np.round(wide / 257).astype("uint8"))


@pytest.mark.parametrize("channels", [1, 3])
def test_bilinear_file_reading_equals_the_folder_reader(tmp_path, channels):
    # A model fitted on a class folder must see the same photos given as files alike.
    rng = np.random.default_rng(0)
    paths = []
    for index, size in enumerate([(50, 37), (20, 64), (32, 32)]):
        (tmp_path / "photos" / f"class_{index}").mkdir(parents=True)
        paths.append(tmp_path / "photos" / f"class_{index}" / "a.png")
        # Grey files for grey reading: TensorFlow's PNG decoder and PIL turn colour into
        # grey with different weights (Rec. 709 vs 601), a difference of their own.
        shape = (*size, 3) if channels == 3 else size
        Image.fromarray(rng.integers(0, 256, shape, dtype="uint8")).save(paths[-1])
    from_folder, _ = read_image_folder(tmp_path / "photos", (32, 28), channels)
    from_files = read_image_files(paths, (32, 28), channels, interpolation="bilinear")
    np.testing.assert_array_equal(from_files, from_folder)


def test_missing_and_unreadable_files_are_named(tmp_path):
    with pytest.raises(ValueError, match="Image file not found.*missing.png"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="Could not read image.*text.png"):
        read_image_files([tmp_path / "text.png"], (8, 8), 3)


def test_channels_and_size_are_matched_for_one_image_or_a_batch():
    grey = np.arange(16, dtype="uint8").reshape(4, 4, 1)
    assert match_channels_and_size(grey, 3, (8, 6)).shape == (8, 6, 3)
    batch = np.stack([np.repeat(grey, 3, axis=-1)] * 2)
    np.testing.assert_allclose(match_channels_and_size(batch, 1, (4, 4))[..., 0], batch[..., 0])
    assert match_channels_and_size(batch, 3, (4, 4)) is batch  # unchanged: no copy


def test_float_images_within_zero_to_one_are_warned_about():
    scaled = np.linspace(0, 1, 2 * 4 * 4 * 3).reshape(2, 4, 4, 3)
    with pytest.warns(UserWarning, match=r"floats within \[0, 1\].*images \* 255"):
        check_images(scaled)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fine in (scaled * 255, np.zeros((2, 4, 4, 3)), (scaled * 255).astype("uint8")):
            assert check_images(fine).shape == (2, 4, 4, 3)


def test_colour_arrays_turn_grey_as_colour_files_do(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (1, 12, 12, 3), dtype="uint8")
    Image.fromarray(rgb[0]).save(tmp_path / "colour.png")
    from_file = read_image_files([tmp_path / "colour.png"], (12, 12), 1)
    from_array = match_channels_and_size(rgb, 1, (12, 12))
    assert np.abs(from_array - from_file.astype("float64")).max() <= 1.0  # PIL rounds
