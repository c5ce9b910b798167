"""toolkit: high-level applied deep learning on Keras 3.

The public names are imported on first use (PEP 562), so ``import toolkit`` and
``toolkit --help`` do not pay TensorFlow's start-up; ``toolkit.Task`` and the rest load
it, and the built-in tasks register themselves the first time a task is looked up.

Examples
--------
>>> from toolkit import Task
>>> clf = Task("sentiment", epochs=1)
>>> clf.get_params()["backbone"]
'bilstm'
"""

import importlib

__version__ = "0.1.0"

#: Public name -> the module defining it.
_PUBLIC = {
    "Task": "toolkit.task",
    "list_tasks": "toolkit.task",
    "Report": "toolkit.evaluation.report",
    "list_backbones": "toolkit.backbones",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
