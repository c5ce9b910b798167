"""Label maps: validate labels, map them to integer ids and back."""

from __future__ import annotations

import numpy as np
import pandas as pd


def check_labels(y) -> None:
    """Reject missing labels (``None``/NaN/``pd.NA``) and a mix of text and numbers.

    Run it on the labels as given, before NumPy converts them: ``np.asarray`` turns
    ``["pos", nan]`` into the two strings ``"pos"`` and ``"nan"``, and ``[1, "1"]``
    into one class ``"1"``. Items that are sequences (tag lists, transcripts' tokens)
    are left to the task.

    Examples
    --------
    >>> check_labels(["pos", float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: Labels must not be missing (None or NaN). Received: 1 missing label(s), first at index [1]
    """
    if isinstance(y, np.ndarray) and y.dtype != object:  # typed: one kind, only NaN to find
        missing = np.flatnonzero(np.isnan(y)).tolist() if y.dtype.kind == "f" else []
        scalars = []
    else:
        scalars = [(i, v) for i, v in enumerate(y) if pd.api.types.is_scalar(v)]
        missing = [i for i, v in scalars if pd.isna(v)]
    if missing:
        raise ValueError(
            f"Labels must not be missing (None or NaN). Received: {len(missing)} missing "
            f"label(s), first at index {missing[:5]}"
        )
    text = [i for i, v in scalars if isinstance(v, (str, bytes))]
    if text and len(text) < len(scalars):
        number = next(i for i, v in scalars if not isinstance(v, (str, bytes)))
        raise TypeError(
            "Labels mix text and numbers, so 1 and '1' would be merged or split silently. "
            f"Convert them to one type. Received: {y[text[0]]!r} at index {text[0]} and "
            f"{y[number]!r} at index {number}"
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


def check_whole_numbers(classes: np.ndarray) -> None:
    """Refuse float class labels with fractions (0.25): a regression target, which
    scikit-learn's classification metrics cannot score.

    Examples
    --------
    >>> check_whole_numbers(np.array([0.0, 1.0]))
    >>> check_whole_numbers(np.array([0.25, 0.75]))
    Traceback (most recent call last):
    ...
    ValueError: Class labels must be text, integers or bools; fractional numbers are a regression target, not classes. Received: 0.25 among 2 distinct labels
    """
    if classes.dtype.kind == "f" and not np.all(classes == np.round(classes)):
        fraction = next(float(c) for c in classes if c != round(c))
        raise ValueError("Class labels must be text, integers or bools; fractional numbers "
                         f"are a regression target, not classes. Received: {fraction!r} among "
                         f"{len(classes)} distinct labels")


def encode_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map labels to their index in ``classes``; unknown labels raise ``ValueError``."""
    check_labels(y)
    index = {plain_label(label): i for i, label in enumerate(classes)}
    unknown = sorted({str(v) for v in y if plain_label(v) not in index})
    if unknown:
        names = {str(c): c for c in classes}
        typed = next((v for v in y if plain_label(v) not in index and str(v) in names), None)
        label, known = (None, None) if typed is None else (plain_label(typed), plain_label(names[str(typed)]))
        hint = "" if typed is None else (
            f" The label {label!r} is of type {type(label).__name__} but the class {known!r} of "
            f"type {type(known).__name__}: give labels of the type fit saw (a table read by "
            "pandas turns '1' into 1).")
        raise ValueError(
            f"Unknown label(s) {unknown[:10]}. Expected labels seen in training: "
            f"{[str(c) for c in classes]}.{hint}"
        )
    return np.asarray([index[plain_label(v)] for v in y], dtype="int32")


def plain_label(label):
    """``label`` as a plain Python value: ``np.int64(1)`` -> ``1``, ``np.str_("a")`` -> ``"a"``.

    1, 1.0 and ``np.int64(1)`` are then one label (equal and hashable alike); "1" is
    another.

    Examples
    --------
    >>> plain_label(np.int64(1)) == 1.0, type(plain_label(np.str_("a"))).__name__
    (True, 'str')
    """
    return label.item() if isinstance(label, np.generic) else label
