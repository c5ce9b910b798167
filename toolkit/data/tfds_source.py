"""Datasets from the TensorFlow Datasets catalogue: ``"tfds:NAME[:SPLIT]"``."""

from __future__ import annotations

import difflib
from pathlib import Path

import tensorflow as tf

TFDS_PREFIX = "tfds:"


def is_tfds_spec(value: object) -> bool:
    """Whether ``value`` names a tfds dataset, e.g. ``"tfds:imdb_reviews"``."""
    return isinstance(value, str) and value.startswith(TFDS_PREFIX)


def load_tfds(
    spec: str, *, data_dir: str | Path | None = None, download: bool = True
) -> tf.data.Dataset:
    """Load ``"tfds:NAME[:SPLIT]"``: ``(input, label)`` pairs, or dicts without supervised keys.

    Parameters
    ----------
    spec : str
        ``"tfds:imdb_reviews"`` (split ``train``) or ``"tfds:imdb_reviews:test"``.
    data_dir : path, optional
        Where tfds keeps prepared datasets (tfds's default, ``~/tensorflow_datasets``,
        when ``None``).
    download : bool
        Download and prepare the dataset if it is not in ``data_dir`` yet.

    Returns
    -------
    tf.data.Dataset
        ``(input, label)`` pairs, or dict elements for a dataset without supervised keys.

    Raises
    ------
    ValueError
        If tfds has no dataset of that name (close names suggested), if the dataset is
        not in ``data_dir`` and could not be downloaded (the message says how to get it),
        or if the split is not one of the dataset's.
    """
    import tensorflow_datasets as tfds

    name, _, split = spec[len(TFDS_PREFIX):].partition(":")
    split = split or "train"
    if not name:
        raise ValueError(f"Expected 'tfds:NAME[:SPLIT]'. Received: {spec!r}")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        close = difflib.get_close_matches(name, tfds.list_builders(), n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise ValueError(f"tfds has no dataset named {name!r} (see "
                         f"https://www.tensorflow.org/datasets/catalog).{hint} "
                         f"Received: {spec!r}") from None
    if not builder.is_prepared():
        if not download:
            raise _not_found(name, data_dir)
        try:
            builder.download_and_prepare()
        except Exception as failed:  # tfds raises several types for "could not get it"
            raise _not_found(name, data_dir, detail=str(failed).splitlines()[0]) from failed
    # Datasets without (input, label) keys come as dicts, read by column name.
    supervised = builder.info.supervised_keys is not None
    try:
        return builder.as_dataset(split=split, as_supervised=supervised)
    except ValueError as error:  # an unknown split, or a bad slice such as "train[:x]"
        raise ValueError(f"Could not read split {split!r} of tfds dataset {name!r}: "
                         f"{str(error).splitlines()[0]} Received: {spec!r}") from None


def _not_found(name: str, data_dir: str | Path | None, detail: str = "") -> ValueError:
    where = data_dir or "~/tensorflow_datasets"
    reason = f" (download failed: {detail})" if detail else ""
    return ValueError(
        f"tfds dataset {name!r} is not in data_dir={str(where)!r}{reason}. "
        f"On a machine with internet run `tfds build {name} --data_dir {where}` "
        "(or call once with network access), then copy that folder here and pass "
        "data_dir=."
    )
