"""The one tf.data pipeline builder every task trains and predicts through."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

#: Above this many bytes the arrays are not cached in memory a second time.
_CACHE_LIMIT_BYTES = 2 * 1024**3


def make_dataset(
    inputs: Any,
    targets: Any = None,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Batch arrays into a shuffled (optionally), cached, prefetched ``tf.data.Dataset``.

    Parameters
    ----------
    inputs : array or dict/tuple of arrays
        Model inputs, first axis is the example axis.
    targets : array or dict of arrays, optional
        Training targets; ``None`` at prediction time.
    batch_size : int
        Examples per batch.
    shuffle : bool
        Reshuffle every epoch with ``seed`` (training only).
    seed : int, optional
        Shuffle seed; the same seed gives the same order.

    Returns
    -------
    tf.data.Dataset
        Yields ``inputs`` or ``(inputs, targets)`` batches.

    Examples
    --------
    >>> import numpy as np
    >>> ds = make_dataset(np.zeros((10, 3)), np.arange(10), batch_size=4)
    >>> [int(x.shape[0]) for x, _ in ds]
    [4, 4, 2]
    """
    elements = inputs if targets is None else (inputs, targets)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if _nbytes(elements) <= _CACHE_LIMIT_BYTES:
        dataset = dataset.cache()
    if shuffle:
        buffer = int(dataset.cardinality().numpy())
        dataset = dataset.shuffle(max(buffer, 1), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _nbytes(structure: Any) -> int:
    return sum(getattr(array, "nbytes", 0) for array in tf.nest.flatten(structure))
