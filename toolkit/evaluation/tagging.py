"""Entity-level metrics (seqeval, conlleval's definition) and report for token tagging."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from seqeval import metrics as seqeval

from toolkit.evaluation import plots
from toolkit.evaluation.report import Report
from toolkit.preprocessing.tags import to_spans

#: Row/column of the entity-type confusion matrix for "no entity with these bounds".
NO_ENTITY = "O"


class TaggingReport(Report):
    """Entity precision/recall/F1 per type and micro/macro, token accuracy, type confusion.

    An entity counts as found only when its boundaries and type both match (the
    CoNLL-2003 rule). The confusion matrix pairs gold and predicted entities with the
    same boundaries; a gold entity nobody predicted is in column ``"O"``, a predicted
    entity with no gold one in row ``"O"``.

    Examples
    --------
    >>> report = TaggingReport.from_predictions(
    ...     "ner", [["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    >>> round(report.metrics["f1"], 3), report.metrics["recall"]
    (0.667, 0.5)
    """

    @classmethod
    def from_predictions(cls, task: str, y_true: Sequence[Sequence[str]],
                         y_pred: Sequence[Sequence[str]]) -> TaggingReport:
        """Score IOB2 tag sequences ``y_pred`` against ``y_true``."""
        y_true, y_pred = [list(t) for t in y_true], [list(p) for p in y_pred]
        table = seqeval.classification_report(y_true, y_pred, output_dict=True,
                                              zero_division=0)
        types = sorted(k for k in table if not k.endswith(" avg"))
        micro, macro = table["micro avg"], table["macro avg"]
        labels = types + [NO_ENTITY]
        metrics = {
            "f1": float(micro["f1-score"]),
            "precision": float(micro["precision"]),
            "recall": float(micro["recall"]),
            "macro_f1": float(macro["f1-score"]),
            "token_accuracy": float(seqeval.accuracy_score(y_true, y_pred)),
            "per_type": {
                t: {"precision": float(table[t]["precision"]), "recall": float(table[t]["recall"]),
                    "f1": float(table[t]["f1-score"]), "support": int(table[t]["support"])}
                for t in types
            },
            "confusion_matrix": entity_confusion(y_true, y_pred, labels).tolist(),
            "labels": labels,
        }
        return cls(task, metrics)

    def figures(self) -> dict:
        matrix = np.asarray(self.metrics["confusion_matrix"])
        return {"entity_confusion": plots.confusion_matrix(matrix, self.metrics["labels"]),
                **super().figures()}

    def _markdown_details(self) -> list[str]:
        lines = ["", "| entity | precision | recall | f1 | support |", "|---|---|---|---|---|"]
        for name, row in self.metrics["per_type"].items():
            lines.append(f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | "
                         f"{row['f1']:.4f} | {row['support']} |")
        return lines


def entity_confusion(y_true, y_pred, labels: list[str]) -> np.ndarray:
    """Counts of (gold type, predicted type) over entities matched by boundaries."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for gold_tags, predicted_tags in zip(y_true, y_pred):
        gold = {(s, e): t for s, e, t in to_spans(gold_tags, "iob2")}
        predicted = {(s, e): t for s, e, t in to_spans(predicted_tags, "iob2")}
        for bounds in gold.keys() | predicted.keys():
            row = index.get(gold.get(bounds, NO_ENTITY), index[NO_ENTITY])
            col = index.get(predicted.get(bounds, NO_ENTITY), index[NO_ENTITY])
            matrix[row, col] += 1
    return matrix
