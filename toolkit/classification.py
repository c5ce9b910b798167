"""What every single-label classification task shares: label maps, probabilities, reports."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.base import ClassifierMixin

from toolkit.data.examples import Examples
from toolkit.evaluation.classification import ClassificationReport
from toolkit.preprocessing.labels import check_whole_numbers, encode_labels, fit_classes
from toolkit.task import Task


#: NumPy kinds of label types kept through saving: bool, signed, unsigned, float.
NUMBER_KINDS = "biuf"


class ClassificationTask(ClassifierMixin, Task):
    """A :class:`Task` whose targets are one label per example.

    Subclasses read and encode inputs and build the feature extractor; this class owns
    ``classes_``, the softmax output, ``predict_proba`` and the classification report.
    ``score`` is accuracy.
    """

    def _fit_labels(self, examples: Examples) -> None:
        self.classes_ = fit_classes(examples.y)
        check_whole_numbers(self.classes_)  # in fit only: saved tasks still load

    def _encode_targets(self, examples: Examples):
        return None if examples.y is None else encode_labels(examples.y, self.classes_)

    def _loss(self):
        return keras.losses.SparseCategoricalCrossentropy()

    def _metrics(self) -> list:
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def _stratify(self) -> bool:
        return True

    def score(self, X, y=None) -> float:
        """Accuracy on ``X``/``y``; ``X`` may carry its labels (a table file, a folder)."""
        # ClassifierMixin.score comes first in the MRO but requires y.
        return Task.score(self, X, y)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, len(classes_))``, columns in ``classes_`` order."""
        return self._outputs(self._read(X, training=False))

    def _decode(self, outputs: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(outputs, axis=-1)]

    def _report(self, examples: Examples, outputs: np.ndarray) -> ClassificationReport:
        encode_labels(examples.y, self.classes_)  # unknown labels fail here, clearly
        return ClassificationReport.from_predictions(
            self.task_name, examples.y, self._decode(outputs), classes=self.classes_
        )

    def _headline_metric(self, report) -> float:
        return report.metrics["accuracy"]

    def _labels_state(self) -> dict:
        state = {"classes": self.classes_.tolist()}
        if self.classes_.dtype.kind in NUMBER_KINDS:  # int32 labels predict int32 after load
            state["class_dtype"] = self.classes_.dtype.name
        return state

    def _restore_labels(self, state: dict) -> None:
        saved = state["classes"]
        if not isinstance(saved, list):
            raise TypeError(f"classes must be a list. Received: {saved!r:.80}")
        self.classes_ = fit_classes(saved)  # fit's checks: no missing or mixed labels
        if self.classes_.tolist() != saved:  # a reordered list would swap predictions
            raise ValueError("classes must be distinct and sorted, as fit writes them. "
                             f"Received: classes={saved!r:.80}")
        if "class_dtype" in state:
            self.classes_ = _as_class_dtype(self.classes_, state["class_dtype"])

    def _check_restored(self, source: str) -> None:
        if not hasattr(self, "classes_"):  # a task mode without a label map
            return
        width = self.model_.output_shape[-1]
        if self.classes_.ndim != 1 or len(self.classes_) != width:
            raise ValueError(
                f"{source!r} does not match its model: the label map holds "
                f"{self.classes_.size} class(es) of shape {self.classes_.shape}, the model "
                f"predicts {width}. Received: classes={self.classes_.tolist()!r:.80}"
            )


def _as_class_dtype(classes: np.ndarray, name) -> np.ndarray:
    """``classes`` in the saved NumPy number type ``name``, of their kind (integers stay
    integers), which must hold them exactly."""
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except TypeError:
        dtype = None
    same_kind = {"b": "b", "i": "iu", "u": "iu", "f": "f"}.get(classes.dtype.kind, "")
    if dtype is None or dtype.kind not in same_kind:
        raise ValueError("class_dtype must name a NumPy number type of the classes' kind, "
                         f"e.g. 'int32' for integers. Received: class_dtype={name!r:.40}")
    cast = classes.astype(dtype)
    if not np.array_equal(cast, classes):
        raise ValueError(f"class_dtype {dtype.name!r} cannot hold the classes "
                         f"{classes.tolist()!r:.80}")
    return cast
