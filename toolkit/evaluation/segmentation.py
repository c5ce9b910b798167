"""Segmentation loss (cross-entropy + Dice), metrics (per-class IoU, mean IoU, Dice,
pixel accuracy) and overlay plots, with one definition of each shared by training and
evaluation.

Metrics come from one confusion matrix accumulated over every pixel of every image
(the PASCAL VOC / Cityscapes convention), not from per-image averages: a class's IoU
is ``tp / (tp + fp + fn)`` over the whole set, and mean IoU averages the classes that
occur in the targets or the predictions.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from matplotlib.figure import Figure

from toolkit.backbones.registry import serializable
from toolkit.evaluation import plots
from toolkit.evaluation.report import Report

_EPSILON = 1e-7


@serializable
class CrossEntropyDiceLoss(keras.losses.Loss):
    """Pixel-wise cross-entropy plus ``dice_weight`` times the soft Dice loss.

    ``y_true`` holds class ids ``(batch, h, w)``; ``y_pred`` softmax probabilities
    ``(batch, h, w, num_classes)``. Cross-entropy is averaged over each image's
    labelled pixels; the Dice loss is ``1 -`` the mean over classes of
    ``2 |P∩T| / (|P| + |T|)`` computed over the whole batch (per-image Dice of a class
    absent from the image is ill-defined). Pixels equal to ``ignore_index`` count in
    neither term.

    Examples
    --------
    >>> import numpy as np
    >>> loss = CrossEntropyDiceLoss(num_classes=2)
    >>> target = np.array([[[0, 1]]])
    >>> perfect = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])
    >>> round(float(loss(target, perfect)), 4)
    0.0
    """

    def __init__(self, num_classes: int, dice_weight: float = 1.0,
                 ignore_index: int | None = None, name: str = "cross_entropy_dice", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.dice_weight = float(dice_weight)
        self.ignore_index = ignore_index

    def call(self, y_true, y_pred):
        y_true = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
        y_pred = ops.cast(y_pred, "float32")
        if self.ignore_index is None:
            valid = ops.ones_like(y_true, dtype="float32")
        else:
            valid = ops.cast(ops.not_equal(y_true, self.ignore_index), "float32")
            y_true = ops.where(ops.equal(y_true, self.ignore_index), 0, y_true)
        one_hot = ops.one_hot(y_true, self.num_classes) * valid[..., None]
        log_p = ops.log(ops.clip(y_pred, _EPSILON, 1.0))
        pixel_ce = -ops.sum(one_hot * log_p, axis=-1)
        cross_entropy = ops.sum(pixel_ce, axis=(1, 2)) / ops.maximum(
            ops.sum(valid, axis=(1, 2)), 1.0)
        if not self.dice_weight:
            return cross_entropy
        probabilities = y_pred * valid[..., None]
        intersection = ops.sum(probabilities * one_hot, axis=(0, 1, 2))
        total = ops.sum(probabilities, axis=(0, 1, 2)) + ops.sum(one_hot, axis=(0, 1, 2))
        dice = (2.0 * intersection + 1.0) / (total + 1.0)
        return cross_entropy + self.dice_weight * (1.0 - ops.mean(dice))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "dice_weight": self.dice_weight, "ignore_index": self.ignore_index}


def confusion_matrix(y_true, y_pred, num_classes: int,
                     ignore_index: int | None = None) -> np.ndarray:
    """``(num_classes, num_classes)`` pixel counts, rows true, columns predicted.

    ``y_true``/``y_pred`` are masks of equal shape, or lists of such pairs of any sizes.
    """
    if isinstance(y_true, (list, tuple)):
        return sum((confusion_matrix(t, p, num_classes, ignore_index)
                    for t, p in zip(y_true, y_pred)),
                   np.zeros((num_classes, num_classes), "int64"))
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Predicted and true masks must have the same shape. "
            f"Received: {np.asarray(y_pred).shape} and {np.asarray(y_true).shape}"
        )
    keep = y_true != ignore_index if ignore_index is not None else slice(None)
    codes = y_true[keep].astype("int64") * num_classes + y_pred[keep].astype("int64")
    return np.bincount(codes, minlength=num_classes**2).reshape(num_classes, num_classes)


def segmentation_metrics(matrix: np.ndarray, class_names: list[str]) -> dict:
    """Mean IoU, pixel accuracy, mean Dice, per-class IoU and Dice from a confusion matrix.

    A class absent from both targets and predictions has no IoU (``None``) and is left
    out of the means.

    Examples
    --------
    >>> m = segmentation_metrics(np.array([[3, 1], [0, 4]]), ["bg", "fg"])
    >>> m["per_class_iou"], m["pixel_accuracy"]
    ({'bg': 0.75, 'fg': 0.8}, 0.875)
    """
    matrix = np.asarray(matrix, dtype="float64")
    true_positive = np.diag(matrix)
    union = matrix.sum(axis=0) + matrix.sum(axis=1) - true_positive
    present = union > 0
    iou = np.where(present, true_positive / np.maximum(union, 1), np.nan)
    dice = np.where(present, 2 * true_positive / np.maximum(union + true_positive, 1), np.nan)
    total = matrix.sum()
    return {
        "mean_iou": float(np.nanmean(iou)) if present.any() else 0.0,
        "pixel_accuracy": float(true_positive.sum() / total) if total else 0.0,
        "mean_dice": float(np.nanmean(dice)) if present.any() else 0.0,
        "per_class_iou": {name: (None if np.isnan(v) else float(v))
                          for name, v in zip(class_names, iou)},
        "per_class_dice": {name: (None if np.isnan(v) else float(v))
                           for name, v in zip(class_names, dice)},
        "confusion_matrix": matrix.astype("int64").tolist(),
    }


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend class colours (class 0 left transparent) onto an ``(h, w, 3)`` uint8 image."""
    image = np.asarray(image, dtype="float64")
    if image.ndim == 2 or image.shape[-1] == 1:
        image = np.repeat(image.reshape(*image.shape[:2], 1), 3, axis=-1)
    colours = _class_colours(int(np.max(mask)) + 1)
    painted = colours[mask]
    blend = np.where((mask > 0)[..., None], (1 - alpha) * image + alpha * painted, image)
    return np.clip(blend, 0, 255).astype("uint8")


