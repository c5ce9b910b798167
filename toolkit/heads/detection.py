"""An FCOS detector head: feature pyramid, dense anchor-free head, its loss, decoding, NMS.

FCOS (Tian et al., 2019) predicts, at every location of every pyramid level, class
scores, the distances ``(left, top, right, bottom)`` from the location to the sides of
its box, and a "centerness" that down-weights locations far from a box's centre.
Chosen over RetinaNet anchors because there is nothing to tune per dataset (anchor
sizes, aspect ratios, IoU matching thresholds): a location is a positive if it lies
near the centre of a box whose size suits its level. Targets are assigned inside the
loss from the padded boxes themselves, so augmented boxes need no re-encoding.

The model's output is one tensor ``(batch, locations, classes + 5)``: class logits,
four raw distances (``exp`` of them, in units of the level's stride, are the
distances), and a centerness logit, locations ordered level by level, row-major.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from toolkit.backbones.registry import serializable

#: Pyramid levels start at the first backbone stage of at least this stride ...
MIN_STRIDE = 8
#: ... and extra stride-2 convolutions extend them up to this stride.
MAX_STRIDE = 32
#: A level takes boxes whose largest location-to-side distance is at most this many
#: strides (FCOS's 64/128/... for strides 8/16/...); the last level takes the rest.
LEVEL_REACH = 8
#: Positives lie within this many strides of a box's centre (FCOS "center sampling").
CENTER_RADIUS = 1.5
FOCAL_ALPHA, FOCAL_GAMMA = 0.25, 2.0
#: Initial foreground probability of the class logits (RetinaNet/FCOS prior).
PRIOR_PROBABILITY = 0.01
#: Raw distances are clipped before ``exp`` so an early large output cannot overflow.
MAX_LOG_DISTANCE = 8.0


def feature_pyramid(stage_outputs: list, strides: list[int], channels: int) -> tuple[list, list[int]]:
    """FPN (Lin et al., 2017) over backbone stages, plus extra levels up to ``MAX_STRIDE``.

    Parameters
    ----------
    stage_outputs : list of tensors
        Backbone stage feature maps, high to low resolution
        (:func:`toolkit.backbones.stages.stage_model`).
    strides : list of int
        Their strides.
    channels : int
        Channels of every pyramid level.

    Returns
    -------
    (list of tensors, list of int)
        Pyramid levels high to low resolution, and their strides.
    """
    chosen = [i for i, s in enumerate(strides) if MIN_STRIDE <= s <= MAX_STRIDE]
    if not chosen:  # a small backbone whose deepest stage is finer than MIN_STRIDE
        chosen = [len(strides) - 1]
    features = [stage_outputs[i] for i in chosen]
    level_strides = [strides[i] for i in chosen]
    laterals = [layers.Conv2D(channels, 1, name=f"fpn_lateral{s}")(f)
                for f, s in zip(features, level_strides)]
    merged = [laterals[-1]]
    for lateral, stride in zip(reversed(laterals[:-1]), reversed(level_strides[:-1])):
        # "valid" backbones give sizes a pixel short of a halving, so resize to the
        # exact size rather than upsample by 2.
        upsampled = layers.Resizing(lateral.shape[1], lateral.shape[2], interpolation="nearest",
                                    name=f"fpn_upsample{stride}")(merged[0])
        merged.insert(0, layers.Add(name=f"fpn_merge{stride}")([lateral, upsampled]))
    levels = [layers.Conv2D(channels, 3, padding="same", name=f"fpn_output{s}")(m)
              for m, s in zip(merged, level_strides)]
    while level_strides[-1] < MAX_STRIDE and min(levels[-1].shape[1:3]) > 1:
        stride = level_strides[-1] * 2
        x = layers.ReLU(name=f"fpn_extra{stride}_relu")(levels[-1]) if len(levels) > len(chosen) else levels[-1]
        levels.append(layers.Conv2D(channels, 3, strides=2, padding="same",
                                    name=f"fpn_extra{stride}")(x))
        level_strides.append(stride)
    return levels, level_strides


def fcos_head(levels: list, num_classes: int, channels: int, convs: int = 2):
    """The FCOS head shared by all levels; returns ``(batch, locations, classes + 5)``.

    Parameters
    ----------
    levels : list of tensors
        Pyramid levels (:func:`feature_pyramid`).
    num_classes : int
    channels : int
        Width of the two towers (classification; regression + centerness).
    convs : int
        3x3 conv + GroupNorm + ReLU layers per tower.
    """
    groups = math.gcd(channels, 16)

    def tower(name):
        stack = []
        for index in range(1, convs + 1):
            stack += [layers.Conv2D(channels, 3, padding="same", use_bias=False,
                                    kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
                                    name=f"head_{name}{index}_conv"),
                      layers.GroupNormalization(groups, name=f"head_{name}{index}_gn"),
                      layers.ReLU(name=f"head_{name}{index}_relu")]
        return stack

    small = keras.initializers.RandomNormal(stddev=0.01)
    class_tower, box_tower = tower("class"), tower("box")
    class_out = layers.Conv2D(
        num_classes, 3, padding="same", kernel_initializer=small, name="head_class_logits",
        bias_initializer=keras.initializers.Constant(
            -math.log((1 - PRIOR_PROBABILITY) / PRIOR_PROBABILITY)))
    box_out = layers.Conv2D(4, 3, padding="same", kernel_initializer=small, name="head_box_distances")
    centerness_out = layers.Conv2D(1, 3, padding="same", kernel_initializer=small,
                                   name="head_centerness")
    outputs = []
    for index, level in enumerate(levels):
        c, b = level, level
        for layer in class_tower:
            c = layer(c)
        for layer in box_tower:
            b = layer(b)
        joined = layers.Concatenate(name=f"head_level{index}_concat")(
            [class_out(c), box_out(b), centerness_out(b)])
        height, width = level.shape[1:3]
        outputs.append(layers.Reshape((height * width, num_classes + 5),
                                      name=f"head_level{index}_flat")(joined))
    if len(outputs) == 1:
        return outputs[0]
    return layers.Concatenate(axis=1, name="detections")(outputs)


def level_locations(levels: list, image_size: tuple[int, int]):
    """Location centres, strides and size ranges of pyramid ``levels``.

    Parameters
    ----------
    levels : list of (height, width, stride)
    image_size : (height, width) of the model input

    Returns
    -------
    (points (n, 2) xy pixels, strides (n,), ranges (n, 2)) as float32 arrays, in the
    model output's location order.

    Examples
    --------
    >>> points, strides, ranges = level_locations([(2, 2, 8)], (16, 16))
    >>> points.tolist()
    [[4.0, 4.0], [12.0, 4.0], [4.0, 12.0], [12.0, 12.0]]
    """
    points, strides, ranges = [], [], []
    for index, (height, width, stride) in enumerate(levels):
        ys = (np.arange(height) + 0.5) * image_size[0] / height
        xs = (np.arange(width) + 0.5) * image_size[1] / width
        grid_x, grid_y = np.meshgrid(xs, ys)
        points.append(np.stack([grid_x.ravel(), grid_y.ravel()], axis=-1))
        strides.append(np.full(height * width, stride))
        low = 0.0 if index == 0 else LEVEL_REACH * levels[index - 1][2]
        high = 1e8 if index == len(levels) - 1 else LEVEL_REACH * stride
        ranges.append(np.tile([[low, high]], (height * width, 1)))
    return (np.concatenate(points).astype("float32"), np.concatenate(strides).astype("float32"),
            np.concatenate(ranges).astype("float32"))


def assign_targets(boxes, labels, points, strides, ranges):
    """FCOS targets for each location from padded ``xyxy`` boxes.

    Parameters
    ----------
    boxes : (batch, m, 4) xyxy pixels; labels : (batch, m) class ids, -1 for padding.
    points, strides, ranges : from :func:`level_locations`.

    Returns
    -------
    (positive (batch, n) bool, class id (batch, n), distances (batch, n, 4) in strides,
    centerness (batch, n))
    """
    x = points[None, :, None, 0]
    y = points[None, :, None, 1]
    x1, y1, x2, y2 = (boxes[:, None, :, i] for i in range(4))
    distances = ops.stack([x - x1, y - y1, x2 - x, y2 - y], axis=-1)  # (b, n, m, 4)
    radius = CENTER_RADIUS * strides[None, :, None]
    near_centre = ((ops.abs(x - (x1 + x2) / 2) < radius)
                   & (ops.abs(y - (y1 + y2) / 2) < radius))
    reach = ops.max(distances, axis=-1)
    in_range = (reach >= ranges[None, :, None, 0]) & (reach <= ranges[None, :, None, 1])
    candidate = ((ops.min(distances, axis=-1) > 0) & near_centre & in_range
                 & (labels[:, None, :] >= 0))
    area = (x2 - x1) * (y2 - y1)
    # Where several boxes qualify, the smallest wins (FCOS's ambiguity rule).
    best = ops.argmin(ops.where(candidate, area, 1e12), axis=-1)
    chosen = ops.one_hot(best, ops.shape(boxes)[1], dtype=boxes.dtype)
    positive = ops.any(candidate, axis=-1)
    matched = ops.sum(distances * chosen[..., None], axis=2) / strides[None, :, None]
    class_id = ops.cast(ops.sum(ops.cast(labels, boxes.dtype)[:, None, :] * chosen, axis=-1),
                        "int32")
    matched = ops.where(positive[..., None], matched, 1.0)
    left, top, right, bottom = (matched[..., i] for i in range(4))
    centerness = ops.sqrt(
        ops.minimum(left, right) / ops.maximum(left, right)
        * ops.minimum(top, bottom) / ops.maximum(top, bottom))
    return positive, class_id, matched, ops.where(positive, centerness, 0.0)


@serializable
class DetectionLoss(keras.losses.Loss):
    """FCOS loss: focal loss on classes, GIoU on the box distances, BCE on centerness.

    ``y_true`` is ``(batch, m, 5)``: ``xyxy`` pixel boxes and the class id, rows with
    class ``-1`` are padding. Each term is normalised by the batch's positives.

    Parameters
    ----------
    num_classes : int
    levels : list of (height, width, stride)
    image_size : (height, width)
    """

    def __init__(self, num_classes: int, levels: list, image_size: tuple[int, int],
                 name: str = "detection_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.levels = [tuple(int(v) for v in level) for level in levels]
        self.image_size = tuple(int(v) for v in image_size)
        self._points, self._strides, self._ranges = level_locations(self.levels, self.image_size)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        y_true = ops.cast(y_true, "float32")
        points, strides, ranges = (ops.convert_to_tensor(a) for a in
                                   (self._points, self._strides, self._ranges))
        positive, class_id, distances, centerness = assign_targets(
            y_true[..., :4], y_true[..., 4], points, strides, ranges)
        positive = ops.cast(positive, "float32")
        count = ops.maximum(ops.sum(positive), 1.0)
        logits = y_pred[..., :self.num_classes]
        classes = ops.one_hot(class_id, self.num_classes) * positive[..., None]
        class_loss = ops.sum(focal_loss(classes, logits)) / count
        predicted = ops.exp(ops.minimum(y_pred[..., self.num_classes:self.num_classes + 4],
                                        MAX_LOG_DISTANCE))
        weight = centerness * positive
        box_loss = (ops.sum((1.0 - giou_from_distances(predicted, distances)) * weight)
                    / ops.maximum(ops.sum(weight), 1e-6))
        centerness_loss = ops.sum(ops.binary_crossentropy(
            centerness, y_pred[..., -1], from_logits=True) * positive) / count
        return class_loss + box_loss + centerness_loss

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "levels": [list(level) for level in self.levels],
                "image_size": list(self.image_size)}


def focal_loss(targets, logits, alpha: float = FOCAL_ALPHA, gamma: float = FOCAL_GAMMA):
    """Element-wise sigmoid focal loss (Lin et al., 2017)."""
    probability = ops.sigmoid(logits)
    cross_entropy = ops.binary_crossentropy(targets, logits, from_logits=True)
    p_t = targets * probability + (1 - targets) * (1 - probability)
    alpha_t = targets * alpha + (1 - targets) * (1 - alpha)
    return alpha_t * (1 - p_t) ** gamma * cross_entropy


def giou_from_distances(predicted, target):
    """Generalised IoU of two boxes around the same point given as ``(l, t, r, b)``."""
    pl, pt, pr, pb = (predicted[..., i] for i in range(4))
    tl, tt, tr, tb = (target[..., i] for i in range(4))
    predicted_area = (pl + pr) * (pt + pb)
    target_area = (tl + tr) * (tt + tb)
    intersection = ((ops.minimum(pl, tl) + ops.minimum(pr, tr))
                    * (ops.minimum(pt, tt) + ops.minimum(pb, tb)))
    union = predicted_area + target_area - intersection
    enclosing = ((ops.maximum(pl, tl) + ops.maximum(pr, tr))
                 * (ops.maximum(pt, tt) + ops.maximum(pb, tb)))
    return intersection / ops.maximum(union, 1e-6) - (enclosing - union) / ops.maximum(enclosing, 1e-6)


def decode_outputs(outputs: np.ndarray, levels: list, image_size: tuple[int, int],
                   num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Model outputs to ``xyxy`` pixel boxes ``(batch, n, 4)`` and scores ``(batch, n, classes)``.

    A score is the geometric mean of the class probability and the centerness, as in
    FCOS's inference.
    """
    points, strides, _ = level_locations(levels, image_size)
    outputs = np.asarray(outputs, "float32")
    distances = np.exp(np.minimum(outputs[..., num_classes:num_classes + 4], MAX_LOG_DISTANCE))
    distances = distances * strides[None, :, None]
    boxes = np.concatenate([points - distances[..., :2], points + distances[..., 2:]], axis=-1)
    boxes[..., [0, 2]] = boxes[..., [0, 2]].clip(0, image_size[1])
    boxes[..., [1, 3]] = boxes[..., [1, 3]].clip(0, image_size[0])
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    scores = np.sqrt(sigmoid(outputs[..., :num_classes]) * sigmoid(outputs[..., -1:]))
    return boxes, scores


