"""Checks and error messages shared by the vision backbones that load weights.

``vision.py`` (SqueezeNet) and ``applications.py`` (``keras.applications``) both
accept ``weights=None``, ``"imagenet"`` or a weights file; the rules and messages
live here so the two modules cannot drift apart.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from toolkit.backbones.registry import get_backbone_spec, list_backbones

IMAGENET = "imagenet"


def pretrained_backbones() -> list[str]:
    """List the registered vision backbones that can load pretrained weights."""
    return [
        name for name in list_backbones(kind="vision") if get_backbone_spec(name).pretrained
    ]


def check_weights(backbone: str, weights: str | os.PathLike | None) -> None:
    """Validate the ``weights`` argument of a vision backbone builder.

    Parameters
    ----------
    backbone : str
        Registry name of the backbone being built.
    weights : str, path-like or None
        ``None`` (random initialisation), ``"imagenet"`` or the path of a weights
        file (``.h5`` / ``.weights.h5``).

    Raises
    ------
    ValueError
        If the backbone has no pretrained weights but ``weights`` is given, if
        ``weights`` is of the wrong type, or if the file does not exist.
    """
    if weights is None:
        return
    if not get_backbone_spec(backbone, kind="vision").pretrained:
        raise ValueError(
            f"Backbone {backbone!r} has no pretrained weights: expected weights=None, "
            f"or one of the backbones that have them: {pretrained_backbones()}. "
            f"Received: weights={weights!r}"
        )
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(
            "Expected weights to be None, 'imagenet' or the path of a weights file. "
            f"Received: weights={weights!r}"
        )
    if weights != IMAGENET and not Path(weights).is_file():
        raise ValueError(
            "Expected weights to be None, 'imagenet' or the path of an existing "
            f"weights file (.h5 or .weights.h5), but no such file exists. "
            f"Received: weights={os.fspath(weights)!r}"
        )


@contextlib.contextmanager
def imagenet_download(backbone: str) -> Iterator[None]:
    """Turn a failed ImageNet weights download into a ``ValueError`` with a way out.

    ``keras.utils.get_file`` reports a failed fetch as a bare ``Exception`` (or an
    ``OSError`` when the cache folder is unusable), which says nothing about the
    alternative of a local file. ``ValueError`` passes through untouched: it is
    how Keras reports bad arguments and a download whose hash does not match, and
    those messages already explain themselves.

    Parameters
    ----------
    backbone : str
        Registry name of the backbone whose weights are being fetched.

    Raises
    ------
    ValueError
        If the body raises anything other than a ``ValueError``.
    """
    try:
        yield
    except ValueError:
        raise
    except Exception as error:
        raise ValueError(
            f"The ImageNet weights of backbone {backbone!r} could not be downloaded "
            f"({type(error).__name__}: {error}). Expected internet access to fetch "
            "them; without it, pass a local weights file instead: "
            f"weights='path/to/file.h5'. Received: weights={IMAGENET!r}"
        ) from error
