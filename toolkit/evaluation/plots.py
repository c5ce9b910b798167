"""Matplotlib figures, made without pyplot so no GUI backend is ever touched."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def training_curves(history: dict) -> Figure:
    """Loss (and each metric) per epoch, training and validation."""
    names = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    figure = Figure(figsize=(5 * max(len(names), 1), 3.5))
    for index, name in enumerate(names, start=1):
        axes = figure.add_subplot(1, len(names), index)
        axes.plot(history[name], label="train")
        if f"val_{name}" in history:
            axes.plot(history[f"val_{name}"], label="validation")
        axes.set(xlabel="epoch", ylabel=name, title=name)
        axes.legend()
    figure.tight_layout()
    return figure


def confusion_matrix(matrix: np.ndarray, labels: list[str]) -> Figure:
    """A row-normalised confusion matrix with counts in the cells."""
    size = max(4.0, 0.6 * len(labels) + 2)
    figure = Figure(figsize=(size, size))
    axes = figure.add_subplot()
    totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
    axes.imshow(matrix / totals, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(labels))
    axes.set(xticks=ticks, yticks=ticks, xticklabels=labels, yticklabels=labels,
             xlabel="predicted", ylabel="true", title="Confusion matrix")
    axes.tick_params(axis="x", labelrotation=45)
    for (row, col), count in np.ndenumerate(matrix):
        shade = "white" if matrix[row, col] / totals[row, 0] > 0.5 else "black"
        axes.text(col, row, str(count), ha="center", va="center", color=shade)
    figure.tight_layout()
    return figure
