"""Reports, metrics and plots."""

from toolkit.evaluation.classification import ClassificationReport
from toolkit.evaluation.report import Report

__all__ = ["Report", "ClassificationReport"]
