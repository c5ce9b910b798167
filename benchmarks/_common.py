"""What every benchmark shares: where the real data is, a --quick flag, the JSON line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout without installing


def shared_dir(kind: str) -> Path:
    """``../shared/<kind>`` from the repo root, or ``$TOOLKIT_DATA_DIR``/``$TOOLKIT_WEIGHTS_DIR``."""
    variable = {"data": "TOOLKIT_DATA_DIR", "weights": "TOOLKIT_WEIGHTS_DIR"}[kind]
    path = Path(os.environ.get(variable, REPO_ROOT.parent / "shared" / kind))
    if not path.is_dir():
        sys.exit(f"benchmark needs the real {kind} folder: {path} not found (set {variable})")
    return path


def parse_args(description: str, repeats: int | None = None,
               tasks: list[str] | None = None) -> argparse.Namespace:
    """``--quick`` and ``--seed``; ``--repeats`` too when a default is given, and
    ``--tasks`` (a subset of ``tasks``, all by default) when ``tasks`` is given."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a few-minute version")
    parser.add_argument("--seed", type=int, default=0)
    if repeats is not None:
        parser.add_argument("--repeats", type=int, default=repeats,
                            help="timed runs per side, alternating which goes first")
    if tasks is not None:
        parser.add_argument("--tasks", nargs="+", choices=tasks, default=list(tasks),
                            help="measure only these tasks")
    return parser.parse_args()


class Timer:
    """``with Timer() as t: ...``; then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def emit(benchmark: str, **fields) -> None:
    """Print the one final JSON line: the benchmark name, its metric(s), seconds, settings."""
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in fields.items()}
    print(json.dumps({"benchmark": benchmark, **rounded}), flush=True)
