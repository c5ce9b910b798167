"""Training and inference throughput of each task's default model, against plain Keras.

For every task: ``Task(name).fit`` on real data (reading, encoding, the tf.data pipeline,
the schedule and callbacks included) and ``predict`` on raw inputs, then the same Keras
architecture trained by a bare ``model.compile`` (same loss and metrics) + ``model.fit``
on the same arrays, produced inside its timing by the same reading and encoding code, and
``model.predict``. The plain side is what a user who
wrote the preprocessing and the model by hand would run; the ratio (toolkit / plain wall
time) is toolkit's overhead. ``ratio`` is the worst training ratio; ``peak_memory_mb`` is
the process's peak resident memory.
Run from the repo root: ``python benchmarks/throughput.py [--quick] [--repeats N]
[--tasks speech ...]``.
"""

import resource
import statistics

import keras
import numpy as np
import pandas as pd
from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task
from toolkit.data.conll import read_conll
from toolkit.data.idx import read_idx

COMMON = {"validation_split": 0.0, "early_stopping": None, "verbose": 0, "seed": 0}


def load_sentiment(data, n):
    train = pd.read_csv(data / "sst2" / "train.tsv", sep="\t", quoting=3).sample(n, random_state=0)
    return train["sentence"].tolist(), train["label"].to_numpy(), {}


def load_images(data, n):
    images = read_idx(data / "mnist" / "t10k-images-idx3-ubyte.gz")[:n]
    labels = read_idx(data / "mnist" / "t10k-labels-idx1-ubyte.gz")[:n]
    return images, labels, {}


def load_ner(data, n):
    sentences, tags = read_conll(data / "conll2003" / "train.txt")
    return sentences[:n], tags[:n], {}


def load_series(data, n):
    frame = pd.read_csv(data / "ett" / "ETTh1.csv").iloc[:n]
    # By gradient, as the plain side: the default linear model is otherwise solved in
    # closed form (no training loop to compare).
    return frame, None, {"target": "OT", "solver": "gradient"}


def load_speech(data, n):
    files = sorted((data / "fsdd" / "recordings").glob("*.wav"))
    files = files[::max(1, len(files) // n)][:n]  # every digit and speaker
    return [str(f) for f in files], [f.name.split("_")[0] for f in files], {}


#: Task -> (loader, examples in full / quick mode, epochs).
TASKS = {
    "sentiment": (load_sentiment, 20000, 2000, 2),
    "image_classification": (load_images, 4000, 800, 2),
    "ner": (load_ner, 4000, 800, 2),
    "forecasting": (load_series, 8640, 2000, 3),
    "speech": (load_speech, 1000, 200, 3),
}


def measure(name, X, y, params, epochs, repeats):
    """Seconds for toolkit's fit/predict and the plain fit/predict of the same model.

    The two sides alternate (toolkit first in even repeats, plain first in odd ones) so
    neither always meets a colder process; each side's time is its median over repeats.
    """
    ours_fit, ours_predict, plain_fit, plain_predict = [], [], [], []
    for repeat in range(repeats):
        sides = [_ours, _plain] if repeat % 2 == 0 else [_plain, _ours]
        for side in sides:
            fit_seconds, predict_seconds, task, examples = side(name, X, y, params, epochs)
            (ours_fit if side is _ours else plain_fit).append(fit_seconds)
            (ours_predict if side is _ours else plain_predict).append(predict_seconds)
    ours_fit, plain_fit = statistics.median(ours_fit), statistics.median(plain_fit)
    ours_predict, plain_predict = statistics.median(ours_predict), statistics.median(plain_predict)
    return {
        "train_per_second": examples * epochs / ours_fit,
        "plain_train_per_second": examples * epochs / plain_fit,
        "predict_per_second": examples / ours_predict,
        "plain_predict_per_second": examples / plain_predict,
        "train_ratio": ours_fit / plain_fit,
        "predict_ratio": ours_predict / plain_predict,
        "examples": int(examples), "epochs": epochs, "repeats": repeats,
        "backbone": task.backbone,
    }


def _ours(name, X, y, params, epochs):
    task = Task(name, epochs=epochs, **COMMON, **params)
    with Timer() as fit:
        task.fit(X, y)
    with Timer() as predict:
        task.predict(X)
    return fit.seconds, predict.seconds, task, _count(task, X, y)


def _plain(name, X, y, params, epochs):
    """The same architecture, compiled and fitted by hand on the encoded arrays."""
    task = Task(name, epochs=epochs, **COMMON, **params)
    with Timer() as fit:
        examples = task._read(X, y, training=True)
        task._fit_preprocessing(examples)  # vocabulary, label map, sizes: what adapt() does
        inputs, targets = task._encode(examples)
        model = task._build_model()
        model.compile(keras.optimizers.AdamW(task._learning_rate()), loss=task._loss(),
                      metrics=task._metrics())  # the accuracy a user would watch, as Task.fit
        model.fit(inputs, targets, batch_size=task.batch_size, epochs=epochs, shuffle=True,
                  verbose=0)
    with Timer() as predict:
        model.predict(task._encode(task._read(X, training=False))[0],
                      batch_size=task.batch_size, verbose=0)
    return fit.seconds, predict.seconds, task, _count(task, X, y)


def _count(task, X, y):
    inputs, targets = task._encode(task._read(X, y, training=True))
    return len(targets) if targets is not None else len(next(iter(_flat(inputs))))


def _flat(inputs):
    return inputs.values() if isinstance(inputs, dict) else [inputs]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], repeats=2, tasks=list(TASKS))
    data = shared_dir("data")
    results = {}
    with Timer() as total:
        for name in args.tasks:
            load, full, quick, epochs = TASKS[name]
            X, y, params = load(data, quick if args.quick else full)
            results[name] = measure(name, X, y, params, epochs, args.repeats)
            print(f"[throughput] {name}: " + ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in results[name].items()), flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit("throughput", ratio=max(r["train_ratio"] for r in results.values()),
         worst_task=max(results, key=lambda n: results[n]["train_ratio"]),
         predict_ratio=max(r["predict_ratio"] for r in results.values()),
         tasks={n: {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                for n, r in results.items()},
         peak_memory_mb=round(peak_mb, 1), seconds=total.seconds, quick=args.quick,
         not_measured=sorted({"detection", "segmentation"}),
         median_train_ratio=float(np.median([r["train_ratio"] for r in results.values()])))


if __name__ == "__main__":
    main()
