"""SST-2: train on train.tsv (early stopping on dev.tsv), score on the 872 test.tsv sentences.

Default settings of ``Task("sentiment")`` (backbone ``bilstm``). Run from the repo root: ``python benchmarks/sentiment_sst2.py``.
"""

import pandas as pd
from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sst2 = shared_dir("data") / "sst2"
    train = pd.read_csv(sst2 / "train.tsv", sep="\t", quoting=3)
    if args.quick:
        train = train.sample(15000, random_state=args.seed)
    dev = pd.read_csv(sst2 / "dev.tsv", sep="\t", quoting=3)
    task = Task("sentiment", seed=args.seed, verbose=2, text_column="sentence")
    with Timer() as timer:
        task.fit(train, validation_data=(dev,))
    accuracy = task.score(str(sst2 / "test.tsv"))
    epochs_run = len(task.history_["loss"])
    emit("sentiment_sst2", accuracy=accuracy, seconds=timer.seconds,
         examples_per_second=len(train) * epochs_run / timer.seconds, epochs_run=epochs_run,
         train_examples=len(train), test_examples=872, quick=args.quick,
         backbone=task.backbone, epochs=task.epochs, batch_size=task.batch_size,
         learning_rate=task.learning_rate, seed=args.seed)


if __name__ == "__main__":
    main()
