"""Checks on encoded arrays before they reach a model."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np


def check_finite(arrays: Any, what: str) -> None:
    """Raise a ``ValueError`` naming ``what`` if a float array holds NaN or infinity.

    Parameters
    ----------
    arrays : array, or dict/tuple/list of arrays
        Encoded model inputs or targets; integer arrays (token ids, uint8 images)
        cannot hold NaN and are skipped.
    what : str
        ``"inputs"`` or ``"targets"``, for the message.

    Examples
    --------
    >>> check_finite({"x": np.array([1.0, np.nan])}, "inputs")
    Traceback (most recent call last):
    ...
    ValueError: The inputs hold 1 NaN/infinite value(s) (in 'x', first at index (1,)). Remove them or fill them before training or predicting.
    """
    for path, array in _named_arrays(arrays):
        if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
            continue
        bad = ~np.isfinite(array)
        if bad.any():
            where = f"in {path!r}, " if path else ""
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"The {what} hold {int(bad.sum())} NaN/infinite value(s) ({where}first at "
                f"index {first}). Remove them or fill them before training or predicting."
            )


def _named_arrays(structure: Any, path: str = ""):
    if isinstance(structure, dict):
        for key, value in structure.items():
            yield from _named_arrays(value, f"{path}/{key}" if path else str(key))
    elif isinstance(structure, (list, tuple)):
        for index, value in enumerate(structure):
            yield from _named_arrays(value, f"{path}/{index}" if path else str(index))
    elif structure is not None:
        yield path, structure


def check_string_list(value: Any, name: str) -> list[str]:
    """``value`` as a list of distinct ``str``, or a ``ValueError`` naming ``name``.

    Saved vocabularies and label lists go through this on load: a string where a list
    belongs (a file path, say) is refused rather than read or split into characters,
    and a repeated entry (two ids for one token) rather than passed to a lookup layer.
    """
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be a list of strings. Received: "
                         f"{type(value).__name__} {str(value)[:60]!r}")
    repeated = sorted(item for item, count in Counter(value).items() if count > 1)
    if repeated:
        raise ValueError(f"{name} must not repeat an entry. Received: {repeated[:5]!r} "
                         "more than once")
    return list(value)
