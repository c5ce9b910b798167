"""Reproducible runs."""

from __future__ import annotations

import keras


def set_seed(seed: int | None) -> None:
    """Seed Python, NumPy and the backend so two fits with one seed give one model.

    ``seed=None`` leaves the generators as they are (a different model each fit).
    """
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or None. Received: seed={seed!r}")
    keras.utils.set_random_seed(seed)
