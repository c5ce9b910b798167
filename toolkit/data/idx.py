"""The IDX format of MNIST-style files (``.idx3-ubyte``, optionally gzipped)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file into a NumPy array (e.g. MNIST images ``(n, 28, 28)`` uint8).

    Examples
    --------
    >>> images = read_idx("t10k-images-idx3-ubyte.gz")  # doctest: +SKIP
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"Not an IDX file: {str(path)!r}")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    values = np.frombuffer(data, dtype=_DTYPES[data[2]], offset=4 + 4 * rank)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"IDX file {str(path)!r} is truncated: expected shape {shape}")
    return values.reshape(shape).astype(values.dtype.newbyteorder("="))
