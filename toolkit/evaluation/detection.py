"""Detection metrics (COCO mAP via pycocotools, per-class AP) and box-drawing figures."""

from __future__ import annotations

import contextlib
import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from toolkit.evaluation.report import Report

#: Colours cycled over classes in the box plots.
_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6")


def coco_metrics(ground_truth: list[dict], detections: list[dict], classes: list) -> dict:
    """COCO box AP of ``detections`` against ``ground_truth``, with pycocotools.

    Parameters
    ----------
    ground_truth : list of dict
        Per image ``{"boxes" (m, 4) xyxy pixels, "labels" (m,) class ids}``, and
        optionally ``"ignored_boxes"``/``"ignored_labels"``: regions (VOC's difficult
        objects, COCO's crowds) that pycocotools matches as crowds, so a detection of
        one is neither a hit nor a false positive.
    detections : list of dict
        Per image ``{"boxes", "scores", "labels"}`` in the same coordinates.
    classes : list
        Class names, indexed by class id.

    Returns
    -------
    dict
        ``map`` (AP averaged over IoU 0.50:0.95), ``map50``, ``map75``, ``map_small``,
        ``map_medium``, ``map_large``, ``mar100`` (recall with 100 detections) and
        ``per_class`` ``{name: {"ap", "ap50"}}``. A size or class with no ground-truth
        box has ``None`` (undefined, not 0).

    Raises
    ------
    ValueError
        If ``ground_truth`` holds no box at all.

    Examples
    --------
    >>> truth = [{"boxes": np.array([[0., 0., 10., 10.]]), "labels": np.array([0])}]
    >>> found = [{"boxes": np.array([[0., 0., 10., 10.]]), "scores": np.array([0.9]),
    ...           "labels": np.array([0])}]
    >>> round(coco_metrics(truth, found, ["cat"])["map50"], 6)
    1.0
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for image_id, (truth, found) in enumerate(zip(ground_truth, detections), start=1):
        images.append({"id": image_id})
        for crowd, (boxes, labels) in enumerate((
                (truth["boxes"], truth["labels"]),
                (truth.get("ignored_boxes", ()), truth.get("ignored_labels", ())))):
            for box, label in zip(np.asarray(boxes, "float64").reshape(-1, 4), labels):
                x1, y1, x2, y2 = (float(v) for v in box)
                annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                    "category_id": int(label) + 1,
                                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                                    "area": (x2 - x1) * (y2 - y1), "iscrowd": crowd})
        for box, score, label in zip(np.asarray(found["boxes"]).reshape(-1, 4), found["scores"],
                                     found["labels"]):
            x1, y1, x2, y2 = (float(v) for v in box)
            results.append({"image_id": image_id, "category_id": int(label) + 1,
                            "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score)})
    if not any(not a["iscrowd"] for a in annotations):
        raise ValueError("No ground-truth boxes to score against, so AP is undefined: "
                         "evaluate on images that hold boxes.")
    if not results:  # nothing found: AP 0 wherever there was something to find
        return _nothing_found([a for a in annotations if not a["iscrowd"]], classes)
    truth_api = COCO()
    truth_api.dataset = {"images": images, "annotations": annotations,
                         "categories": [{"id": i + 1, "name": str(n)} for i, n in enumerate(classes)]}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        truth_api.createIndex()
        evaluation = COCOeval(truth_api, truth_api.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # pycocotools writes -1 where nothing defines a value (no box of that size).
    stats = [None if v < 0 else float(v) for v in evaluation.stats]
    precision = evaluation.eval["precision"]  # (iou, recall, class, area, max detections)
    per_class = {}
    for index, name in enumerate(classes):
        all_iou = precision[:, :, index, 0, -1]
        at_50 = precision[0, :, index, 0, -1]
        per_class[str(name)] = {
            "ap": float(all_iou[all_iou > -1].mean()) if (all_iou > -1).any() else None,
            "ap50": float(at_50[at_50 > -1].mean()) if (at_50 > -1).any() else None,
        }
    return {"map": stats[0], "map50": stats[1], "map75": stats[2], "map_small": stats[3],
            "map_medium": stats[4], "map_large": stats[5], "mar100": stats[8],
            "per_class": per_class}


#: COCO's object sizes, as pycocotools bounds them (box area in pixels, both ends included).
COCO_AREAS = {"map_small": (0, 32 ** 2), "map_medium": (32 ** 2, 96 ** 2),
              "map_large": (96 ** 2, 1e10)}


def _nothing_found(annotations: list[dict], classes: list) -> dict:
    """The metrics of no detections at all: 0 where a box was to be found, else None."""
    areas = [a["area"] for a in annotations]
    labelled = {a["category_id"] - 1 for a in annotations}
    metrics = {"map": 0.0, "map50": 0.0, "map75": 0.0}
    for key, (low, high) in COCO_AREAS.items():
        metrics[key] = 0.0 if any(low <= area <= high for area in areas) else None
    zero = {"ap": 0.0, "ap50": 0.0}
    return {**metrics, "mar100": 0.0, "per_class": {
        str(name): zero if index in labelled else {"ap": None, "ap50": None}
        for index, name in enumerate(classes)}}


def draw_detections(image: np.ndarray, detection: dict, classes: list, *,
                    truth: dict | None = None, axes=None, title: str | None = None):
    """Draw one image with its predicted boxes (solid, with label and score) and,
    optionally, its true boxes (dashed white). Returns the matplotlib ``Figure``."""
    if axes is None:
        figure = Figure(figsize=(5, 5 * image.shape[0] / max(image.shape[1], 1)))
        axes = figure.add_subplot()
    axes.imshow(np.asarray(image).astype("uint8").squeeze())
    if truth is not None:
        for x1, y1, x2, y2 in np.asarray(truth["boxes"]).reshape(-1, 4):
            axes.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color="white",
                                     linestyle="--", linewidth=1.5))
    for (x1, y1, x2, y2), score, label in zip(np.asarray(detection["boxes"]).reshape(-1, 4),
                                               detection["scores"], detection["labels"]):
        index = list(classes).index(label) if label in list(classes) else int(label)
        colour = _COLOURS[index % len(_COLOURS)]
        axes.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=colour, linewidth=2))
        axes.text(x1, y1, f"{label} {score:.2f}", color="white", fontsize=8, va="bottom",
                  bbox={"facecolor": colour, "alpha": 0.8, "pad": 1, "edgecolor": "none"})
    axes.set_axis_off()
    if title:
        axes.set_title(title, fontsize=9)
    return axes.figure


def detection_grid(images: list, detections: list[dict], classes: list, *,
                   truths: list[dict] | None = None, columns: int = 4) -> Figure:
    """Several images with their boxes in a grid (see :func:`draw_detections`)."""
    count = len(images)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    figure = Figure(figsize=(3.5 * columns, 3.5 * rows))
    for index, (image, detection) in enumerate(zip(images, detections)):
        axes = figure.add_subplot(rows, columns, index + 1)
        draw_detections(image, detection, classes, axes=axes,
                        truth=None if truths is None else truths[index])
    figure.tight_layout()
    return figure


class DetectionReport(Report):
    """A :class:`Report` with per-class AP and a grid of predictions on some images."""

    def __init__(self, task: str, metrics: dict, *, examples: tuple | None = None,
                 history: dict | None = None):
        super().__init__(task, metrics, history)
        self._examples = examples  # (images, detections, truths, classes)

    def figures(self) -> dict:
        figures = super().figures()
        if self._examples is not None:
            images, detections, truths, classes = self._examples
            figures["predictions"] = detection_grid(images, detections, classes, truths=truths)
        return figures

    def _markdown_details(self) -> list[str]:
        lines = ["", "| class | AP@[.5:.95] | AP@.5 |", "|---|---|---|"]
        for name, values in self.metrics.get("per_class", {}).items():
            ap, ap50 = (("-" if v is None else f"{v:.4f}") for v in (values["ap"], values["ap50"]))
            lines.append(f"| {name} | {ap} | {ap50} |")
        return lines


__all__ = ["DetectionReport", "coco_metrics", "detection_grid", "draw_detections"]
