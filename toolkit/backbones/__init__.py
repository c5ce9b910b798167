"""Backbones: plain ``keras.Model``s mapping inputs to features, looked up by name."""

from toolkit.backbones import applications, audio, sequence, series, vision  # noqa: F401  (registration)
from toolkit.backbones.registry import (
    BackboneSpec,
    get_backbone_spec,
    list_backbones,
    register_backbone,
)

__all__ = ["BackboneSpec", "get_backbone_spec", "list_backbones", "register_backbone"]
