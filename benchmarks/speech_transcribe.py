"""Transcribe spoken digit strings of speakers held out of training: CER and WER (jiwer).

Utterances are built from real FSDD recordings by :func:`toolkit.data.fsdd.concatenate_digits`:
2-5 digits of one speaker joined by 50-250 ms silences, transcripts such as "three one
four". Training utterances use three speakers; test utterances use only the held-out
speaker (theo, the quietest, as in ``speech_fsdd.py``), so no test voice is heard in
training. CTC over the ten digit words with the ``crnn`` backbone, greedy decoding.
Run from the repo root: ``python benchmarks/speech_transcribe.py``.
"""

from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task
from toolkit.data.fsdd import DIGIT_WORDS, concatenate_digits, list_fsdd
from toolkit.preprocessing.audio import read_wav

HELD_OUT_SPEAKER = "theo"


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    recordings = list_fsdd(shared_dir("data") / "fsdd")
    held_out = recordings["speaker"] == HELD_OUT_SPEAKER
    n_train, n_test, epochs = (800, 100, 12) if args.quick else (1200, 300, 15)
    train_x, train_y, _ = concatenate_digits(recordings[~held_out], n_train, digits=(2, 5),
                                             seed=args.seed)
    test_x, test_y, _ = concatenate_digits(recordings[held_out], n_test, digits=(2, 5),
                                           seed=args.seed + 1)
    _, rate = read_wav(recordings["path"].iloc[0])  # the utterances keep the files' rate
    task = Task("speech", mode="transcribe", sample_rate=rate, vocabulary=list(DIGIT_WORDS),
                epochs=epochs, learning_rate=3e-3, seed=args.seed, verbose=2)
    with Timer() as timer:
        task.fit(train_x, train_y)
        report = task.evaluate(test_x, test_y)
    emit("speech_transcribe", cer=report.metrics["cer"], wer=report.metrics["wer"],
         exact_match=report.metrics["exact_match"], seconds=timer.seconds,
         held_out_speaker=HELD_OUT_SPEAKER, train_utterances=n_train, test_utterances=n_test,
         digits_per_utterance="2-5", epochs_run=len(task.history_["loss"]), quick=args.quick,
         backbone=task._backbone_name(), vocabulary="digit words", decoder=task.decoder,
         epochs=epochs, batch_size=task.batch_size, learning_rate=task.learning_rate,
         seed=args.seed)


if __name__ == "__main__":
    main()
