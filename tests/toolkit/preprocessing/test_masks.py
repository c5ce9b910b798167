"""Mask reading (grey, palette, colour, instance ids), checks, and class-preserving resizing."""

import numpy as np
import pytest
from PIL import Image

from toolkit.data.mask_folders import find_mask_folders, pair_mask_files
from toolkit.preprocessing.masks import (
    check_mask,
    check_palette,
    collapse_instances,
    read_mask,
    resize_mask,
)


@pytest.mark.parametrize("size", [(7, 5), (3, 11), (16, 16), (1, 1)])
def test_resize_keeps_class_ids(size):
    mask = np.random.default_rng(0).choice([0, 3, 7, 255], size=(9, 6))
    resized = resize_mask(mask, size)
    assert resized.shape == size
    assert set(np.unique(resized)) <= {0, 3, 7, 255}


def test_resize_up_then_down_is_exact():
    mask = np.array([[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(resize_mask(resize_mask(mask, (6, 9)), (2, 3)), mask)


def test_grey_palette_and_colour_masks(tmp_path):
    ids = np.array([[0, 1], [2, 1]], "uint8")
    Image.fromarray(ids).save(tmp_path / "grey.png")
    paletted = Image.fromarray(ids, mode="P")
    paletted.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)
    paletted.save(tmp_path / "palette.png")
    colours = np.array([[[0, 0, 0], [128, 0, 0]], [[0, 128, 0], [128, 0, 0]]], "uint8")
    Image.fromarray(colours).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "grey.png"), ids)
    np.testing.assert_array_equal(read_mask(tmp_path / "palette.png"), ids)
    palette = [(0, 0, 0), (128, 0, 0), (0, 128, 0)]
    np.testing.assert_array_equal(read_mask(tmp_path / "rgb.png", palette), ids)
    with pytest.raises(ValueError, match="palette"):
        read_mask(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match=r"not in the palette: \[\(0, 128, 0\)\]"):
        read_mask(tmp_path / "rgb.png", palette[:2])
    with pytest.raises(ValueError, match="not found"):
        read_mask(tmp_path / "missing.png")


def test_palettes_in_every_valid_form_pass():
    check_palette(None)
    check_palette([(0, 0, 0), [128, 0, 0]])
    check_palette(np.array([[0, 0, 0], [128, 0, 0]], "uint8"))
    check_palette({(0, 0, 0): 0, (128, 0, 0): 1, (0, 128, 0): 1})


@pytest.mark.parametrize("palette, match", [
    ("zz", "palette must be a list"),
    (5, "palette must be a list"),
    ([(0, 0)], r"entry \(0, 0\)"),
    ([(0, 0, 256)], r"entry \(0, 0, 256\)"),
    ([(0, 0, 0.5)], "entry"),
    ([(0, 0, 0), (1, 2, 3), (0, 0, 0)], "a colour twice"),
    ({(0, 0, 0): -1}, "class ids must be integers >= 0. Received: -1"),
])
def test_bad_palettes_are_named(palette, match):
    with pytest.raises(ValueError, match=match):
        check_palette(palette)


def test_instances_collapse_to_one_class():
    np.testing.assert_array_equal(collapse_instances([[0, 4], [2, 0]]), [[0, 1], [1, 0]])


@pytest.mark.parametrize("mask, match", [
    (np.zeros((4, 5), int), r"shape=\(4, 5\) for an image of shape=\(4, 4\)"),
    (np.full((4, 4), 3), r"\[0, 3\).*id 3"),
    (np.full((4, 4), -1), ">= 0"),
    (np.full((4, 4), 0.5), "integer"),
    (np.zeros((2, 4, 4), int), "2-D"),
    (np.full((4, 4), 2**32 + 1), "fit in int32"),   # would wrap to the valid id 1
    (np.full((4, 4), np.inf), "fit in int32"),
])
def test_bad_masks_are_named(mask, match):
    with pytest.raises(ValueError, match=match):
        check_mask(mask, (4, 4, 3), num_classes=3, name="mask 0")


def test_boolean_masks_are_background_and_object():
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(check_mask(mask, (2, 2), num_classes=2), [[1, 0], [0, 1]])


def test_ignore_index_is_allowed_outside_the_class_range():
    mask = np.array([[0, 255], [2, 1]])
    assert check_mask(mask, (2, 2), num_classes=3, ignore_index=255).dtype == np.int32


def test_folder_pairs_match_mask_suffixes(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for stem in ("a", "b"):
        Image.new("RGB", (4, 4)).save(tmp_path / "images" / f"{stem}.png")
    Image.new("L", (4, 4)).save(tmp_path / "masks" / "a_mask.png")
    Image.new("L", (4, 4)).save(tmp_path / "masks" / "b.png")
    images, masks = pair_mask_files(*find_mask_folders(tmp_path))
    assert [m.rsplit("/", 1)[-1] for m in masks] == ["a_mask.png", "b.png"]
    (tmp_path / "masks" / "b.png").unlink()
    with pytest.raises(ValueError, match=r"have no mask file.*\['b.png'\]"):
        pair_mask_files(tmp_path / "images", tmp_path / "masks")
    with pytest.raises(ValueError, match="mask sub-folder"):
        find_mask_folders(tmp_path / "images")


def test_folder_pairs_name_an_image_folder_without_images(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"No image files \(\.jpg.*in .*images"):
        pair_mask_files(tmp_path / "images", tmp_path / "masks")
