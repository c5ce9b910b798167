"""Datasets from the TensorFlow Datasets catalogue: ``"tfds:NAME[:SPLIT]"``."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

TFDS_PREFIX = "tfds:"


def is_tfds_spec(value: object) -> bool:
    """Whether ``value`` names a tfds dataset, e.g. ``"tfds:imdb_reviews"``."""
    return isinstance(value, str) and value.startswith(TFDS_PREFIX)


def load_tfds(
    spec: str, *, data_dir: str | Path | None = None, download: bool = True
) -> tf.data.Dataset:
    """Load ``"tfds:NAME[:SPLIT]"`` as a supervised ``(input, label)`` dataset.

    Parameters
    ----------
    spec : str
        ``"tfds:imdb_reviews"`` (split ``train``) or ``"tfds:imdb_reviews:test"``.
    data_dir : path, optional
        Where tfds keeps prepared datasets (tfds's default, ``~/tensorflow_datasets``,
        when ``None``).
    download : bool
        Download and prepare the dataset if it is not in ``data_dir`` yet.

    Raises
    ------
    ValueError
        If the dataset is not in ``data_dir`` and could not be downloaded; the message
        says how to get it.
    """
    import tensorflow_datasets as tfds

    name, _, split = spec[len(TFDS_PREFIX):].partition(":")
    split = split or "train"
    if not name:
        raise ValueError(f"Expected 'tfds:NAME[:SPLIT]'. Received: {spec!r}")
    try:
        return tfds.load(name, split=split, data_dir=data_dir, as_supervised=True, download=False)
    except Exception as not_prepared:  # tfds raises several types for "not there"
        if not download:
            raise _not_found(name, data_dir) from not_prepared
    try:
        return tfds.load(name, split=split, data_dir=data_dir, as_supervised=True, download=True)
    except Exception as failed:
        raise _not_found(name, data_dir, detail=str(failed).splitlines()[0]) from failed


def _not_found(name: str, data_dir: str | Path | None, detail: str = "") -> ValueError:
    where = data_dir or "~/tensorflow_datasets"
    reason = f" (download failed: {detail})" if detail else ""
    return ValueError(
        f"tfds dataset {name!r} is not in data_dir={str(where)!r}{reason}. "
        f"On a machine with internet run `tfds build {name} --data_dir {where}` "
        "(or call once with network access), then copy that folder here and pass "
        "data_dir=."
    )
