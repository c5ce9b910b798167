"""``Report``: metrics plus the figures that explain them, savable as files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.evaluation import plots
from toolkit.folders import output_folder


class Report:
    """The result of ``Task.evaluate``.

    Parameters
    ----------
    task : str
        Task name.
    metrics : dict
        Headline and detailed metrics (JSON-serializable after conversion).
    history : dict, optional
        Training history (``loss``, ``val_loss``, ...) for the curves plot.

    Examples
    --------
    >>> report = Report("sentiment", {"accuracy": 0.9})
    >>> report.to_json()
    '{"task": "sentiment", "metrics": {"accuracy": 0.9}}'
    """

    def __init__(self, task: str, metrics: dict, history: dict | None = None):
        self.task = task
        self.metrics = metrics
        self.history = dict(history or {})

    def __repr__(self) -> str:
        scalars = {k: round(v, 4) for k, v in self.metrics.items() if isinstance(v, float)}
        return f"{type(self).__name__}(task={self.task!r}, {scalars})"

    def figures(self) -> dict:
        """Named matplotlib figures of this report (``{"training_curves": Figure}``)."""
        return {"training_curves": plots.training_curves(self.history)} if self.history else {}

    def plot(self):
        """Return the report's figures as a list of matplotlib ``Figure`` objects."""
        return list(self.figures().values())

    def to_json(self) -> str:
        """The task name and metrics as a JSON string (NaN and infinities as null)."""
        return json.dumps({"task": self.task, "metrics": _jsonable(self.metrics)},
                          allow_nan=False)

    def to_markdown(self) -> str:
        """A Markdown summary: scalar metrics as a table, then any detail tables."""
        lines = [f"# {self.task} report", "", "| metric | value |", "|---|---|"]
        for name, value in self.metrics.items():
            if isinstance(value, (int, float)):
                lines.append(f"| {name} | {value:.4f} |")
            elif value is None:  # undefined on this data (no box of that size, say)
                lines.append(f"| {name} | - |")
        lines.extend(self._markdown_details())
        return "\n".join(lines) + "\n"

    def _markdown_details(self) -> list[str]:
        return []

    def save(self, directory: str | Path) -> Path:
        """Write ``metrics.json``, ``report.md`` and one PNG per figure to ``directory``."""
        directory = output_folder(directory, "a report")
        (directory / "metrics.json").write_text(
            json.dumps(_jsonable(self.metrics), indent=2, allow_nan=False), encoding="utf-8")
        (directory / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        for name, figure in self.figures().items():
            figure.savefig(directory / f"{name}.png", dpi=100)
        return directory


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # NaN (an F1 with no entities) is not JSON; null is
    return value
