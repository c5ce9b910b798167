"""The in-memory container every adapter produces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Examples:
    """Inputs ``x`` and optional targets ``y`` of equal length.

    ``x`` and ``y`` are NumPy arrays (texts as an object array, images as
    ``(n, h, w, c)``) or lists for ragged data (token lists, tag lists); ``y`` is
    ``None`` at prediction time.
    """

    x: Any
    y: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(
                "X and y must have the same length. "
                f"Received: len(X)={len(self.x)}, len(y)={len(self.y)}"
            )

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, indices: np.ndarray) -> Examples:
        """Return the examples at ``indices``."""
        return Examples(_take(self.x, indices), None if self.y is None else _take(self.y, indices))


def _take(values, indices: np.ndarray):
    return values[indices] if isinstance(values, np.ndarray) else [values[i] for i in indices]
