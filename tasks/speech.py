"""Speech: WAV files or waveforms in; spoken-command labels or CTC transcripts out.

The feature extraction (peak normalisation, log-mel, per-utterance normalisation,
MFCC, SpecAugment) is made of Keras layers inside the model, so a saved model takes
raw audio: ``Task.load(dir).predict(["clip.wav"])``. Decoding and resampling to the
model's rate happen before the model.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from toolkit.backbones.registry import get_backbone_spec
from toolkit.classification import ClassificationTask
from toolkit.data.audio import load_waveforms, read_audio_folder
from toolkit.data.checks import check_string_list
from toolkit.data.examples import Examples
from toolkit.data.sources import read_inputs
from toolkit.evaluation.transcription import TranscriptionReport
from toolkit.heads.classification import classification_head
from toolkit.heads.ctc import DECODERS, CTCLoss, ctc_decode, ctc_head
from toolkit.preprocessing.audio import (
    MFCC,
    LogMelSpectrogram,
    PeakNormalization,
    SpecAugment,
    UtteranceNormalization,
    frame_count,
    pad_or_crop,
)
from toolkit.task import Task, register_task

MODES = ("classify", "transcribe")
FEATURES = ("log_mel", "mfcc")
#: Analysis window and hop (the usual 25 ms / 10 ms).
WINDOW_SECONDS, HOP_SECONDS = 0.025, 0.010
#: ``duration="auto"`` in classify mode covers this percentile of training clip lengths.
AUTO_DURATION_PERCENTILE = 99
#: Layers a re-headed model gets fresh.
HEAD_LAYERS = ("head_dropout", "predictions", "ctc_logits", "log_probabilities")


@register_task("speech")
class SpeechTask(ClassificationTask):
    """Recognise spoken commands, or transcribe speech with CTC.

    Parameters
    ----------
    mode : "classify" or "transcribe"
        ``"classify"`` (default): one label per clip, softmax, the shared
        classification report, ``score`` is accuracy. ``"transcribe"``: a CTC head
        over characters (or ``vocabulary``), greedy or beam decoding, a report of
        character and word error rates (jiwer); ``score`` is ``1 - wer``.
    sample_rate : int or None
        The model's rate; files are resampled to it (SciPy polyphase). ``None`` takes
        the first training file's rate. Waveform arrays are taken to be at this rate.
    duration : float or None
        Seconds every clip is padded (with silence) or cut to. ``None`` (auto): in
        classify mode, the 99th percentile of the training clips (rounded up to 0.1 s);
        in transcribe mode, no fixed length (batches of similar length, cut to their
        longest). Never below what the backbone's pooling needs (8 spectrogram
        frames, 0.1 s at 8 kHz, for ``cnn``): auto rounds up to it, a shorter
        explicit ``duration`` is an error.
    features : "log_mel" or "mfcc"
        Log-mel spectrogram (``num_mel_bins``), or its first ``num_mfcc`` DCT
        coefficients.
    num_mel_bins, num_mfcc : int
        Mel bands; cepstral coefficients kept for ``features="mfcc"``.
    normalize : bool
        Peak-normalise each waveform and mean/variance-normalise each utterance's
        features. Loudness differs ~10x between speakers; without this unseen
        speakers fail.
    spec_augment : bool or None
        Time and frequency masking while training (never at inference). ``None``:
        on for transcribe, off for classify (on FSDD digits it held a small CNN at
        0.84 training / 0.95 validation accuracy after 20 epochs: too much
        regularisation for short clips).
    backbone : str
        An audio backbone (``toolkit.list_backbones("audio")``): ``"cnn"`` (default
        for classify), ``"ds_cnn"``, ``"crnn"`` (default for transcribe); ``"auto"``
        picks by mode.
    vocabulary : None, str or list of str
        Transcribe only. ``None``: the characters of the training transcripts. A string
        or a list of single characters: those characters. A list of longer tokens:
        word-level CTC over those words (transcripts split on spaces).
    decoder : "greedy" or "beam"
        CTC decoding for ``predict``/``evaluate``.
    beam_width : int
        Beams kept by ``decoder="beam"``.
    dropout : float
        Dropout before the output layer.
    label_column : str, optional
        For a table file (CSV/TSV) or DataFrame listing clips: the column of labels
        (transcripts in transcribe mode); default ``"label"``, else the last column. The
        paths are read from the column named ``path``, ``file``, ``filename`` or
        ``audio`` (else the first other column of text); in a table file, relative paths are
        relative to the table's folder, as dataset manifests are written.
    epochs, batch_size, learning_rate, schedule, weight_decay, validation_split, early_stopping :
        Training settings, as for every task.
    callbacks : list of keras.callbacks.Callback, optional
        Passed through to ``keras.Model.fit``.
    verbose : int
        0 silent, 1 progress bar, 2 one line per epoch.
    seed : int or None
        Makes two fits give identical predictions.
    distribute, precision, jit_compile, steps_per_execution, checkpoint_dir :
        Scale and fault settings every task shares (see ``docs/scaling.md``):
        ``distribute`` is None, ``"mirrored"``, ``"multi_worker"`` or a
        ``tf.distribute.Strategy`` (``batch_size`` is then the global batch);
        ``precision`` is ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``;
        ``jit_compile`` and ``steps_per_execution`` go to ``keras.Model.compile``;
        ``checkpoint_dir`` makes training resume after a crash and keeps the best model.

    Examples
    --------
    >>> import numpy as np
    >>> from toolkit import Task
    >>> t = np.arange(4000) / 8000
    >>> rng = np.random.default_rng(0)
    >>> clips = [np.sin(2 * np.pi * f * t) * rng.uniform(0.1, 1) for f in [300, 1500] * 30]
    >>> task = Task("speech", sample_rate=8000, epochs=10, learning_rate=5e-3, verbose=0, seed=0)
    >>> task.fit(clips, ["low", "high"] * 30).predict(clips[:2])
    array(['low', 'high'], dtype='<U4')
    """

    def __init__(
        self,
        mode: str = "classify",
        sample_rate: int | None = None,
        duration: float | None = None,
        features: str = "log_mel",
        num_mel_bins: int = 40,
        num_mfcc: int = 13,
        normalize: bool = True,
        spec_augment: bool | None = None,
        backbone: str = "auto",
        vocabulary: str | list | None = None,
        decoder: str = "greedy",
        beam_width: int = 16,
        dropout: float = 0.3,
        label_column: str | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        learning_rate: float = 2e-3,
        schedule: str = "cosine",
        weight_decay: float = 1e-4,
        validation_split: float = 0.1,
        early_stopping: int | None = 5,
        callbacks: list | None = None,
        verbose: int = 1,
        seed: int | None = None,
        distribute: str | tf.distribute.Strategy | None = None,
        precision: str = "float32",
        jit_compile: bool | str = "auto",
        steps_per_execution: int = 1,
        checkpoint_dir: str | None = None,
    ):
        self.mode = mode
        self.sample_rate = sample_rate
        self.duration = duration
        self.features = features
        self.num_mel_bins = num_mel_bins
        self.num_mfcc = num_mfcc
        self.normalize = normalize
        self.spec_augment = spec_augment
        self.backbone = backbone
        self.vocabulary = vocabulary
        self.decoder = decoder
        self.beam_width = beam_width
        self.dropout = dropout
        self.label_column = label_column
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.weight_decay = weight_decay
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.callbacks = callbacks
        self.verbose = verbose
        self.seed = seed
        self.distribute = distribute
        self.precision = precision
        self.jit_compile = jit_compile
        self.steps_per_execution = steps_per_execution
        self.checkpoint_dir = checkpoint_dir

    # ---------------------------------------------------------- validation

    def _transcribing(self) -> bool:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}. Received: mode={self.mode!r}")
        return self.mode == "transcribe"

    def _backbone_name(self) -> str:
        if self.backbone == "auto":
            return "crnn" if self._transcribing() else "cnn"
        return self.backbone

    def _spec(self):
        return get_backbone_spec(self._backbone_name(), kind="audio")

    def _check_params(self) -> None:
        self._transcribing()
        self._spec()
        self._check_settings(positive_ints=("num_mel_bins", "num_mfcc", "beam_width"),
                             fractions=("dropout",),
                             flags=("normalize",), column_names=("label_column",),
                             choices={"features": FEATURES, "decoder": DECODERS})
        if self.spec_augment not in (True, False, None):
            raise ValueError("spec_augment must be True, False or None (auto). "
                             f"Received: spec_augment={self.spec_augment!r}")
        if self.features == "mfcc" and self.num_mfcc > self.num_mel_bins:
            raise ValueError("num_mfcc must be at most num_mel_bins. Received: "
                             f"num_mfcc={self.num_mfcc}, num_mel_bins={self.num_mel_bins}")
        if self.sample_rate is not None:
            self._check_positive_int("sample_rate", self.sample_rate)
        if not (self.duration is None or (
                isinstance(self.duration, (int, float)) and not isinstance(self.duration, bool)
                and self.duration > 0)):
            raise ValueError("duration must be a positive number of seconds or None (auto). "
                             f"Received: duration={self.duration!r}")
        bins_name = "num_mfcc" if self.features == "mfcc" else "num_mel_bins"
        bins = getattr(self, bins_name)
        min_bins = self._spec().extra.get("min_shape", (1, 1))[1]
        if bins < min_bins:
            raise ValueError(f"backbone {self._backbone_name()!r} pools its input {min_bins}-fold "
                             f"in frequency, so {bins_name} must be at least {min_bins}. "
                             f"Received: {bins_name}={bins}")

    # --------------------------------------------------------------- input

    def fit(self, X, y=None, *, validation_data=None) -> SpeechTask:
        """Train a new model on WAV paths, a class-per-subfolder folder, a table of paths
        and labels (see ``label_column``) or waveforms.

        ``y`` holds labels (classify) or transcripts (transcribe).
        """
        return super().fit(X, y, validation_data=validation_data)

    def _read(self, X, y=None, *, training: bool) -> Examples:
        X, y = read_inputs(X, y, require_labels=training, label_column=self.label_column,
                           read_folder=read_audio_folder, input_paths=True,
                           example_rank=2)  # (samples, channels), as decode_wav gives
        rate = getattr(self, "sample_rate_", self.sample_rate)
        waveforms, rate = load_waveforms(X, sample_rate=rate)
        if not hasattr(self, "sample_rate_"):
            self.sample_rate_ = rate
        if y is not None:
            if len(y) != len(waveforms):
                raise ValueError("X and y must have the same length. "
                                 f"Received: len(X)={len(waveforms)}, len(y)={len(y)}")
            if self._transcribing():
                y = [_check_transcript(t, i) for i, t in enumerate(y)]
        return Examples(waveforms, y)

    def _fit_preprocessing(self, examples: Examples) -> None:
        lengths = np.array([len(w) for w in examples.x])
        if isinstance(self.duration, (int, float)) and not isinstance(self.duration, bool):
            self.num_samples_ = int(round(self.duration * self.sample_rate_))
        elif not self._transcribing():
            seconds = np.percentile(lengths, AUTO_DURATION_PERCENTILE) / self.sample_rate_
            self.num_samples_ = int(round(math.ceil(seconds * 10) / 10 * self.sample_rate_))
        else:
            self.num_samples_ = None
        if self.num_samples_ is not None:
            self.num_samples_ = self._check_clip_length(self.num_samples_)
        if self._transcribing():
            self._fit_vocabulary(examples)
        else:
            self._fit_labels(examples)

    def _check_clip_length(self, samples: int) -> int:
        """The fixed clip length: ``samples``, raised to the fewest the backbone's pooling
        accepts when chosen automatically; too few for an explicit ``duration`` is an error."""
        min_frames = self._spec().extra.get("min_shape", (1, 1))[0]
        minimum = self._min_samples()
        if samples < minimum and self.duration is not None:
            raise ValueError(
                f"duration={self.duration!r} s is too short for backbone "
                f"{self._backbone_name()!r}, which needs at least {min_frames} spectrogram "
                f"frames: duration >= {minimum / self.sample_rate_:.3f} s at "
                f"{self.sample_rate_} Hz.")
        return max(samples, minimum)

    def _min_samples(self) -> int:
        """The fewest samples whose spectrogram the backbone's pooling accepts."""
        min_frames = self._spec().extra.get("min_shape", (1, 1))[0]
        return self._fft_length() + (min_frames - 1) * self._frame_step()

    def _fit_vocabulary(self, examples: Examples) -> None:
        vocabulary = self.vocabulary
        if vocabulary is None:
            vocabulary = sorted({c for t in examples.y for c in t})
        elif isinstance(vocabulary, str):
            vocabulary = list(dict.fromkeys(vocabulary))
        vocabulary = [str(token) for token in vocabulary]
        if not vocabulary or len(set(vocabulary)) != len(vocabulary):
            raise ValueError("vocabulary must hold distinct tokens. "
                             f"Received: vocabulary={self.vocabulary!r}")
        self.token_level_ = "word" if any(len(token) > 1 for token in vocabulary) else "char"
        self.vocabulary_ = vocabulary

    def _frame_length(self) -> int:
        return int(round(WINDOW_SECONDS * self.sample_rate_))

    def _fft_length(self) -> int:
        """Samples per analysis frame: the window rounded up to a power of two."""
        return 1 << (self._frame_length() - 1).bit_length()

    def _frame_step(self) -> int:
        return int(round(HOP_SECONDS * self.sample_rate_))

    def _encode(self, examples: Examples):
        length = self.num_samples_
        if length is None:  # variable length: short clips padded with silence to the minimum
            length = max(self._min_samples(), max(len(w) for w in examples.x))
        inputs = pad_or_crop(examples.x, length)
        if examples.y is None:
            return inputs, None
        if not self._transcribing():
            return inputs, self._encode_targets(examples)
        return inputs, self._encode_transcripts(examples)

    def _tokens(self, transcript: str) -> list[str]:
        return transcript.split() if self.token_level_ == "word" else list(transcript)

    def _encode_transcripts(self, examples: Examples) -> np.ndarray:
        index = {token: i + 1 for i, token in enumerate(self.vocabulary_)}  # 0 is the blank
        tokens = [self._tokens(t) for t in examples.y]
        targets = np.zeros((len(tokens), max(1, max(len(t) for t in tokens))), dtype="int32")
        reduction = self._spec().extra.get("time_reduction", 1)
        for row, (sequence, waveform) in enumerate(zip(tokens, examples.x)):
            unknown = sorted({t for t in sequence if t not in index})
            if unknown:
                raise ValueError(f"Transcript {row} has token(s) {unknown} outside the "
                                 f"vocabulary {self.vocabulary_}.")
            if self.num_samples_ is not None and len(waveform) > self.num_samples_:
                raise ValueError(
                    f"A clip transcribed {examples.y[row]!r:.60} lasts "
                    f"{len(waveform) / self.sample_rate_:.2f} s, longer than "
                    f"duration={self.num_samples_ / self.sample_rate_:.2f} s: cut to it, it would "
                    "lose speech its transcript keeps. Pass duration=None (variable lengths) "
                    "or one covering the longest clip.")
            frames = frame_count(len(waveform), self._fft_length(), self._frame_step()) // reduction
            needed = len(sequence) + sum(a == b for a, b in zip(sequence, sequence[1:]))
            if needed > frames:
                raise ValueError(
                    f"Transcript {row} ({len(sequence)} tokens) is too long for its audio "
                    f"({frames} output frames): CTC needs at least one frame per token. "
                    "Use a word vocabulary or longer clips.")
            targets[row, :len(sequence)] = [index[t] for t in sequence]
        return targets

    def _sequence_lengths(self, inputs):
        if self.num_samples_ is not None:
            return None
        # The last non-zero sample: trailing zeros are padding (or silence, the same).
        nonzero = inputs != 0
        last = inputs.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
        return np.maximum(np.where(nonzero.any(axis=1), last, 0), self._fft_length())

    # --------------------------------------------------------------- model

    def _build_model(self) -> keras.Model:
        spec = self._spec()
        transcribing = self._transcribing()
        waveforms = keras.Input(shape=(self.num_samples_,), name="waveform")
        x = PeakNormalization(name="peak_normalization")(waveforms) if self.normalize else waveforms
        x = LogMelSpectrogram(self.sample_rate_, self._frame_length(), self._frame_step(),
                              self._fft_length(), self._size("num_mel_bins"),
                              name="log_mel")(x)
        if self.normalize:
            x = UtteranceNormalization(name="utterance_normalization")(x)
        if self.features == "mfcc":
            x = MFCC(self._size("num_mfcc"), name="mfcc")(x)
        if self.spec_augment or (self.spec_augment is None and transcribing):
            x = SpecAugment(frequency_width=max(1, x.shape[-1] // 6), seed=self.seed,
                            name="spec_augment")(x)
        frames = None if self.num_samples_ is None else frame_count(
            self.num_samples_, self._fft_length(), self._frame_step())
        backbone = spec.builder(input_shape=(frames, int(x.shape[-1])),
                                return_sequences=transcribing)
        features = backbone(x)
        if transcribing:
            outputs = ctc_head(features, len(self.vocabulary_), dropout=self.dropout)
        else:
            outputs = classification_head(features, len(self.classes_), dropout=self.dropout)
        return keras.Model(waveforms, outputs, name=self.task_name)

    def _recurrent(self) -> bool:
        return self._spec().recurrent

    def _stratify(self) -> bool:
        return not self._transcribing()

    def _loss(self):
        return CTCLoss() if self._transcribing() else super()._loss()

    def _metrics(self) -> list:
        return [] if self._transcribing() else super()._metrics()

    # ------------------------------------------------------------ outputs

    def predict(self, X: Any) -> np.ndarray | list[str]:
        """Labels (classify, an array) or transcripts (transcribe, a list of str) of
        WAV paths, a folder, a table of paths or waveforms (see :meth:`fit`)."""
        return super().predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in ``classes_`` order
        (``mode="classify"`` only).

        Raises
        ------
        ValueError
            For a transcriber (``mode="transcribe"``).
        """
        if self._transcribing():
            raise ValueError("predict_proba is for mode='classify'; a transcriber's "
                             "per-frame log-probabilities come from model_.predict.")
        return super().predict_proba(X)

    def _decode(self, outputs: np.ndarray):
        if not self._transcribing():
            return super()._decode(outputs)
        separator = " " if self.token_level_ == "word" else ""
        return [" ".join(separator.join(self.vocabulary_[i - 1] for i in ids).split())
                for ids in ctc_decode(outputs, decoder=self.decoder, beam_width=self.beam_width)]

    def _report(self, examples: Examples, outputs: np.ndarray):
        if not self._transcribing():
            return super()._report(examples, outputs)
        return TranscriptionReport.from_predictions(self.task_name, examples.y,
                                                    self._decode(outputs))

    def _headline_metric(self, report) -> float:
        if self._transcribing():
            return 1.0 - report.metrics["wer"]
        return super()._headline_metric(report)

    def score(self, X, y=None) -> float:
        """Accuracy (classify) or ``1 - wer`` (transcribe): higher is better."""
        return Task.score(self, X, y)

    # ----------------------------------------------------------- transfer

    def fine_tune(self, X, y=None, *, epochs: int | None = None,
                  learning_rate: float | None = None, validation_data: tuple | None = None,
                  new_labels: bool = False) -> SpeechTask:
        """Continue training; with ``new_labels=True``, learn a new label set (or vocabulary).

        ``new_labels=True`` reads the labels of the new data, replaces the output layer
        with an untrained one and keeps the feature extractor and backbone weights.
        Training follows the shared gradual schedule: the new head alone with the
        backbone frozen, then the top of the backbone unfrozen at a lower rate.

        Parameters
        ----------
        X, y, epochs, learning_rate, validation_data :
            As in :meth:`toolkit.Task.fine_tune`.
        new_labels : bool
            Re-head the model for the new data's labels (transcripts' tokens).

        Returns
        -------
        self
        """
        if not isinstance(new_labels, (bool, np.bool_)):
            raise ValueError("new_labels must be True or False. "
                             f"Received: new_labels={new_labels!r}")
        if not new_labels:
            return super().fine_tune(X, y, epochs=epochs, learning_rate=learning_rate,
                                     validation_data=validation_data)
        return self._fine_tune_new_head(
            X, y, validation_data, epochs=epochs, learning_rate=learning_rate,
            fit_targets=self._fit_vocabulary if self._transcribing() else self._fit_labels,
            head_layers=HEAD_LAYERS, backbone_name=self._backbone_name(),
            layer_groups=self._spec().extra["layer_groups"],
        )

    # --------------------------------------------------------------- state

    def _fitted_state(self) -> dict:
        state = {"sample_rate": int(self.sample_rate_), "num_samples": self.num_samples_}
        if self._transcribing():
            return {**state, "vocabulary": list(self.vocabulary_), "token_level": self.token_level_}
        return {**state, **self._labels_state()}

    def _restore_state(self, state: dict) -> None:
        self.sample_rate_ = int(state["sample_rate"])
        self.num_samples_ = None if state["num_samples"] is None else int(state["num_samples"])
        if self._transcribing():
            self.vocabulary_ = check_string_list(state["vocabulary"], "vocabulary")
            self.token_level_ = state["token_level"]
        else:
            self._restore_labels(state)


def _check_transcript(transcript, index: int) -> str:
    if not isinstance(transcript, str) or not transcript.strip():
        raise ValueError(f"Transcripts must be non-empty strings. Received: {transcript!r} "
                         f"at index {index}")
    return " ".join(transcript.split())


__all__ = ["SpeechTask"]
