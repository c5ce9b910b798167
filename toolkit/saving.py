"""The saved-task directory: ``model.keras`` (Keras safe mode) + ``task.json``. No pickle."""

from __future__ import annotations

import inspect
import json
import zipfile
from pathlib import Path

import keras
import numpy as np

import toolkit
from toolkit.task import Task, get_task_class

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
STATE_FILE = "task.json"


def save_task(task: Task, directory: str | Path) -> Path:
    """Write ``task`` to ``directory`` (created if needed) and return the path.

    ``task.json`` holds the task name, its parameters (those that are data, not code:
    callbacks are left out), the fitted state (label map, vocabulary, sizes) and the
    toolkit/Keras versions.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    params = {k: _jsonable(v) for k, v in task.get_params().items()
              if k not in task.unsaved_params}
    document = {
        "format_version": FORMAT_VERSION,
        "task": task.task_name,
        "toolkit_version": toolkit.__version__,
        "keras_version": keras.__version__,
        "params": params,
        "state": task._fitted_state(),
        "history": getattr(task, "history_", {}),
    }
    (directory / STATE_FILE).write_text(json.dumps(document, indent=2), encoding="utf-8")
    task.model_.save(directory / MODEL_FILE)
    return directory


def load_task(directory: str | Path) -> Task:
    """Load a task saved by :func:`save_task`.

    The model is read with Keras ``safe_mode=True``, so a file that would run code on
    load (a ``Lambda`` layer, say) is refused.

    Raises
    ------
    ValueError
        If a file is missing, corrupted, tampered with, or from an unknown format.
    """
    directory = Path(directory)
    state_path, model_path = directory / STATE_FILE, directory / MODEL_FILE
    for path in (state_path, model_path):
        if not path.is_file():
            raise ValueError(f"Not a saved task: {str(path)!r} is missing.")
    try:
        document = json.loads(state_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(state_path)!r} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        found = document.get("format_version") if isinstance(document, dict) else None
        raise ValueError(
            f"Unsupported saved-task format. Expected format_version={FORMAT_VERSION}. "
            f"Received: format_version={found!r} in {str(state_path)!r}"
        )
    task_class = get_task_class(document.get("task"))
    params = document.get("params", {})
    accepted = set(inspect.signature(task_class.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(f"{str(state_path)!r} has unknown parameters {unknown} "
                         f"for task {task_class.task_name!r}.")
    task = task_class(**params)
    try:
        task._restore_state(document["state"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{str(state_path)!r} has a damaged 'state' entry: {error!r}") from error
    task.history_ = document.get("history", {})
    task.model_ = _load_model(model_path)
    return task


def _load_model(path: Path) -> keras.Model:
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"Could not load the model in {str(path)!r} safely: {str(error).splitlines()[0]}. "
            "The file is corrupted or holds code (e.g. a Lambda layer), which toolkit "
            "never runs."
        ) from error


def _jsonable(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value
