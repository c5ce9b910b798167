"""FSDD spoken digits: accuracy on the conventional test split and on an unseen speaker.

``accuracy``: train on recording index 5-49 of every speaker, test on index 0-4 (200
clips). ``accuracy_unseen_speaker``: train on every recording of the other speakers,
test on all 500 recordings of the held-out speaker (theo, the quietest: the hard one).
Default settings of ``Task("speech")`` (log-mel, per-utterance normalisation,
SpecAugment, ``cnn`` backbone). Run from the repo root: ``python benchmarks/speech_fsdd.py``.
"""

from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task
from toolkit.data.fsdd import TEST_INDICES, list_fsdd

HELD_OUT_SPEAKER = "theo"


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    recordings = list_fsdd(shared_dir("data") / "fsdd")
    epochs = 6 if args.quick else Task("speech").epochs
    settings = dict(epochs=epochs, seed=args.seed, verbose=2)

    is_test = recordings["index"].isin(TEST_INDICES)
    train, test = recordings[~is_test], recordings[is_test]
    with Timer() as timer:
        task = Task("speech", **settings).fit(train["path"].tolist(), train["digit"].tolist())
        accuracy = task.score(test["path"].tolist(), test["digit"].tolist())
        held_out = recordings["speaker"] == HELD_OUT_SPEAKER
        seen, unseen = recordings[~held_out], recordings[held_out]
        speaker_task = Task("speech", **settings).fit(seen["path"].tolist(),
                                                      seen["digit"].tolist())
        accuracy_unseen = speaker_task.score(unseen["path"].tolist(), unseen["digit"].tolist())
    emit("speech_fsdd", accuracy=accuracy, accuracy_unseen_speaker=accuracy_unseen,
         seconds=timer.seconds, held_out_speaker=HELD_OUT_SPEAKER,
         train_examples=len(train), test_examples=len(test),
         unseen_train_examples=len(seen), unseen_test_examples=len(unseen),
         epochs_run=len(task.history_["loss"]),
         epochs_run_unseen=len(speaker_task.history_["loss"]), quick=args.quick,
         backbone=task._backbone_name(), features=task.features,
         duration=round(task.num_samples_ / task.sample_rate_, 3), sample_rate=task.sample_rate_,
         epochs=epochs, batch_size=task.batch_size, learning_rate=task.learning_rate,
         seed=args.seed)


if __name__ == "__main__":
    main()