def plot_overlays(images, masks, predictions=None, titles=None, alpha: float = 0.5) -> Figure:
    """A figure with one row per image: the true mask overlaid, then the predicted one.

    Parameters
    ----------
    images : sequence of (h, w, 3) arrays
    masks : sequence of (h, w) class-id arrays, or None to show predictions only
    predictions : sequence of (h, w) class-id arrays, optional
    titles : sequence of str, optional
    """
    columns = [("true", masks), ("predicted", predictions)]
    columns = [(name, values) for name, values in columns if values is not None]
    rows = len(images)
    figure = Figure(figsize=(3.2 * len(columns), 3.0 * rows))
    for row, image in enumerate(images):
        for col, (name, values) in enumerate(columns):
            axes = figure.add_subplot(rows, len(columns), row * len(columns) + col + 1)
            axes.imshow(overlay(image, np.asarray(values[row])))
            label = name if titles is None else f"{titles[row]} ({name})"
            axes.set_title(label, fontsize=9)
            axes.axis("off")
    figure.tight_layout()
    return figure


def _class_colours(count: int) -> np.ndarray:
    """The Pascal VOC palette (distinct, and familiar to anyone who has seen VOC masks)."""
    colours = np.zeros((max(count, 1), 3), dtype="float64")
    for index in range(len(colours)):
        value, r, g, b = index, 0, 0, 0
        for bit in range(8):
            r |= ((value >> 0) & 1) << (7 - bit)
            g |= ((value >> 1) & 1) << (7 - bit)
            b |= ((value >> 2) & 1) << (7 - bit)
            value >>= 3
        colours[index] = (r, g, b)
    if count > 1:
        colours[1] = (255, 0, 0) if count == 2 else colours[1]  # one class: plain red
    return colours


class SegmentationReport(Report):
    """``Report`` with the per-class table and an overlay figure of a few examples."""

    def __init__(self, task: str, metrics: dict, history: dict | None = None,
                 examples: tuple | None = None):
        super().__init__(task, metrics, history)
        self.examples = examples  # (images, masks, predictions) for the overlay figure

    def figures(self) -> dict:
        figures = super().figures()
        if self.examples is not None:
            figures["overlays"] = plot_overlays(*self.examples)
        figures["confusion_matrix"] = plots.confusion_matrix(
            np.asarray(self.metrics["confusion_matrix"]), list(self.metrics["per_class_iou"]))
        return figures

    def _markdown_details(self) -> list[str]:
        lines = ["", "| class | IoU | Dice |", "|---|---|---|"]
        for name, iou in self.metrics["per_class_iou"].items():
            dice = self.metrics["per_class_dice"][name]
            lines.append(f"| {name} | {_cell(iou)} | {_cell(dice)} |")
        return lines


def _cell(value) -> str:
    return "-" if value is None else f"{value:.4f}"


__all__ = ["CrossEntropyDiceLoss", "confusion_matrix", "segmentation_metrics", "overlay",
           "plot_overlays", "SegmentationReport"]
