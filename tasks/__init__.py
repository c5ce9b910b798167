"""Task pipelines, one module each; importing this package registers them."""

from tasks import image_classification, sentiment  # noqa: F401

__all__ = ["image_classification", "sentiment"]
