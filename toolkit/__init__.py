"""toolkit: high-level applied deep learning on Keras 3.

Examples
--------
>>> from toolkit import Task
>>> clf = Task("sentiment", epochs=1)
>>> clf.get_params()["backbone"]
'bilstm'
"""

__version__ = "0.1.0"

from toolkit.backbones import list_backbones
from toolkit.evaluation.report import Report
from toolkit.task import Task, list_tasks

import tasks as _tasks  # noqa: F401  (importing registers the task classes)

__all__ = ["Task", "Report", "list_tasks", "list_backbones", "__version__"]
