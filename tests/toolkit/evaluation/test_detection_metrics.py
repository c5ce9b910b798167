"""COCO mAP via pycocotools, and the box drawings."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from toolkit.evaluation.detection import DetectionReport, coco_metrics, draw_detections

TRUTH = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 40, 40]], "float32"),
          "labels": np.array([0, 1])}]


def test_perfect_detections_score_one():
    found = [{"boxes": TRUTH[0]["boxes"], "scores": np.array([0.9, 0.8]), "labels": np.array([0, 1])}]
    metrics = coco_metrics(TRUTH, found, ["cat", "dog"])
    assert metrics["map"] == pytest.approx(1.0) and metrics["map50"] == pytest.approx(1.0)
    for name in ("cat", "dog"):
        assert metrics["per_class"][name] == pytest.approx({"ap": 1.0, "ap50": 1.0})


def test_wrong_class_and_loose_boxes_score_lower():
    found = [{"boxes": np.array([[0, 0, 10, 10], [22, 22, 42, 42]], "float32"),
              "scores": np.array([0.9, 0.8]), "labels": np.array([1, 1])}]
    metrics = coco_metrics(TRUTH, found, ["cat", "dog"])
    assert metrics["per_class"]["cat"]["ap"] == 0.0
    # The top "dog" is a false positive, so precision at full recall is 1/2; the true
    # dog box has IoU 324/476 = 0.68: a hit at IoU 0.50..0.65, a miss from 0.70 on.
    assert metrics["per_class"]["dog"]["ap50"] == pytest.approx(0.5)
    assert metrics["per_class"]["dog"]["ap"] == pytest.approx(0.5 * 4 / 10)


def test_a_detection_of_an_ignored_region_is_neither_hit_nor_false_positive():
    found = [{"boxes": np.array([[50, 50, 60, 60], [0, 0, 10, 10], [20, 20, 40, 40]], "float32"),
              "scores": np.array([0.95, 0.9, 0.8]), "labels": np.array([0, 0, 1])}]
    assert coco_metrics(TRUTH, found, ["cat", "dog"])["per_class"]["cat"]["ap50"] < 0.9
    ignored = [{**TRUTH[0], "ignored_boxes": np.array([[50, 50, 60, 60]], "float32"),
                "ignored_labels": np.array([0])}]
    metrics = coco_metrics(ignored, found, ["cat", "dog"])
    assert metrics["map50"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="No ground-truth boxes"):  # ignored ones do not count
        coco_metrics([{**ignored[0], "boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)}],
                     found, ["cat", "dog"])


def test_no_detections_score_zero():
    found = [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}]
    metrics = coco_metrics(TRUTH, found, ["cat", "dog", "bird"])
    assert metrics["map"] == 0.0 and metrics["map_small"] == 0.0
    # No box is medium or large, and none is a bird: undefined, not zero.
    assert metrics["map_medium"] is None and metrics["map_large"] is None
    assert metrics["per_class"]["bird"] == {"ap": None, "ap50": None}


def test_sizes_and_classes_without_boxes_are_undefined_not_zero():
    found = [{"boxes": TRUTH[0]["boxes"], "scores": np.array([0.9, 0.8]), "labels": np.array([0, 1])}]
    metrics = coco_metrics(TRUTH, found, ["cat", "dog", "bird"])
    assert metrics["map_small"] == pytest.approx(1.0)
    assert metrics["map_medium"] is None and metrics["map_large"] is None
    assert metrics["per_class"]["bird"] == {"ap": None, "ap50": None}
    report = DetectionReport("detection", metrics)
    assert "| map_medium | - |" in report.to_markdown()
    no_boxes = [{"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)}]
    with pytest.raises(ValueError, match="No ground-truth boxes"):
        coco_metrics(no_boxes, found, ["cat", "dog"])


def test_drawing_and_report():
    image = np.zeros((40, 50, 3), "uint8")
    found = {"boxes": TRUTH[0]["boxes"], "scores": np.array([0.9, 0.8]),
             "labels": np.array(["cat", "dog"], object)}
    figure = draw_detections(image, found, ["cat", "dog"], truth=TRUTH[0])
    assert isinstance(figure, Figure) and len(figure.axes[0].patches) == 4
    report = DetectionReport("detection", {"map": 0.5, "per_class": {"cat": {"ap": 0.5, "ap50": None}}},
                             examples=([image], [found], TRUTH, ["cat", "dog"]))
    assert "| cat | 0.5000 | - |" in report.to_markdown()
    assert set(report.figures()) == {"predictions"}
