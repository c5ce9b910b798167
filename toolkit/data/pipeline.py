"""The one tf.data pipeline builder every task trains and predicts through."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import tensorflow as tf

#: Above this many bytes the arrays are not cached in memory a second time.
_CACHE_LIMIT_BYTES = 2 * 1024**3
#: On a GPU, length-cut batches are rounded up to a multiple of this many steps.
GPU_LENGTH_MULTIPLE = 8


def make_dataset(
    inputs: Any,
    targets: Any = None,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
    lengths: np.ndarray | None = None,
    length_multiple: int | None = None,
    min_batch: int = 1,
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
    lengths : array of int, optional
        Real length of each (right-padded) sequence. Every batch is then cut along the
        second axis to its longest sequence, and a shuffled dataset groups sequences
        of similar length into batches, so little time goes into padding.
    length_multiple : int, optional
        Round each cut up to a multiple of this (never past the arrays' width). A
        compiled (XLA) train step is built once per batch shape, so on a GPU, where
        Keras compiles by default, ``None`` uses ``GPU_LENGTH_MULTIPLE`` (a few shapes
        instead of one per length, and tensor-core-friendly); on CPU it cuts exactly.
    min_batch : int
        A last batch of fewer examples is dropped (training and validation under
        several replicas: TensorFlow fails on a replica's empty share of a batch), so
        at most ``min_batch - 1`` examples, other ones each epoch when shuffled. Above
        1, shuffled ``lengths`` are batched in order of the shuffle, not by bucket
        (each bucket's short last batch would drop up to that many too).

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
    if lengths is not None:
        elements = (np.asarray(lengths, dtype="int32"), elements)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if _nbytes(elements) <= _CACHE_LIMIT_BYTES:
        dataset = dataset.cache()
    if shuffle:
        buffer = int(dataset.cardinality().numpy())
        dataset = dataset.shuffle(max(buffer, 1), seed=seed, reshuffle_each_iteration=True)
    count = len(tf.nest.flatten(elements)[0])
    if lengths is not None and shuffle and min_batch <= 1:
        dataset = _bucket_by_length(dataset, lengths, batch_size)
    else:  # several replicas: buckets' short last batches would drop up to 10 per replica
        dataset = dataset.batch(batch_size)
        if 0 < count % batch_size < min_batch:
            dataset = dataset.take(count // batch_size)  # the short last batch
    if lengths is not None:
        if length_multiple is None:
            length_multiple = GPU_LENGTH_MULTIPLE if tf.config.list_physical_devices("GPU") else 1
        if isinstance(length_multiple, bool) or not isinstance(length_multiple, (int, np.integer)) \
                or length_multiple < 1:
            raise ValueError("length_multiple must be a positive integer or None. "
                             f"Received: length_multiple={length_multiple!r}")
        cut = functools.partial(_cut_to_longest, multiple=int(length_multiple))
        dataset = dataset.map(cut, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _bucket_by_length(dataset: tf.data.Dataset, lengths: np.ndarray, batch_size: int):
    """Batch by length deciles (the boundaries adapt to the data).

    The batch count is stated on the result: bucketing hides it from tf.data, and the
    learning-rate schedule is laid out over it.
    """
    boundaries = sorted({int(b) + 1 for b in np.percentile(lengths, np.arange(10, 100, 10))})
    per_bucket = np.bincount(np.digitize(lengths, boundaries), minlength=len(boundaries) + 1)
    batches = int(sum(-(-count // batch_size) for count in per_bucket))
    dataset = dataset.bucket_by_sequence_length(
        lambda length, _: length, boundaries, [batch_size] * (len(boundaries) + 1)
    )
    return dataset.apply(tf.data.experimental.assert_cardinality(batches))


def _cut_to_longest(lengths, elements, multiple: int = 1):
    longest = tf.maximum(tf.reduce_max(lengths), 1)
    longest = (longest + multiple - 1) // multiple * multiple  # slicing stops at the width
    return tf.nest.map_structure(
        lambda array: array[:, :longest] if array.shape.rank >= 2 else array, elements
    )


def _nbytes(structure: Any) -> int:
    return sum(getattr(array, "nbytes", 0) for array in tf.nest.flatten(structure))
