"""Box formats, checks and box-aware augmentation."""

import numpy as np
import pytest

from toolkit.preprocessing.boxes import (
    BOX_FORMATS,
    BadAnnotations,
    augment_with_boxes,
    box_augmentation_layers,
    check_boxes,
    convert_boxes,
    pad_boxes,
    resize_boxes,
)

XYXY = np.array([[10.0, 20.0, 50.0, 80.0], [0.0, 0.0, 200.0, 100.0]], "float32")
SIZE = (100, 200)


@pytest.mark.parametrize("fmt", BOX_FORMATS)
def test_every_format_round_trips(fmt):
    converted = convert_boxes(XYXY, "xyxy", fmt, image_size=SIZE)
    np.testing.assert_allclose(convert_boxes(converted, fmt, "xyxy", image_size=SIZE), XYXY,
                               atol=1e-4)


def test_known_conversions():
    np.testing.assert_allclose(convert_boxes(XYXY[:1], "xyxy", "xywh"), [[10, 20, 40, 60]])
    np.testing.assert_allclose(convert_boxes(XYXY[:1], "xyxy", "rel_xyxy", image_size=SIZE),
                               [[0.05, 0.2, 0.25, 0.8]])
    np.testing.assert_allclose(convert_boxes(XYXY[:1], "xyxy", "center_xywh"), [[30, 50, 40, 60]])


def test_conversion_errors_name_the_argument():
    with pytest.raises(ValueError, match="source='xyzw'"):
        convert_boxes(XYXY, "xyzw")
    with pytest.raises(ValueError, match="image_size=None"):
        convert_boxes(XYXY, "rel_xyxy")
    with pytest.raises(ValueError, match=r"shape=\(3,\)"):
        convert_boxes([1, 2, 3], "xyxy")


def test_resize_boxes_scales_each_axis():
    np.testing.assert_allclose(resize_boxes(XYXY[:1], SIZE, (50, 400)), [[20, 10, 100, 40]])


@pytest.mark.parametrize("box, label, reason", [
    ([10, 10, 10, 20], "cat", "zero area"),
    ([10, 10, 5, 20], "cat", r"reversed corners \(is box_format right\?\)"),
    ([-20, 0, 10, 10], "cat", "outside"),
    ([0, 0, 10, 120], "cat", "outside"),
    ([np.nan, 0, 10, 10], "cat", "non-finite"),
    ([0, 0, 10, 10], "dog", "unknown class"),
])
def test_bad_boxes_raise_or_are_dropped_and_counted(box, label, reason):
    with pytest.raises(ValueError, match=reason):
        check_boxes([box], [label], SIZE, classes=["cat"], where="a.jpg")
    dropped = BadAnnotations()
    boxes, labels = check_boxes([box, [1, 1, 9, 9]], [label, "cat"], SIZE, classes=["cat"],
                                on_bad="drop", dropped=dropped)
    assert boxes.tolist() == [[1, 1, 9, 9]] and labels.tolist() == ["cat"]
    assert sum(dropped.counts.values()) == 1
    with pytest.warns(UserWarning, match="Dropped 1 malformed"):
        dropped.warn()


def test_boxes_just_past_the_edge_are_clipped():
    boxes, _ = check_boxes([[-1, 0, 201, 100]], ["cat"], SIZE)
    assert boxes.tolist() == [[0, 0, 200, 100]]


def test_check_boxes_rejects_unknown_policy():
    with pytest.raises(ValueError, match="on_bad_annotation='skip'"):
        check_boxes([[0, 0, 1, 1]], ["a"], SIZE, on_bad="skip")


def test_pad_boxes():
    boxes, labels = pad_boxes([XYXY, XYXY[:1]], [[0, 1], [2]])
    assert boxes.shape == (2, 2, 4) and labels.tolist() == [[0, 1], [2, -1]]


def _rectangle_images(count=6, size=96):
    rng = np.random.default_rng(0)
    images = np.zeros((count, size, size, 3), "uint8")
    boxes = np.zeros((count, 2, 4), "float32")
    for i in range(count):
        x, y = rng.integers(20, 50, 2)
        w, h = rng.integers(15, 30, 2)
        images[i, y:y + h, x:x + w] = 255
        boxes[i, 0] = [x, y, x + w, y + h]
    labels = np.tile(np.array([[0, -1]], "int32"), (count, 1))
    return images, boxes, labels


@pytest.mark.parametrize("augment", ["flip", "full"])
def test_augmentation_keeps_boxes_on_their_objects(augment):
    images, boxes, labels = _rectangle_images()
    layers = box_augmentation_layers(augment, seed=3)
    for _ in range(3):  # different random draws
        new_images, new_boxes, new_labels = augment_with_boxes(images, boxes, labels, layers)
        assert new_images.shape == images.shape and new_labels[:, 1].tolist() == [-1] * len(images)
        for image, box, label in zip(new_images, new_boxes, new_labels):
            if label[0] < 0:  # pushed out of the image entirely
                continue
            bright = image.max(axis=-1) > 100 if augment == "flip" else image.max(axis=-1) > 60
            ys, xs = np.nonzero(bright)
            found = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            # The rectangle's pixels and its moved box agree to within a few pixels
            # (interpolation blurs the edges of zoomed rectangles).
            np.testing.assert_allclose(box[0], found, atol=3)


def test_unknown_augmentation_is_rejected():
    with pytest.raises(ValueError, match="augment='heavy'"):
        box_augmentation_layers("heavy")


def test_unknown_class_error_lists_the_known_classes_shortened():
    many = [f"class{i}" for i in range(30)]
    with pytest.raises(ValueError, match=r"classes are \['class0', .*'class9', \.\.\. \(30 in all\)\]"):
        check_boxes([[0, 0, 5, 5]], ["dog"], SIZE, classes=many)
