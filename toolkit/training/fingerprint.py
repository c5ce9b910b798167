"""A short name for one training run, so that checkpoints of different runs never mix.

``checkpoint_dir`` resumes a run that was killed; it must never resume another one (other
parameters, labels or data, or ``fine_tune`` after ``fit``), whose weights would be
loaded silently when their shapes happen to match.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import keras
import numpy as np


def run_fingerprint(description: dict, arrays: Any) -> str:
    """Twelve hex characters that change with ``description`` or the data in ``arrays``.

    Parameters
    ----------
    description : dict
        What defines the run besides its data (parameters, fitted state, stages);
        values JSON cannot hold are taken by ``repr``.
    arrays : array or nested list/tuple/dict of arrays
        The training and validation data; each array's dtype, shape and bytes count.
        ``None`` leaves are skipped.

    Returns
    -------
    str

    Examples
    --------
    >>> run = run_fingerprint({"epochs": 2}, [np.zeros(3)])
    >>> run == run_fingerprint({"epochs": 2}, [np.zeros(3)])
    True
    >>> run == run_fingerprint({"epochs": 3}, [np.zeros(3)])
    False
    >>> run == run_fingerprint({"epochs": 2}, [np.ones(3)])
    False
    """
    digest = hashlib.sha256(json.dumps(description, sort_keys=True, default=repr).encode())
    for leaf in keras.tree.flatten(arrays):
        if leaf is None:
            continue
        array = np.ascontiguousarray(leaf)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        if array.dtype.kind == "O":  # Python objects have no stable bytes
            digest.update(repr(array.tolist()).encode())
        else:
            digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()[:12]