def non_max_suppression(boxes, scores, *, iou_threshold: float = 0.5,
                        score_threshold: float = 0.05, max_detections: int = 100,
                        image_size: tuple[int, int] | None = None) -> list[dict]:
    """Per-class NMS with ``tf.image.combined_non_max_suppression``.

    Parameters
    ----------
    boxes : (batch, n, 4) xyxy pixels
    scores : (batch, n, classes)
    iou_threshold : float
        Boxes of the same class overlapping a better one by more than this are dropped.
    score_threshold : float
        Boxes scoring below this are dropped first.
    max_detections : int
        At most this many boxes per image.
    image_size : (height, width), optional
        Pixel size the boxes live in; defaults to the boxes' extent.

    Returns
    -------
    list of dict
        Per image ``{"boxes" (k, 4) xyxy, "scores" (k,), "labels" (k,) class ids}``,
        best first.

    Examples
    --------
    >>> boxes = np.array([[[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]]], "float32")
    >>> scores = np.array([[[0.9], [0.8], [0.7]]], "float32")
    >>> [round(float(s), 2) for s in non_max_suppression(boxes, scores)[0]["scores"]]
    [0.9, 0.7]
    """
    import tensorflow as tf  # combined NMS has no keras.ops equivalent

    boxes = np.asarray(boxes, "float32")
    scores = np.asarray(scores, "float32")
    if image_size is None:
        extent = max(float(boxes.max(initial=1.0)), 1.0)
        image_size = (extent, extent)
    height, width = float(image_size[0]), float(image_size[1])
    # tf wants normalised (y1, x1, y2, x2), one box per location shared by the classes.
    normalised = boxes[..., [1, 0, 3, 2]] / np.array([height, width, height, width], "float32")
    per_class = min(max_detections, boxes.shape[1])
    found = tf.image.combined_non_max_suppression(
        normalised[:, :, None, :], scores, max_output_size_per_class=per_class,
        max_total_size=max_detections, iou_threshold=iou_threshold,
        score_threshold=score_threshold, clip_boxes=False)
    results = []
    for index in range(len(boxes)):
        count = int(found.valid_detections[index])
        yxyx = found.nmsed_boxes[index, :count].numpy() * np.array([height, width, height, width])
        results.append({"boxes": yxyx[:, [1, 0, 3, 2]].astype("float32"),
                        "scores": found.nmsed_scores[index, :count].numpy().astype("float32"),
                        "labels": found.nmsed_classes[index, :count].numpy().astype("int64")})
    return results


__all__ = ["DetectionLoss", "assign_targets", "decode_outputs", "fcos_head", "feature_pyramid",
           "focal_loss", "giou_from_distances", "level_locations", "non_max_suppression"]
