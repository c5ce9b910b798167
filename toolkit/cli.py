"""The toolkit command: the Python API from a shell.

Examples
--------
``toolkit fit sentiment --data train.tsv --text-column sentence --epochs 3 --out model/``
``toolkit fit segmentation --data PennFudanPed/ --param instances=True --out seg/``
``toolkit predict model/ "a moving film" "a dull film"``
``toolkit evaluate model/ --data test.tsv --report report/``
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

#: CLI option -> task parameter, passed only when given and only if the task has it.
_TASK_OPTIONS = {
    "backbone": str, "epochs": int, "batch_size": int, "learning_rate": float,
    "validation_split": float, "weights": str, "image_size": int, "seed": int,
    "text_column": str, "label_column": str, "embeddings": str, "data_dir": str,
    "horizon": int, "lookback": int, "target": str, "head": str, "tag_column": int,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tasks = commands.add_parser("tasks", help="list the tasks")
    tasks.add_argument("--params", action="store_true",
                       help="also list each task's parameters and defaults (for fit --param)")
    backbones = commands.add_parser("backbones", help="list the backbones")
    backbones.add_argument("--kind", choices=["sequence", "vision", "series", "audio"],
                           help="only this kind")

    fit = commands.add_parser("fit", help="train a task on data and save it")
    fit.add_argument("task", help="task name, see `toolkit tasks`")
    fit.add_argument("--data", required=True,
                     help="table file (CSV/TSV), CoNLL file, image folder or tfds:NAME")
    fit.add_argument("--out", required=True, help="directory to save the trained task to")
    for option, kind in _TASK_OPTIONS.items():
        fit.add_argument("--" + option.replace("_", "-"), type=kind, dest=option,
                         help=f"the task's {option} parameter")
    fit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="any other task parameter (`toolkit tasks --params` lists them), "
                          "repeatable; VALUE is a Python literal (3, 0.5, True, None, ['a', 'b']) "
                          "or else a string, and always a string for a text-only "
                          "parameter (a column name), e.g. --param instances=True")
    fit.add_argument("--verbose", type=int, default=2, help="0 silent, 1 bar, 2 epoch lines")

    predict = commands.add_parser("predict", help="predict with a saved task")
    predict.add_argument("model", help="directory written by `toolkit fit`")
    predict.add_argument("inputs", nargs="+",
                         help="texts, image files, or one table file / image folder")
    predict.add_argument("--out", help="segmentation: also write each predicted mask here as a "
                                       "PNG of class ids, named after its image")
    predict.add_argument("--min-score", type=float, metavar="SCORE",
                         help="detection: print only the boxes scoring at least SCORE (predict "
                              "keeps every box above the task's score_threshold, 0.05 by default)")

    evaluate = commands.add_parser("evaluate", help="score a saved task on labelled data")
    evaluate.add_argument("model", help="directory written by `toolkit fit`")
    evaluate.add_argument("--data", required=True, help="labelled table file or image folder")
    evaluate.add_argument("--report", help="also write the report files to this directory")

    demo = commands.add_parser("demo", help="train the demo tasks on embedded data (offline)")
    demo.add_argument("tasks", nargs="*", metavar="TASK", help="demo tasks (default: all)")
    demo.add_argument("--out", default="toolkit-demo-output", help="where reports go")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (non-zero with a one-line error)."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the CLI only: keep output readable
    from sklearn.exceptions import NotFittedError

    try:
        status = _run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below, not at exit
        return status
    except BrokenPipeError:  # the reader stopped early (`toolkit predict ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as Python's docs advise
        return 128 + 13  # what a shell reports for a command ended by SIGPIPE
    except (ValueError, TypeError, NotFittedError, OSError, FloatingPointError) as error:
        print(f"toolkit: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import toolkit
    from toolkit.task import Task

    if args.command == "tasks":
        for name in toolkit.list_tasks():
            print(name)
            if args.params:
                for param, default in sorted(Task(name).get_params().items()):
                    print(f"    {param}={default!r}")
    elif args.command == "backbones":
        from toolkit.backbones.registry import BACKBONE_KINDS, get_backbone_spec

        for kind in [args.kind] if args.kind else BACKBONE_KINDS:
            for name in toolkit.list_backbones(kind=kind):
                spec = get_backbone_spec(name, kind=kind)
                print(f"{name:16s} {spec.kind:9s} {spec.description}")
    elif args.command == "fit":
        task = Task(args.task, verbose=args.verbose)
        params = {k: getattr(args, k) for k in _TASK_OPTIONS if getattr(args, k) is not None}
        unknown = sorted(set(params) - set(task.get_params()))
        if unknown:
            options = ", ".join("--" + name.replace("_", "-") for name in unknown)
            raise ValueError(f"Task {args.task!r} has no option(s) {options}.")
        params.update(_parse_params(args.param, task, given=params))
        _check_writable_folder("--out", args.out)  # before training, not after
        task.set_params(**params).fit(args.data)
        print(f"saved to {task.save(args.out)}")
    elif args.command == "predict":
        from toolkit.preprocessing.image import IMAGE_SUFFIXES

        task = Task.load(args.model)
        if args.out:
            if not hasattr(task, "class_names_"):
                raise ValueError(f"--out writes segmentation masks; a {task.task_name} task prints "
                                 "its predictions. Redirect them instead: ... > predictions.txt")
            _check_writable_folder("--out", args.out)
        if args.min_score is not None:
            if "score_threshold" not in task.get_params():
                raise ValueError(f"--min-score filters detected boxes; a {task.task_name} task "
                                 "has none.")
            if not 0 <= args.min_score <= 1:
                raise ValueError(f"--min-score must be between 0 and 1. Received: {args.min_score}")
        inputs = args.inputs
        if (len(inputs) == 1 and inputs[0].strip() and Path(inputs[0]).exists()
                and not inputs[0].lower().endswith(IMAGE_SUFFIXES)):
            inputs = inputs[0]  # a table file or an image folder
        if hasattr(task, "predict_entities") and isinstance(inputs, list):
            import json  # a tagger on raw texts: its entities, one JSON list per text

            for entities in task.predict_entities(inputs):
                print(json.dumps(entities))
            return 0
        predictions = task.predict(inputs)
        if hasattr(predictions, "to_string"):  # a forecast: a DataFrame over future steps
            print(predictions.to_string())
        elif hasattr(task, "class_names_") and len(predictions) and np.ndim(predictions[0]) == 2:
            _print_masks(task.class_names_, _image_names(inputs, task), predictions, args.out)
        else:
            import json

            for prediction in predictions:
                if isinstance(prediction, dict):  # detections: one JSON object per image
                    if args.min_score is not None:
                        kept = prediction["scores"] >= args.min_score
                        prediction = {key: value[kept] for key, value in prediction.items()}
                    prediction = json.dumps({key: value.tolist() if hasattr(value, "tolist") else value
                                             for key, value in prediction.items()})
                print(prediction)
    elif args.command == "evaluate":
        task = Task.load(args.model)
        if args.report:
            _check_writable_folder("--report", args.report)
        report = task.evaluate(args.data)
        print(report.to_markdown())
        if args.report:
            print(f"report written to {report.save(args.report)}")
    elif args.command == "demo":
        from toolkit.demo import run_demo

        _check_writable_folder("--out", args.out)  # before training, not after
        run_demo(args.tasks or None, out=args.out)
    return 0


def _parse_params(pairs: list[str], task, *, given: dict) -> dict:
    """``--param NAME=VALUE`` pairs as task parameters: values read as literals, else
    text; a parameter that only takes text (a column name) keeps VALUE as text, so
    ``text_column=2024`` names the column "2024"."""
    import ast
    import typing

    hints = typing.get_type_hints(type(task).__init__)
    params = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ValueError(f"--param expects NAME=VALUE. Received: --param {pair}")
        if name not in task.get_params():
            raise ValueError(f"Task {task.task_name!r} has no parameter {name!r}. Expected one "
                             f"of {sorted(task.get_params())}. Received: --param {pair}")
        if name in given or name in params:
            raise ValueError(f"The parameter {name!r} is given twice. Received: --param {pair}")
        kinds = _annotated_kinds(hints.get(name))
        if kinds == {str, type(None)} and text == "None":
            params[name] = None
        elif kinds in ({str}, {str, type(None)}):
            params[name] = text
        else:
            try:
                params[name] = ast.literal_eval(text)  # literals only: never runs code
            except (ValueError, SyntaxError):
                params[name] = text
    return params


def _annotated_kinds(annotation) -> set:
    """The types a parameter's annotation names (``str | None`` -> ``{str, NoneType}``)."""
    import types
    import typing

    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return set(typing.get_args(annotation))
    return {annotation}


