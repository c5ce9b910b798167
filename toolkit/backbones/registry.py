"""Backbone registry: look a backbone up by name, list what exists.

``@register_backbone`` records a builder function and its per-architecture metadata
in one table; custom layers a builder uses are registered for Keras serialization
with ``@serializable`` (package ``toolkit``), so saved models load in safe mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import keras

BACKBONE_KINDS = ("sequence", "vision", "series", "audio")


@dataclass(frozen=True)
class BackboneSpec:
    """Metadata about one registered backbone.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"bilstm"``.
    kind : str
        ``"sequence"`` (token ids ``(batch, steps)`` -> features), ``"vision"``
        (images ``(batch, height, width, channels)`` -> features), ``"series"``
        (real-valued windows ``(batch, steps, channels)`` -> features) or ``"audio"``
        (spectrograms ``(batch, frames, bins)`` -> features).
    builder : callable
        ``builder(input_shape, **options) -> keras.Model``. Sequence builders take
        ``vocabulary_size`` and ``embedding_dim`` options; vision builders take
        ``weights``.
    normalization : str
        Input normalisation the backbone expects, applied inside the model by the
        task: ``"none"`` (sequence), ``"unit"`` (pixels / 255), ``"tf"`` (to [-1, 1]),
        ``"caffe"`` (RGB->BGR, minus ImageNet means), ``"torch"`` (ImageNet mean/std),
        ``"raw"`` (0..255, the model normalises itself).
    recurrent : bool
        Whether training benefits from gradient clipping.
    default_image_size : int or None
        Vision only: the input side length the backbone was designed for.
    min_image_size : int
        Vision only: smallest side length the backbone accepts.
    pretrained : bool
        Vision only: whether ``weights="imagenet"`` or a weights file can be loaded.
    description : str
        One line for ``toolkit backbones``.
    """

    name: str
    kind: str
    builder: Callable[..., keras.Model]
    normalization: str = "none"
    recurrent: bool = False
    default_image_size: int | None = None
    min_image_size: int = 1
    pretrained: bool = False
    description: str = ""
    extra: dict = field(default_factory=dict)


#: Keyed by ``(kind, name)``: a name is unique within its kind only (``lstm`` is both a
#: sequence and a series backbone).
_BACKBONES: dict[tuple[str, str], BackboneSpec] = {}


def register_backbone(name: str, kind: str, **metadata) -> Callable:
    """Register a backbone builder under ``name``.

    Parameters
    ----------
    name : str
        Registry name.
    kind : str
        One of ``BACKBONE_KINDS``.
    **metadata
        Further :class:`BackboneSpec` fields (``normalization``, ``recurrent``, ...).

    Returns
    -------
    callable
        A decorator that records the builder and returns it unchanged.

    Examples
    --------
    >>> @register_backbone("tiny_gru", kind="sequence", recurrent=True)
    ... def build_tiny_gru(input_shape, vocabulary_size, embedding_dim=8):
    ...     ...
    """
    if kind not in BACKBONE_KINDS:
        raise ValueError(
            f"Backbone kind must be one of {BACKBONE_KINDS}. Received: kind={kind!r}"
        )

    def decorator(builder: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        _BACKBONES[(kind, name)] = BackboneSpec(name=name, kind=kind, builder=builder, **metadata)
        return builder

    return decorator


def serializable(cls: type) -> type:
    """Register a custom layer for Keras serialization under the ``toolkit`` package."""
    return keras.saving.register_keras_serializable(package="toolkit")(cls)


def get_backbone_spec(name: str, kind: str | None = None) -> BackboneSpec:
    """Return the :class:`BackboneSpec` registered as ``name``.

    Without ``kind``, the first kind in ``BACKBONE_KINDS`` that has ``name`` wins.

    Raises
    ------
    ValueError
        If ``name`` is unknown or of the wrong kind; the message lists valid names.
    """
    kinds = BACKBONE_KINDS if kind is None else (kind,)
    spec = None
    if isinstance(name, str):  # a list or dict would not even hash
        spec = next((_BACKBONES[(k, name)] for k in kinds if (k, name) in _BACKBONES), None)
    if spec is None:
        valid = list_backbones(kind=kind)
        raise ValueError(
            f"Unknown backbone. Expected one of {valid}. Received: backbone={name!r}"
        )
    return spec


def list_backbones(kind: str | None = None) -> list[str]:
    """List registered backbone names, optionally only those of one ``kind``.

    Parameters
    ----------
    kind : str, optional
        One of ``BACKBONE_KINDS`` (``"sequence"``, ``"vision"``, ``"series"``,
        ``"audio"``); ``None`` lists every backbone.

    Returns
    -------
    list of str
        Sorted names, as ``backbone=`` takes them.

    Raises
    ------
    ValueError
        If ``kind`` is not one of ``BACKBONE_KINDS``.

    Examples
    --------
    >>> import toolkit
    >>> "bilstm" in toolkit.list_backbones(kind="sequence")
    True
    """
    if kind is not None and kind not in BACKBONE_KINDS:
        raise ValueError(
            f"Backbone kind must be one of {BACKBONE_KINDS} or None. Received: kind={kind!r}"
        )
    return sorted({name for (spec_kind, name) in _BACKBONES if kind in (None, spec_kind)})
