"""Backbones: plain ``keras.Model``s mapping inputs to features, looked up by name."""

from toolkit.backbones import (  # noqa: F401  (registration)
    applications, audio, sequence, series, unet, vision,
)
from toolkit.backbones.registry import (
    BackboneSpec,
    get_backbone_spec,
    list_backbones,
    register_backbone,
)

__all__ = ["BackboneSpec", "get_backbone_spec", "list_backbones", "register_backbone"]