def _image_names(inputs, task) -> list[str]:
    """The image each prediction belongs to, in the order the task read them: the given
    files, a folder's images, or a table's image column."""
    from toolkit.data.sources import read_inputs
    from toolkit.preprocessing.image import list_images

    if isinstance(inputs, list):
        return inputs
    if Path(inputs).is_dir():
        return [str(p) for p in list_images(inputs)]
    return read_inputs(inputs, require_labels=False, label_column=task.label_column,
                       input_paths=True, label_paths=True)[0]


def _print_masks(class_names: list[str], names: list[str], masks, out: str | None) -> None:
    """One JSON line per image: its mask's shape, the share of each class, and where the
    mask was written (``out``: 8-bit PNG of class ids, 16-bit past 256 classes)."""
    import json

    from PIL import Image

    from toolkit.folders import output_folder

    if out:
        output_folder(out, "predicted masks")
    written = set()
    for name, mask in zip(names, masks):
        counts = np.bincount(mask.ravel(), minlength=len(class_names))
        line = {"input": name, "shape": list(mask.shape),
                "class_fractions": {c: round(float(n) / mask.size, 4)
                                    for c, n in zip(class_names, counts) if n}}
        if out:
            stem = Path(name).stem
            path = Path(out) / f"{stem}.png"
            if path in written:  # two inputs with one file name
                path = Path(out) / f"{stem}_{len(written)}.png"
            Image.fromarray(mask.astype("uint8" if len(class_names) <= 256 else "uint16")).save(path)
            written.add(path)
            line["mask"] = str(path)
        print(json.dumps(line))


def _check_writable_folder(option: str, path: str) -> None:
    if Path(path).exists() and not Path(path).is_dir():
        raise ValueError(f"{option} must name a folder to write into; it is an existing "
                         f"file. Received: {option} {path}")


if __name__ == "__main__":
    sys.exit(main())
