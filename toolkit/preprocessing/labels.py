"""Label maps: validate labels, map them to integer ids and back."""

from __future__ import annotations

import numpy as np


def check_labels(y: np.ndarray) -> None:
    """Reject missing labels (``None``/NaN) with the positions that hold them."""
    missing = [i for i, v in enumerate(y) if v is None or (isinstance(v, float) and np.isnan(v))]
    if missing:
        raise ValueError(
            f"Labels must not be missing (None or NaN). Received: {len(missing)} missing "
            f"label(s), first at index {missing[:5]}"
        )


def fit_classes(y: np.ndarray) -> np.ndarray:
    """The sorted distinct labels of ``y``; at least two are required."""
    check_labels(y)
    classes = np.unique(np.asarray(y))
    if len(classes) < 2:
        raise ValueError(
            "Classification needs at least two classes in the training labels. "
            f"Received: classes={classes.tolist()}"
        )
    return classes


def encode_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map labels to their index in ``classes``; unknown labels raise ``ValueError``."""
    check_labels(y)
    index = {_key(label): i for i, label in enumerate(classes)}
    unknown = sorted({str(v) for v in y if _key(v) not in index})
    if unknown:
        raise ValueError(
            f"Unknown label(s) {unknown[:10]}. Expected labels seen in training: "
            f"{[str(c) for c in classes]}"
        )
    return np.asarray([index[_key(v)] for v in y], dtype="int32")


def _key(label):
    # 1, 1.0 and np.int64(1) are one label; "1" is another.
    return label.item() if isinstance(label, np.generic) else label
