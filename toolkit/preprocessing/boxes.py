"""Bounding boxes: formats, checks, resizing with their image, box-aware augmentation.

Inside toolkit every box is ``xyxy`` in absolute pixels (``x_min, y_min, x_max,
y_max``) of the image it belongs to. Users declare the format they have (any of
``BOX_FORMATS``, the names ``keras.utils.bounding_boxes`` uses; ``rel_*`` formats are
fractions of the image's width and height) and :func:`convert_boxes` converts it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import keras
import numpy as np

BOX_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
               "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh")
ON_BAD_ANNOTATION = ("raise", "drop")
BOX_AUGMENTATIONS = (None, "flip", "full")
#: A box may stick out of its image by this many pixels (rounding in annotation tools)
#: before it counts as malformed; it is then clipped to the image.
OUTSIDE_TOLERANCE = 2.0
#: The label of padding rows in a batch of boxes (the Keras convention).
PADDING_LABEL = -1


def convert_boxes(boxes, source: str, target: str = "xyxy",
                  image_size: tuple[int, int] | None = None) -> np.ndarray:
    """Convert ``(n, 4)`` boxes from ``source`` format to ``target`` format.

    Parameters
    ----------
    boxes : array-like of shape (n, 4)
    source, target : str
        One of ``BOX_FORMATS``.
    image_size : (height, width), optional
        Needed when either format is relative (``rel_*``).

    Returns
    -------
    np.ndarray of float32, shape (n, 4)

    Examples
    --------
    >>> convert_boxes([[10, 20, 30, 40]], "xywh", "xyxy").tolist()
    [[10.0, 20.0, 40.0, 60.0]]
    >>> convert_boxes([[0.5, 0.5, 1.0, 1.0]], "rel_xyxy", image_size=(100, 200)).tolist()
    [[100.0, 50.0, 200.0, 100.0]]
    """
    for name, value in (("source", source), ("target", target)):
        if value not in BOX_FORMATS:
            raise ValueError(f"Unknown box format. Expected one of {BOX_FORMATS}. "
                             f"Received: {name}={value!r}")
    array = np.asarray(boxes, dtype="float32")
    if array.size == 0:
        return np.zeros((0, 4), "float32")
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"Boxes must have shape (n, 4). Received: shape={array.shape}")
    if source == target:
        return array.copy()
    relative = source.startswith("rel_") or target.startswith("rel_")
    if relative and image_size is None:
        raise ValueError(f"Relative box formats need the image size. Received: "
                         f"source={source!r}, target={target!r}, image_size=None")
    height, width = image_size if image_size is not None else (None, None)
    converted = keras.utils.bounding_boxes.convert_format(
        array, source, target, height=height, width=width)
    return np.asarray(keras.ops.convert_to_numpy(converted), dtype="float32")


def resize_boxes(boxes: np.ndarray, from_size: tuple[int, int],
                 to_size: tuple[int, int]) -> np.ndarray:
    """Scale ``xyxy`` boxes drawn on a ``from_size`` image onto a ``to_size`` image.

    Examples
    --------
    >>> resize_boxes(np.array([[10., 10., 20., 40.]]), (100, 100), (50, 200)).tolist()
    [[20.0, 5.0, 40.0, 20.0]]
    """
    scale_y = to_size[0] / from_size[0]
    scale_x = to_size[1] / from_size[1]
    return np.asarray(boxes, "float32") * np.array([scale_x, scale_y, scale_x, scale_y], "float32")


@dataclass
class BadAnnotations:
    """What :func:`check_boxes` dropped, counted by reason (for one warning at the end)."""

    counts: dict = field(default_factory=dict)

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1

    def warn(self) -> None:
        if self.counts:
            detail = ", ".join(f"{n} {reason}" for reason, n in sorted(self.counts.items()))
            warnings.warn(f"Dropped {sum(self.counts.values())} malformed box annotations "
                          f"({detail}); pass on_bad_annotation='raise' to stop on them.",
                          stacklevel=3)


def check_boxes(boxes, labels, image_size: tuple[int, int], *, classes=None,
                on_bad: str = "raise", where: str = "", dropped: BadAnnotations | None = None):
    """Validate one image's ``xyxy`` boxes; return the good boxes and labels.

    A box is malformed when it is not finite, has zero or negative area, lies more than
    ``OUTSIDE_TOLERANCE`` pixels outside the image, or its label is not in ``classes``
    (when given). Boxes within the tolerance are clipped to the image.

    Parameters
    ----------
    boxes : array-like (n, 4), xyxy pixels
    labels : sequence of n labels
    image_size : (height, width)
    classes : collection, optional
        Known labels; others are malformed.
    on_bad : "raise" or "drop"
        Raise a ``ValueError`` naming the image and box, or drop it and count it in
        ``dropped``.
    where : str
        The image's name, for messages.
    dropped : BadAnnotations, optional
        Collects the counts of dropped boxes.

    Returns
    -------
    (np.ndarray float32 (m, 4), np.ndarray object (m,))

    Examples
    --------
    >>> check_boxes([[0, 0, 5, 5]], ["cat"], (10, 10))[0].tolist()
    [[0.0, 0.0, 5.0, 5.0]]
    """
    if on_bad not in ON_BAD_ANNOTATION:
        raise ValueError(f"on_bad_annotation must be one of {ON_BAD_ANNOTATION}. "
                         f"Received: on_bad_annotation={on_bad!r}")
    boxes = np.asarray(boxes, dtype="float32").reshape(-1, 4) if len(boxes) else np.zeros((0, 4), "float32")
    labels = np.asarray(list(labels), dtype=object)
    if len(labels) != len(boxes):
        raise ValueError(f"Each box needs one label{_at(where)}. "
                         f"Received: {len(boxes)} boxes, {len(labels)} labels")
    height, width = image_size
    keep = []
    for index, (box, label) in enumerate(zip(boxes, labels)):
        reason = _problem(box, label, height, width, classes)
        if reason is None:
            keep.append(index)
        elif on_bad == "raise":
            if reason == "unknown class":
                reason += f" (the task's classes are {_shortened(list(classes))})"
            raise ValueError(
                f"Malformed box annotation{_at(where)}: {reason}. Pass "
                "on_bad_annotation='drop' to skip such boxes. "
                f"Received: box={box.tolist()} (xyxy), label={label!r}, "
                f"image size (h, w)={(height, width)}")
        elif dropped is not None:
            dropped.add(reason)
    boxes = boxes[keep]
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes, labels[keep]


def _problem(box, label, height, width, classes) -> str | None:
    if classes is not None and label not in classes:
        return "unknown class"
    if not np.isfinite(box).all():
        return "non-finite coordinates"
    x1, y1, x2, y2 = box
    if x2 < x1 or y2 < y1:
        return "reversed corners (is box_format right?)"
    if x2 == x1 or y2 == y1:
        return "zero area"
    tolerance = OUTSIDE_TOLERANCE
    if x1 < -tolerance or y1 < -tolerance or x2 > width + tolerance or y2 > height + tolerance:
        return "box outside image"
    return None


def _at(where: str) -> str:
    return f" in {where}" if where else ""


def _shortened(names: list, limit: int = 10) -> str:
    if len(names) <= limit:
        return repr(names)
    return repr(names[:limit])[:-1] + f", ... ({len(names)} in all)]"


def pad_boxes(boxes: list, labels: list, max_boxes: int | None = None):
    """Stack per-image boxes ``(m_i, 4)`` and integer labels into padded arrays.

    Returns ``(boxes (n, m, 4) float32, labels (n, m) int32)`` with padding rows of
    zeros labelled ``PADDING_LABEL``; ``m`` is the largest count (at least 1).
    """
    m = max_boxes or max([len(b) for b in boxes] + [1])
    padded = np.zeros((len(boxes), m, 4), "float32")
    ids = np.full((len(boxes), m), PADDING_LABEL, "int32")
    for index, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        count = min(len(image_boxes), m)
        padded[index, :count] = np.asarray(image_boxes, "float32")[:count]
        ids[index, :count] = np.asarray(image_labels, "int32")[:count]
    return padded, ids


def box_augmentation_layers(augment: str | None, seed: int | None = None) -> list:
    """Keras preprocessing layers that move ``xyxy`` boxes with the pixels.

    ``"flip"``: horizontal flips; ``"full"``: flips, scale (zoom in and out by up to
    30%), shifts of up to 10% and colour jitter. Empty borders are filled with black,
    not mirrored, so no unlabelled copy of an object appears. (Keras's ``RandomCrop``
    is left out: in Keras 3.15 it moves boxes by a different offset than the pixels.)
    """
    if augment not in BOX_AUGMENTATIONS:
        raise ValueError(f"augment must be one of {BOX_AUGMENTATIONS}. Received: augment={augment!r}")
    if augment is None:
        return []
    layers = [keras.layers.RandomFlip("horizontal", bounding_box_format="xyxy", seed=seed)]
    if augment == "full":
        layers += [
            keras.layers.RandomZoom(0.3, fill_mode="constant", bounding_box_format="xyxy",
                                    seed=seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant",
                                           bounding_box_format="xyxy", seed=seed),
            keras.layers.RandomColorJitter(value_range=(0, 255), brightness_factor=0.2,
                                           contrast_factor=0.2, saturation_factor=0.2,
                                           seed=seed, bounding_box_format="xyxy"),
        ]
    return layers


def augment_with_boxes(images: np.ndarray, boxes: np.ndarray, labels: np.ndarray,
                       layers: list, batch_size: int = 32):
    """Apply box-aware ``layers`` to ``images (n, h, w, c)`` and padded ``xyxy`` boxes.

    Boxes pushed out of the image are clipped; those left with (almost) no area become
    padding. Returns ``(images uint8, boxes, labels)`` of the same shapes.

    Examples
    --------
    >>> images = np.zeros((1, 32, 32, 3), "uint8")
    >>> out = augment_with_boxes(images, np.array([[[4., 4., 12., 12.]]]), np.array([[0]]),
    ...                          box_augmentation_layers("flip", seed=0))
    >>> out[0].shape, out[1].shape
    ((1, 32, 32, 3), (1, 1, 4))
    """
    height, width = images.shape[1:3]
    out_images, out_boxes = [], []
    for start in range(0, len(images), batch_size):
        data = {"images": images[start:start + batch_size].astype("float32"),
                "bounding_boxes": {"boxes": boxes[start:start + batch_size],
                                   "labels": labels[start:start + batch_size]}}
        for layer in layers:
            data = layer(data, training=True)
        out_images.append(np.clip(np.round(keras.ops.convert_to_numpy(data["images"])), 0, 255))
        out_boxes.append(keras.ops.convert_to_numpy(data["bounding_boxes"]["boxes"]))
    new_boxes = np.concatenate(out_boxes).astype("float32")
    new_boxes[..., [0, 2]] = new_boxes[..., [0, 2]].clip(0, width)
    new_boxes[..., [1, 3]] = new_boxes[..., [1, 3]].clip(0, height)
    area = (new_boxes[..., 2] - new_boxes[..., 0]) * (new_boxes[..., 3] - new_boxes[..., 1])
    new_labels = np.where((labels >= 0) & (area > 4.0), labels, PADDING_LABEL).astype("int32")
    new_boxes[new_labels < 0] = 0.0
    return np.concatenate(out_images).astype("uint8"), new_boxes, new_labels


__all__ = ["BOX_FORMATS", "BadAnnotations", "augment_with_boxes", "box_augmentation_layers",
           "check_boxes", "convert_boxes", "pad_boxes", "resize_boxes"]
