"""The package's top level: public names loaded on first use, tasks registered on lookup."""

import subprocess
import sys
from pathlib import Path

import pytest

import toolkit

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_public_names():
    from toolkit.evaluation.report import Report
    from toolkit.task import Task

    assert toolkit.Task is Task and toolkit.Report is Report
    assert {"Task", "Report", "list_tasks", "list_backbones"} <= set(dir(toolkit))
    with pytest.raises(AttributeError, match="no attribute 'Taks'"):
        toolkit.Taks


def test_import_and_help_do_not_load_tensorflow():
    out = _run(
        "import sys, toolkit, toolkit.cli\n"
        "try:\n"
        "    toolkit.cli.main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    assert "usage: toolkit" in out
    assert out.strip().splitlines()[-1] == "False False"


def test_tasks_register_on_first_lookup():
    # A fresh process that never imports the ``tasks`` package itself.
    out = _run(
        "from toolkit.task import Task, list_tasks\n"
        "print(list_tasks())\n"
        "print(type(Task('sentiment')).__name__)\n"
    )
    names, created = out.strip().splitlines()[-2:]
    assert "'sentiment'" in names and "'segmentation'" in names
    assert created == "SentimentTask"
