"""Task pipelines, one module each; importing this package registers them."""

from tasks import detection, forecasting, image_classification, ner, segmentation, sentiment, speech  # noqa: F401

__all__ = ["detection", "forecasting", "image_classification", "ner", "segmentation", "sentiment", "speech"]
