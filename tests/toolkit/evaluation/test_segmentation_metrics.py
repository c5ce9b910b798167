"""Segmentation loss and metrics on hand-built masks, with the values worked out by hand."""

import numpy as np
import pytest

from toolkit.evaluation.segmentation import (
    CrossEntropyDiceLoss,
    SegmentationReport,
    confusion_matrix,
    overlay,
    segmentation_metrics,
)

TRUE = np.array([[0, 0, 1, 1],
                 [0, 0, 1, 1]])
PRED = np.array([[0, 1, 1, 1],
                 [0, 0, 0, 1]])


def test_metrics_by_hand():
    matrix = confusion_matrix(TRUE, PRED, 2)
    np.testing.assert_array_equal(matrix, [[3, 1], [1, 3]])
    metrics = segmentation_metrics(matrix, ["bg", "fg"])
    # Each class: tp 3, fp 1, fn 1 -> IoU 3/5, Dice 6/8.
    assert metrics["per_class_iou"] == {"bg": 0.6, "fg": 0.6}
    assert metrics["per_class_dice"] == {"bg": 0.75, "fg": 0.75}
    assert metrics["mean_iou"] == pytest.approx(0.6)
    assert metrics["pixel_accuracy"] == pytest.approx(6 / 8)


def test_confusion_sums_over_images_of_different_sizes_and_ignores_pixels():
    matrix = confusion_matrix([TRUE, np.array([[2, 255]])], [PRED, np.array([[2, 0]])], 3,
                              ignore_index=255)
    assert matrix.sum() == 9 and matrix[2, 2] == 1


def test_absent_class_has_no_iou_and_is_left_out_of_the_mean():
    metrics = segmentation_metrics(confusion_matrix(TRUE, TRUE, 3), ["a", "b", "c"])
    assert metrics["per_class_iou"]["c"] is None and metrics["mean_iou"] == 1.0


def test_loss_by_hand():
    probabilities = np.zeros((1, 2, 4, 2), "float32")
    probabilities[..., 1] = 0.8 * TRUE + 0.2 * (1 - TRUE)
    probabilities[..., 0] = 1 - probabilities[..., 1]
    cross_entropy = -np.log(0.8)
    # Every class: intersection 4 * 0.8, |P| + |T| = 4 + 4.
    dice = (2 * 3.2 + 1) / (8 + 1)
    both = CrossEntropyDiceLoss(num_classes=2)(TRUE[None], probabilities)
    ce_only = CrossEntropyDiceLoss(num_classes=2, dice_weight=0)(TRUE[None], probabilities)
    assert float(ce_only) == pytest.approx(cross_entropy, rel=1e-5)
    assert float(both) == pytest.approx(cross_entropy + 1 - dice, rel=1e-5)


def test_loss_ignores_pixels():
    probabilities = np.full((1, 2, 4, 2), 0.5, "float32")
    target = np.where(TRUE == 1, 255, 0)[None]
    loss = CrossEntropyDiceLoss(num_classes=2, dice_weight=0, ignore_index=255)
    assert float(loss(target, probabilities)) == pytest.approx(np.log(2), rel=1e-5)


def test_report_markdown_and_overlay():
    metrics = segmentation_metrics(confusion_matrix(TRUE, PRED, 2), ["bg", "fg"])
    image = np.zeros((2, 4, 3), "uint8")
    report = SegmentationReport("segmentation", metrics, examples=([image], [TRUE], [PRED]))
    assert "| fg | 0.6000 | 0.7500 |" in report.to_markdown()
    assert {"overlays", "confusion_matrix"} <= set(report.figures())
    painted = overlay(image, TRUE)
    assert painted[0, 0].tolist() == [0, 0, 0] and painted[0, 3, 0] > 0
