"""Holding out a validation set."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from toolkit.data.examples import Examples
from toolkit.preprocessing.labels import plain_label


def train_validation_split(
    examples: Examples, fraction: float | None, *, seed: int | None, stratify: bool = False,
    classes_of: Callable[[Any], Iterable] | None = None,
) -> tuple[Examples, Examples | None]:
    """Split off a shuffled validation set of ``fraction`` of the examples.

    Parameters
    ----------
    examples : Examples
        Labelled examples.
    fraction : float or None
        Share held out, in ``[0, 1)``; ``0`` or ``None`` holds out nothing.
    seed : int or None
        Seed of the shuffle.
    stratify : bool
        Keep class proportions (classification); falls back to a plain split when a
        class is too rare to appear on both sides.
    classes_of : callable, optional
        ``classes_of(label)``: the classes one example holds (a sentence's entity
        types). With it, or with ``stratify`` (one class per example), every class held
        out also stays in training: an example holding a class met nowhere else in
        training is moved there, so the model knows every class it is validated on.

    Returns
    -------
    (train, validation)
        ``validation`` is ``None`` when nothing is held out.
    """
    if fraction is None or fraction == 0:
        return examples, None
    if isinstance(fraction, bool) or not isinstance(fraction, (float, int)) or not 0 < fraction < 1:
        raise ValueError(
            f"validation_split must be a float in [0, 1). Received: validation_split={fraction!r}"
        )
    n_validation = int(round(len(examples) * fraction))
    if n_validation < 1 or n_validation >= len(examples):
        return examples, None
    indices = np.arange(len(examples))
    labels = examples.y if stratify else None
    try:
        train_idx, val_idx = train_test_split(
            indices, test_size=n_validation, random_state=seed, stratify=labels
        )
    except ValueError:  # a class with a single example cannot be stratified
        train_idx, val_idx = train_test_split(indices, test_size=n_validation, random_state=seed)
    if stratify and classes_of is None:
        classes_of = _one_class
    if classes_of is not None:  # a class met only in validation would be unknown to the model
        trained = set().union(*(classes_of(examples.y[i]) for i in train_idx))
        unseen = np.array([not set(classes_of(examples.y[i])) <= trained for i in val_idx],
                          dtype=bool)
        train_idx = np.concatenate([train_idx, val_idx[unseen]])
        val_idx = val_idx[~unseen]
        if not len(val_idx):
            return examples, None
    return examples.subset(np.sort(train_idx)), examples.subset(np.sort(val_idx))


def _one_class(label) -> tuple:
    return (plain_label(label),)
