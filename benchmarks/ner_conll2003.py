"""CoNLL-2003 NER: train on train.txt (early stopping on valid.txt), entity micro-F1 on test.txt.

Default settings of ``Task("ner")`` (word + character-CNN + casing features, BiLSTM, CRF),
no pretrained embeddings; then the same model with a softmax head (``f1_softmax``).
Run from the repo root: ``python benchmarks/ner_conll2003.py`` (``--quick``: 3000
sentences, 5 epochs; ``--crf-only`` skips the softmax run).
"""

import sys

from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task
from toolkit.data.conll import read_conll


def main() -> None:
    crf_only = "--crf-only" in sys.argv
    if crf_only:
        sys.argv.remove("--crf-only")
    args = parse_args(__doc__.splitlines()[0])
    conll = shared_dir("data") / "conll2003"
    train_x, train_y = read_conll(conll / "train.txt")
    valid = read_conll(conll / "valid.txt")
    quick = {"epochs": 5} if args.quick else {}
    if args.quick:
        train_x, train_y = train_x[:3000], train_y[:3000]
    results, timings = {}, {}
    for head in ("crf",) if crf_only else ("crf", "softmax"):
        task = Task("ner", head=head, seed=args.seed, verbose=2, **quick)
        with Timer() as timer:
            task.fit(train_x, train_y, validation_data=valid)
        report = task.evaluate(str(conll / "test.txt"))
        results[head], timings[head] = report, (timer.seconds, len(task.history_["loss"]))
        print(report.to_markdown(), flush=True)
    seconds, epochs_run = timings["crf"]
    tokens = sum(len(s) for s in train_x)
    emit("ner_conll2003", f1=results["crf"].metrics["f1"],
         f1_softmax=results["softmax"].metrics["f1"] if "softmax" in results else None,
         precision=results["crf"].metrics["precision"], recall=results["crf"].metrics["recall"],
         token_accuracy=results["crf"].metrics["token_accuracy"],
         seconds=seconds, seconds_softmax=timings.get("softmax", (None,))[0],
         tokens_per_second=tokens * epochs_run / seconds, epochs_run=epochs_run,
         epochs_run_softmax=timings.get("softmax", (None, None))[1],
         train_sentences=len(train_x), test_sentences=3453, quick=args.quick,
         backbone=task.backbone, epochs=task.epochs, batch_size=task.batch_size,
         learning_rate=task.learning_rate, seed=args.seed)


if __name__ == "__main__":
    main()
