"""The saved-task directory: ``model.keras`` (Keras safe mode) + ``task.json``. No pickle."""

from __future__ import annotations

import inspect
import itertools
import json
import types
import typing
import zipfile
from pathlib import Path

import keras
import numpy as np

import toolkit
from toolkit.folders import output_folder
from toolkit.task import Task, get_task_class

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
STATE_FILE = "task.json"
#: The keys of ``task.json`` and the JSON type each must have.
DOCUMENT_SCHEMA = {"format_version": int, "task": str, "toolkit_version": str,
                   "keras_version": str, "params": dict, "state": dict, "history": dict}
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def save_task(task: Task, directory: str | Path) -> Path:
    """Write ``task`` to ``directory`` (created if needed) and return the path.

    ``task.json`` holds the task name, its parameters (those that are data, not code:
    ``callbacks`` and ``distribute`` are left out), the fitted state (label map,
    vocabulary, sizes) and the toolkit/Keras versions.
    """
    params = {k: _jsonable(v) for k, v in task.get_params().items()
              if k not in task.unsaved_params}
    for name, value in params.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Parameter {name!r} cannot be saved in task.json ({error}); give it as "
                f"lists, numbers and strings (dict keys as strings). Received: {value!r:.80}"
            ) from None
    directory = output_folder(directory, "a task")
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

    The parameters in ``task.json`` are checked as ``fit`` checks them, and the model
    they and the fitted state build must be the saved one, layer for layer (so an
    edited backbone, size or rate is refused rather than misreported by
    ``get_params``).

    Raises
    ------
    ValueError
        If a file is missing, corrupted, tampered with, or from an unknown format.
    """
    directory = Path(directory)
    _refuse_hdf5(directory)
    state_path, model_path = directory / STATE_FILE, directory / MODEL_FILE
    for path in (state_path, model_path):
        if not path.is_file():
            raise ValueError(f"Not a saved task: {str(path)!r} is missing.")
    try:
        document = json.loads(state_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(state_path)!r} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or type(document.get("format_version")) is not int \
            or document["format_version"] != FORMAT_VERSION:
        found = document.get("format_version") if isinstance(document, dict) else None
        raise ValueError(
            f"Unsupported saved-task format. Expected format_version={FORMAT_VERSION}. "
            f"Received: format_version={found!r} in {str(state_path)!r}"
        )
    _check_document(document, state_path)
    try:
        task_class = get_task_class(document["task"])
    except ValueError as error:
        raise ValueError(f"{str(state_path)!r} names no known task: {error}") from None
    params = document["params"]
    accepted = set(inspect.signature(task_class.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(f"{str(state_path)!r} has unknown parameters {unknown} "
                         f"for task {task_class.task_name!r}.")
    _check_param_types(task_class, params, state_path)
    task = task_class(**params)
    try:
        task._check_params()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{str(state_path)!r} has an invalid parameter: {error}") from None
    try:
        task._restore_state(document["state"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{str(state_path)!r} has a damaged 'state' entry: {error!r}") from error
    task.history_ = document["history"]
    task.model_ = _load_model(model_path)
    task._check_restored(str(state_path))
    _check_same_model(task, model_path, state_path)
    return task


def _check_document(document: dict, path: Path) -> None:
    """``task.json`` has exactly the expected keys, each of the expected JSON type."""
    keys = set(document)
    if keys != set(DOCUMENT_SCHEMA):
        raise ValueError(
            f"{str(path)!r} is not a toolkit task file: expected the keys "
            f"{sorted(DOCUMENT_SCHEMA)}. Missing: {sorted(set(DOCUMENT_SCHEMA) - keys)}; "
            f"unexpected: {sorted(keys - set(DOCUMENT_SCHEMA))}"
        )
    for key, kind in DOCUMENT_SCHEMA.items():
        if not isinstance(document[key], kind):
            raise ValueError(f"{str(path)!r}: {key!r} must be a JSON {kind.__name__}. "
                             f"Received: {type(document[key]).__name__}")
    for name, values in document["history"].items():
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(f"{str(path)!r}: history[{name!r}] must be a list of numbers")


def _check_param_types(task_class: type, params: dict, path: Path) -> None:
    """Each saved parameter has a JSON kind its annotation allows (its default's kind
    when it has no annotation; any kind when that default is None)."""
    defaults = inspect.signature(task_class.__init__).parameters
    hints = typing.get_type_hints(task_class.__init__)
    for name, value in params.items():
        kinds = _json_kinds(hints.get(name), defaults[name].default)
        if kinds is None or value is None:
            continue
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            allowed = sorted({kind.__name__ for kind in kinds})
            raise ValueError(
                f"{str(path)!r}: parameter {name!r} must be a {' or '.join(allowed)}. "
                f"Received: {type(value).__name__}"
            )


#: The JSON values a Python annotation allows (a tuple is written as a list).
_JSON_KINDS = {float: (int, float), int: (int,), bool: (bool,), str: (str,), list: (list,),
               tuple: (list,), dict: (dict,), type(None): (type(None),)}


def _json_kinds(annotation, default) -> tuple[type, ...] | None:
    if annotation is None:
        if default is None:
            return None
        annotation = type(default)
    kinds: list[type] = []
    for option in typing.get_args(annotation) if typing.get_origin(annotation) in (
            typing.Union, types.UnionType) else (annotation,):
        allowed = _JSON_KINDS.get(typing.get_origin(option) or option)
        if allowed is None:
            return None  # a kind JSON cannot hold: leave it to the task's own checks
        kinds.extend(allowed)
    return tuple(kinds)


def _check_same_model(task: Task, model_path: Path, state_path: Path) -> None:
    """The loaded ``model_`` is the model ``task``'s parameters and state build: the same
    layers in the same order, of the same classes, settings and weight shapes (names
    and ``trainable`` flags aside)."""
    try:
        built = task._architecture()
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"{str(state_path)!r} does not describe a model: {error}") from None
    # Keras builds some pretrained bodies differently without their weights (EfficientNet
    # adds a rescaling layer for ImageNet's, MobileNetV2 takes another name), so such a
    # body is compared by its weight shapes alone.
    whole_body = task._pretrained_layer_groups() is not None
    pairs = itertools.zip_longest(_layer_summaries(task.model_, whole_body=whole_body),
                                  _layer_summaries(built, whole_body=whole_body))
    for index, (saved, expected) in enumerate(pairs):
        if saved != expected:
            raise ValueError(
                f"{str(model_path)!r} is not the model {str(state_path)!r} describes (was "
                f"task.json edited?): layer {index} differs: {_describe(saved, expected)}"
            )


def _layer_summaries(model: keras.Model, *, whole_body: bool = False) -> list[dict]:
    """Each layer of ``model`` (nested models flattened) as its class, weight shapes
    and JSON config without its name and ``trainable`` flag; with ``whole_body``, the
    first nested model (the backbone) as one entry: its weight shapes (Keras names
    MobileNetV2 after 224 pixels for ImageNet weights, after the input size without)."""
    summaries = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) and whole_body:
            summaries.append({"class": type(layer).__name__, "config": {},
                              "weights": [list(weight.shape) for weight in layer.weights]})
            whole_body = False
        elif isinstance(layer, keras.Model):
            summaries.extend(_layer_summaries(layer))
        else:
            config = json.loads(json.dumps(layer.get_config(), default=repr),
                                object_hook=_unnamed)
            config.pop("name", None)  # an Input layer's config has no "trainable"
            summaries.append({"class": type(layer).__name__, "config": config,
                              "weights": [list(weight.shape) for weight in layer.weights]})
    return summaries


def _unnamed(config: dict) -> dict:
    # A layer's config (one holding "trainable"), also one nested in a wrapper such as
    # Bidirectional, carries a generated name; a dtype policy's "name" is kept.
    if "trainable" in config:
        return {k: v for k, v in config.items() if k not in ("name", "trainable")}
    return config


def _describe(saved: dict | None, expected: dict | None) -> str:
    """How two layer summaries differ: "(Dense) saved X, parameters give Y"."""
    if saved is None or expected is None or saved["class"] != expected["class"]:
        return (f"saved {saved['class'] if saved else 'no layer'}, parameters give "
                f"{expected['class'] if expected else 'no layer'}")
    if saved["weights"] != expected["weights"]:
        return (f"({saved['class']}) saved weight shapes {saved['weights']}, parameters give "
                f"{expected['weights']}")
    keys = sorted(k for k in {*saved["config"], *expected["config"]}
                  if saved["config"].get(k) != expected["config"].get(k))
    return (f"({saved['class']}) saved "
            + ", ".join(f"{k}={saved['config'].get(k)!r:.40}" for k in keys)
            + ", parameters give "
            + ", ".join(f"{k}={expected['config'].get(k)!r:.40}" for k in keys))


def _refuse_hdf5(path: Path) -> None:
    """Legacy full-model HDF5 files are never loaded: they can carry marshalled code.
    A folder's other ``.h5`` files matter only when it has no ``model.keras``."""
    if path.is_file():
        candidates = [path]
    elif (path / MODEL_FILE).is_file():
        candidates = [path / MODEL_FILE]
    else:
        candidates = [*path.glob("*.h5"), *path.glob("*.hdf5")]
    for candidate in candidates:
        if candidate.is_file():
            with candidate.open("rb") as handle:
                is_hdf5 = handle.read(8) == _HDF5_SIGNATURE
            if is_hdf5 or candidate.suffix in (".h5", ".hdf5"):
                raise ValueError(
                    f"Refusing {str(candidate)!r}: it is a legacy HDF5 (.h5) Keras file. Full "
                    "models in that format can hold Lambda layers whose code runs on load, "
                    "and their configs bypass Keras safe mode, so toolkit loads only "
                    "directories written by Task.save (model.keras + task.json). Re-save "
                    "the model with a trusted Keras as .keras, or load its weights into a "
                    "task you build."
                )


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
    """``value`` with NumPy scalars and arrays, paths and tuples as JSON-ready values."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value
