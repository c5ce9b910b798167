"""Sentiment / text classification: raw strings in, labels out."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from toolkit.backbones.registry import get_backbone_spec
from toolkit.classification import ClassificationTask
from toolkit.data.examples import Examples
from toolkit.data.sources import read_inputs
from toolkit.heads.classification import classification_head
from toolkit.preprocessing.text import (
    TextVectorizer,
    TokenDropout,
    check_texts,
    load_word_vectors,
)
from toolkit.task import register_task


@register_task("sentiment", aliases=("text_classification",))
class SentimentTask(ClassificationTask):
    """Classify texts (sentiment, topic, intent) with a sequence backbone.

    Parameters
    ----------
    backbone : str
        A sequence backbone: ``bilstm`` (default), ``lstm``, ``gru``, ``bigru``,
        ``attention``, ``highway``, ``cnn`` (``toolkit.list_backbones("sequence")``).
    embedding_dim, units : int
        Word-vector width and recurrent units (filters per width for ``cnn``).
    dropout : float
        Dropout on embeddings and before the output layer.
    token_dropout : float
        Share of training tokens replaced by ``[UNK]`` (word dropout), so the model
        learns what to make of words it has never seen.
    weight_decay : float
        AdamW's decoupled weight decay.
    sam_rho : float
        Sharpness-aware minimisation (Foret et al. 2021; see
        :class:`toolkit.training.sharpness.SharpnessAwareModel`): each step takes its
        gradient at weights moved ``sam_rho`` up the loss, so training settles where
        the loss is flat. ``0`` turns it off (half the time per step).
    max_tokens : int
        Vocabulary size.
    max_length : int or None
        Tokens kept per text; ``None`` uses the longest training text (at most 256).
        Longer texts are cut, with a ``UserWarning`` saying how many.
    embeddings : path or None
        GloVe-format word vectors (``word v1 ... vd`` per line) to start from; their
        width must equal ``embedding_dim``.
    epochs, batch_size, learning_rate, schedule, validation_split, early_stopping :
        Training settings: at most ``epochs`` passes of AdamW at peak
        ``learning_rate`` under ``schedule`` (``"cosine"``, ``"onecycle"``,
        ``"constant"``), ``validation_split`` held out for early stopping with
        ``early_stopping`` epochs of patience (``None`` turns it off; never before
        half the epochs under a decaying schedule). The defaults
        suit corpora of tens of thousands of texts (2 epochs of SST-2's 60k phrases
        beat 3); on a few thousand texts raise ``epochs`` (8 or more) or lower
        ``batch_size``.
    callbacks : list of keras.callbacks.Callback, optional
        Passed through to ``keras.Model.fit``.
    verbose : int
        0 silent, 1 Keras progress bar, 2 one line per epoch.
    seed : int or None
        Makes two fits give identical predictions.
    text_column, label_column : str, optional
        Columns of a DataFrame or CSV/TSV file (defaults: ``text``/``sentence``, else
        the first other column of text, and ``label``, else the last column).
    data_dir : path, optional
        tensorflow-datasets folder for ``"tfds:NAME"`` inputs.

    distribute, precision, jit_compile, steps_per_execution, checkpoint_dir :
        Scale and fault settings every task shares (see ``docs/scaling.md``):
        ``distribute`` is None, ``"mirrored"``, ``"multi_worker"`` or a
        ``tf.distribute.Strategy`` (``batch_size`` is then the global batch);
        ``precision`` is ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``;
        ``jit_compile`` and ``steps_per_execution`` go to ``keras.Model.compile``;
        ``checkpoint_dir`` makes training resume after a crash and keeps the best model.

    Examples
    --------
    >>> from toolkit import Task
    >>> task = Task("sentiment", epochs=2, seed=0, verbose=0)
    >>> texts = ["a wonderful, moving film", "dull and far too long"] * 20
    >>> task.fit(texts, ["positive", "negative"] * 20).predict(["a wonderful film"])
    array(['positive'], dtype='<U8')
    """

    def __init__(
        self,
        backbone: str = "bilstm",
        embedding_dim: int = 128,
        units: int = 64,
        dropout: float = 0.4,
        token_dropout: float = 0.1,
        weight_decay: float = 1e-2,
        sam_rho: float = 0.0,
        max_tokens: int = 20000,
        max_length: int | None = None,
        embeddings: str | None = None,
        epochs: int = 2,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        schedule: str = "cosine",
        validation_split: float = 0.1,
        early_stopping: int | None = 1,
        callbacks: list | None = None,
        verbose: int = 1,
        seed: int | None = None,
        distribute: str | tf.distribute.Strategy | None = None,
        precision: str = "float32",
        jit_compile: bool | str = "auto",
        steps_per_execution: int = 1,
        checkpoint_dir: str | None = None,
        text_column: str | None = None,
        label_column: str | None = None,
        data_dir: str | None = None,
    ):
        self.backbone = backbone
        self.embedding_dim = embedding_dim
        self.units = units
        self.dropout = dropout
        self.token_dropout = token_dropout
        self.weight_decay = weight_decay
        self.sam_rho = sam_rho
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.embeddings = embeddings
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.schedule = schedule
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
        self.text_column = text_column
        self.label_column = label_column
        self.data_dir = data_dir

    def _read(self, X, y=None, *, training: bool) -> Examples:
        self._check_settings(column_names=("text_column", "label_column"), paths=("data_dir",))
        x, y = read_inputs(
            X, y, require_labels=training, input_column=self.text_column,
            label_column=self.label_column, input_column_name="text_column",
            data_dir=self.data_dir,
        )
        return Examples(check_texts(x), y)

    def _check_params(self) -> None:
        get_backbone_spec(self.backbone, kind="sequence")
        self._check_settings(positive_ints=("embedding_dim", "units", "max_tokens"),
                             fractions=("dropout", "token_dropout"))
        self._size("max_length", optional=True)

    def _fit_preprocessing(self, examples: Examples) -> None:
        self._fit_labels(examples)
        self.vectorizer_ = TextVectorizer(self._size("max_tokens"),
                                          self._size("max_length", optional=True)).fit(examples.x)

    def _encode(self, examples: Examples):
        return self.vectorizer_.transform(examples.x), self._encode_targets(examples)

    def _recurrent(self) -> bool:
        return get_backbone_spec(self.backbone, kind="sequence").recurrent

    def _sequence_lengths(self, inputs) -> np.ndarray | None:
        # Recurrent backbones mask padding, so batches of similar-length texts cut to
        # their longest text give the same model for less work; the convolutional one
        # sees padding and trains on the full width it predicts on.
        return np.count_nonzero(inputs, axis=1) if self._recurrent() else None

    def _build_model(self) -> keras.Model:
        spec = get_backbone_spec(self.backbone, kind="sequence")
        # Any length: training batches are cut to their longest text (recurrent backbones).
        backbone = spec.builder(
            input_shape=(None,), vocabulary_size=len(self.vectorizer_.vocabulary),
            embedding_dim=self._size("embedding_dim"), units=self._size("units"),
            dropout=self.dropout,
        )
        embeddings = self._pretrained("embeddings")
        if embeddings is not None:
            matrix, _ = load_word_vectors(embeddings, self.vectorizer_.vocabulary,
                                          self._size("embedding_dim"))
            backbone.get_layer("embedding").set_weights([matrix])
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        features = backbone(TokenDropout(self.token_dropout, name="token_dropout")(token_ids))
        probabilities = classification_head(features, len(self.classes_), dropout=self.dropout)
        return keras.Model(token_ids, probabilities, name=self.task_name)

    def _fitted_state(self) -> dict:
        return {**self._labels_state(), "vectorizer": self.vectorizer_.get_state()}

    def _check_restored(self, source: str) -> None:
        super()._check_restored(source)
        self._check_saved_size(source, "the vocabulary", len(self.vectorizer_.vocabulary),
                               "embedding", "input_dim")

    def _restore_state(self, state: dict) -> None:
        self._restore_labels(state)
        self.vectorizer_ = TextVectorizer.from_state(state["vectorizer"])
