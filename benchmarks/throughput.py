"""Training and inference throughput of each task's default model, against plain Keras.

For every task: ``Task(name).fit`` on real data (reading, encoding, the tf.data pipeline,
the schedule and callbacks included) and ``predict`` on raw inputs, then the same Keras
architecture (a fresh ``keras.models.clone_model`` of the task's model) trained by a bare
``model.compile`` + ``model.fit`` on the same arrays, produced inside its timing by the
same reading and encoding code, and ``model.predict``. The plain side is what a user who
wrote the preprocessing and the model by hand would run; the ratio (toolkit / plain wall
time) is toolkit's overhead. ``ratio`` is the worst training ratio; ``peak_memory_mb`` is
the process's peak resident memory.
Run from the repo root: ``python benchmarks/throughput.py [--quick]``.
"""

import resource

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
    return frame, None, {"target": "OT"}


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


def measure(name, X, y, params, epochs):
    """Seconds for toolkit's fit/predict and the plain fit/predict of the same model."""
    task = Task(name, epochs=epochs, **COMMON, **params)
    with Timer() as ours_fit:
        task.fit(X, y)
    with Timer() as ours_predict:
        task.predict(X)
    with Timer() as plain_fit:
        inputs, targets = task._encode(task._read(X, y, training=True))
        model = keras.models.clone_model(task.model_)
        model.compile(keras.optimizers.AdamW(task._learning_rate()), loss=task._loss())
        model.fit(inputs, targets, batch_size=task.batch_size, epochs=epochs, shuffle=True,
                  verbose=0)
    with Timer() as plain_predict:
        model.predict(task._encode(task._read(X, training=False))[0],
                      batch_size=task.batch_size, verbose=0)
    examples = len(targets) if targets is not None else len(next(iter(_flat(inputs))))
    return {
        "train_per_second": examples * epochs / ours_fit.seconds,
        "plain_train_per_second": examples * epochs / plain_fit.seconds,
        "predict_per_second": examples / ours_predict.seconds,
        "plain_predict_per_second": examples / plain_predict.seconds,
        "train_ratio": ours_fit.seconds / plain_fit.seconds,
        "predict_ratio": ours_predict.seconds / plain_predict.seconds,
        "examples": int(examples), "epochs": epochs, "backbone": task.backbone,
    }


def _flat(inputs):
    return inputs.values() if isinstance(inputs, dict) else [inputs]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    data = shared_dir("data")
    results = {}
    with Timer() as total:
        for name, (load, full, quick, epochs) in TASKS.items():
            X, y, params = load(data, quick if args.quick else full)
            results[name] = measure(name, X, y, params, epochs)
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
