"""Metrics and report for single-label classification."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from toolkit.evaluation import plots
from toolkit.evaluation.report import Report
from toolkit.preprocessing.labels import plain_label


class ClassificationReport(Report):
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix.

    Examples
    --------
    >>> import numpy as np
    >>> report = ClassificationReport.from_predictions(
    ...     "sentiment", np.array(["a", "b"]), np.array(["a", "a"]), classes=["a", "b"])
    >>> report.metrics["accuracy"]
    0.5
    """

    @classmethod
    def from_predictions(cls, task: str, y_true, y_pred, *, classes) -> ClassificationReport:
        """The report of predictions ``y_pred`` against labels ``y_true``.

        A class that neither occurs in ``y_true`` nor is predicted has no precision,
        recall or F1 on this data: its row holds ``None`` and ``macro_f1`` averages the
        other classes (as scikit-learn does when not given ``labels``).
        """
        labels = list(classes)
        occurring = {plain_label(v) for v in [*y_true, *y_pred]}
        present = [label for label in labels if plain_label(label) in occurring]
        precision, recall, f1, support = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, zero_division=0
        )
        metrics = {
            "accuracy": float(skm.accuracy_score(y_true, y_pred)),
            "macro_f1": float(skm.f1_score(y_true, y_pred, labels=present, average="macro",
                                           zero_division=0)),
            "per_class": {
                str(label): {"precision": float(p), "recall": float(r), "f1": float(f),
                             "support": int(s)} if label in present else
                {"precision": None, "recall": None, "f1": None, "support": 0}
                for label, p, r, f, s in zip(labels, precision, recall, f1, support)
            },
            "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
            "labels": [str(label) for label in labels],
        }
        return cls(task, metrics)

    def figures(self) -> dict:
        matrix = np.asarray(self.metrics["confusion_matrix"])
        return {"confusion_matrix": plots.confusion_matrix(matrix, self.metrics["labels"]),
                **super().figures()}

    def _markdown_details(self) -> list[str]:
        lines = ["", "| class | precision | recall | f1 | support |", "|---|---|---|---|---|"]
        for label, row in self.metrics["per_class"].items():
            precision, recall, f1 = ("-" if row[key] is None else f"{row[key]:.4f}"
                                     for key in ("precision", "recall", "f1"))
            lines.append(f"| {label} | {precision} | {recall} | {f1} | {row['support']} |")
        return lines
