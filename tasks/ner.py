"""Named-entity recognition: tokens (or raw strings) in, entity tags and spans out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit.backbones.characters import CharacterCNN
from toolkit.backbones.registry import get_backbone_spec
from toolkit.data.checks import check_string_list
from toolkit.data.conll import check_column_positions, read_conll
from toolkit.data.examples import Examples
from toolkit.data.sources import check_no_extra_labels
from toolkit.data.splits import train_validation_split
from toolkit.evaluation.tagging import TaggingReport
from toolkit.heads.tagging import PAD_TAG, decode_crf, tagging_head, tagging_loss
from toolkit.preprocessing.tags import (
    check_scheme,
    detect_scheme,
    from_spans,
    tag_set,
    to_spans,
)
from toolkit.preprocessing.text import TokenDropout, load_word_vectors
from toolkit.preprocessing.tokens import CASINGS, TokenEncoder, tokenize
from toolkit.task import Task, register_task

#: The model learns IOBES tags whatever the input scheme (Ratinov & Roth, 2009).
MODEL_SCHEME = "iobes"
#: Width of the learned casing vectors.
CASING_DIM = 8
#: Layers replaced when ``fine_tune(..., new_tags=True)`` re-heads the tagger ...
HEAD_LAYERS = ("head_dropout", "emissions", "crf", "tag_probabilities")
#: ... and the trained layers besides the backbone that it keeps (frozen at first).
BODY_LAYERS = ("char_cnn", "casing_embedding")


@register_task("ner")
class NERTask(Task):
    """Tag named entities with word + character features, a sequence backbone and a CRF.

    The Lample et al. (2016) / Ma & Hovy (2016) tagger: each token is its lower-cased
    word embedding, a character-CNN vector and a casing feature; a bidirectional LSTM
    reads the sentence; a CRF picks the best tag sequence as a whole.

    Parameters
    ----------
    backbone : str
        A sequence backbone returning per-token features: ``bilstm`` (default),
        ``bigru``, ``lstm``, ``gru``, ``highway`` (stacked), ``cnn``.
    head : str
        ``"crf"`` (default) or ``"softmax"`` (each token on its own).
    embedding_dim : int
        Word-vector width (equal to the file's width when ``embeddings`` is given).
    char_embedding_dim, char_filters : int
        Character-vector width and character-CNN output width.
    units : int
        Recurrent units per direction.
    dropout : float
        Dropout on embeddings, character vectors and before the head.
    token_dropout : float
        Share of training words replaced by ``[UNK]``, so unseen words at test time
        are handled by the character features the model learned to rely on.
    max_words : int or None
        Word vocabulary size; ``None`` keeps every training word.
    tag_scheme : str
        ``"auto"`` (detect), ``"iob1"``, ``"iob2"`` or ``"iobes"``: the scheme of the
        given tags, which ``predict`` answers in. Invalid sequences are repaired.
    embeddings : path or None
        GloVe-format word vectors to start from (looked up lower-cased).
    epochs, batch_size, learning_rate, schedule, weight_decay, validation_split, early_stopping :
        Training settings, as for every task.
    callbacks : list of keras.callbacks.Callback, optional
        Passed through to ``keras.Model.fit``.
    verbose : int
        0 silent, 1 progress bar, 2 one line per epoch.
    seed : int or None
        Makes two fits give identical predictions.
    token_column, tag_column : int
        Columns of CoNLL files (CoNLL-2003: token first, NER tag last).

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
    >>> sentences = [["Alice", "visited", "Paris", "."], ["Bob", "left", "Rome", "."]] * 30
    >>> tags = [["B-PER", "O", "B-LOC", "O"]] * 60
    >>> task = Task("ner", epochs=10, learning_rate=1e-2, seed=0, verbose=0).fit(sentences, tags)
    >>> task.predict([["Alice", "left", "Rome", "."]])
    [['B-PER', 'O', 'B-LOC', 'O']]
    """

    def __init__(
        self,
        backbone: str = "bilstm",
        head: str = "crf",
        embedding_dim: int = 100,
        char_embedding_dim: int = 30,
        char_filters: int = 50,
        units: int = 100,
        dropout: float = 0.5,
        token_dropout: float = 0.05,
        max_words: int | None = None,
        tag_scheme: str = "auto",
        embeddings: str | None = None,
        epochs: int = 30,
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
        token_column: int = 0,
        tag_column: int = -1,
    ):
        self.backbone = backbone
        self.head = head
        self.embedding_dim = embedding_dim
        self.char_embedding_dim = char_embedding_dim
        self.char_filters = char_filters
        self.units = units
        self.dropout = dropout
        self.token_dropout = token_dropout
        self.max_words = max_words
        self.tag_scheme = tag_scheme
        self.embeddings = embeddings
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
        self.token_column = token_column
        self.tag_column = tag_column

    # ------------------------------------------------------------------ input

    def _read(self, X, y=None, *, training: bool) -> Examples:
        check_column_positions(token_column=self.token_column, tag_column=self.tag_column)
        if isinstance(X, (str, Path)):
            if not Path(X).is_file():
                raise ValueError(
                    "Expected a CoNLL file path or a list of sentences (strings or token "
                    "lists); wrap a single sentence in a list. Received: "
                    f"X={str(X)[:60]!r}, which is not a file"
                )
            check_no_extra_labels(y, "X, a CoNLL file,", "tags")
            X, y = read_conll(X, token_column=self.token_column, tag_column=self.tag_column)
        sentences = _token_lists(X)
        if training:
            if y is None:
                raise ValueError("Tags are required: pass y (one tag list per sentence) "
                                 "or a CoNLL file")
            y = _tag_lists(y, sentences)
        return Examples(sentences, y)

    def _check_params(self) -> None:
        get_backbone_spec(self.backbone, kind="sequence")
        self._check_settings(
            positive_ints=("embedding_dim", "char_embedding_dim", "char_filters", "units"),
            fractions=("dropout", "token_dropout"), choices={"head": ("crf", "softmax")})
        self._size("max_words", optional=True)

    def _fit_preprocessing(self, examples: Examples) -> None:
        self._fit_tags(examples)
        self.encoder_ = TokenEncoder(self._size("max_words", optional=True)).fit(examples.x)

    def _check_targets(self, examples: Examples) -> None:
        if all(tag == "O" for tags in examples.y for tag in tags):
            raise ValueError("The training tags hold no entities (every tag is 'O'), so "
                             "there is nothing to learn. Received: "
                             f"{sum(map(len, examples.y))} tags, all 'O'")

    def _split_validation(self, train: Examples) -> tuple[Examples, Examples | None]:
        # A sentence whose entity type no training sentence holds stays in training.
        return train_validation_split(train, self.validation_split, seed=self.seed,
                                      classes_of=_entity_types)

    def _fit_tags(self, examples: Examples) -> None:
        self.scheme_ = (detect_scheme(examples.y) if self.tag_scheme == "auto"
                        else check_scheme(self.tag_scheme))
        types = {t for tags in examples.y for _, _, t in to_spans(tags, self.scheme_)}
        if not types:
            raise ValueError("The training tags hold no entities in the "
                             f"{self.scheme_} scheme, so there is nothing to learn.")
        self.tags_ = tag_set(sorted(types), MODEL_SCHEME)

    def _encode(self, examples: Examples):
        inputs = self.encoder_.transform(examples.x)
        if examples.y is None:
            return inputs, None
        index = {tag: i for i, tag in enumerate(self.tags_)}
        targets = np.full(inputs["word_ids"].shape, PAD_TAG, dtype="int32")
        for row, tags in enumerate(examples.y):
            spans = to_spans(tags, self.scheme_)
            self._check_known_types(spans, row)
            model_tags = from_spans(spans, len(tags), MODEL_SCHEME)
            targets[row, :len(tags)] = [index[tag] for tag in model_tags]
        return inputs, targets

    def _sequence_lengths(self, inputs) -> np.ndarray:
        return np.count_nonzero(inputs["word_ids"], axis=1)

    # ------------------------------------------------------------------ model

    def _build_model(self) -> keras.Model:
        spec = get_backbone_spec(self.backbone, kind="sequence")
        word_ids = keras.Input(shape=(None,), dtype="int32", name="word_ids")
        char_ids = keras.Input(shape=(None, None), dtype="int32", name="char_ids")
        casing_ids = keras.Input(shape=(None,), dtype="int32", name="casing_ids")
        chars = CharacterCNN(len(self.encoder_.chars), self._size("char_embedding_dim"),
                             self._size("char_filters"), dropout=self.dropout / 2,
                             name="char_cnn")(char_ids)
        casing = keras.layers.Embedding(len(CASINGS), CASING_DIM,
                                        name="casing_embedding")(casing_ids)
        features = keras.layers.Concatenate(name="char_and_casing")([chars, casing])
        features = keras.layers.Dropout(self.dropout, name="char_and_casing_dropout")(features)
        backbone = spec.builder(
            input_shape=(None,), vocabulary_size=len(self.encoder_.words),
            embedding_dim=self._size("embedding_dim"), units=self._size("units"),
            dropout=self.dropout, return_sequences=True,
            token_features=self._size("char_filters") + CASING_DIM,
        )
        embeddings = self._pretrained("embeddings")
        if embeddings is not None:
            matrix, _ = load_word_vectors(embeddings, self.encoder_.words,
                                          self._size("embedding_dim"))
            backbone.get_layer("embedding").set_weights([matrix])
        dropped = TokenDropout(self.token_dropout, name="token_dropout")(word_ids)
        outputs = tagging_head(backbone([dropped, features]), len(self.tags_),
                               head=self.head, dropout=self.dropout)
        return keras.Model([word_ids, char_ids, casing_ids], outputs, name=self.task_name)

    def _loss(self):
        return tagging_loss(self.head)

    def _recurrent(self) -> bool:
        return get_backbone_spec(self.backbone, kind="sequence").recurrent

    # ------------------------------------------------------------- prediction

    def predict(self, X) -> list[list[str]]:
        """Tag sentences: token lists, or raw strings (split by :func:`tokenize`).

        Returns one tag list per sentence, in the training data's tag scheme.
        """
        examples = self._read(X, training=False)
        spans, _ = self._spans(examples.x, self._outputs(examples), confidence=False)
        return [from_spans(s, len(tokens), self.scheme_) for s, tokens in zip(spans, examples.x)]

    def predict_entities(self, texts: Sequence[str]) -> list[list[dict]]:
        """Entity spans of raw ``texts``, with character offsets.

        Returns
        -------
        list of list of dict
            Per text, ``{"text", "label", "start", "end", "score"}`` with
            ``text == input[start:end]`` and ``score`` the mean probability of the
            entity's tags (CRF marginals or softmax probabilities).

        Examples
        --------
        >>> task.predict_entities(["Alice left Rome."])  # doctest: +SKIP
        [[{'text': 'Alice', 'label': 'PER', 'start': 0, 'end': 5, 'score': 0.98}, ...]]
        """
        given = type(texts).__name__
        if not isinstance(texts, (str, bytes, Mapping)) and isinstance(texts, Iterable):
            texts = list(texts)  # a generator is read once, here
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            kinds = sorted({type(t).__name__ for t in texts}) if isinstance(texts, list) else []
            items = f" of {', '.join(kinds)}" if kinds else ""
            raise TypeError("predict_entities expects a list of strings (wrap a single text "
                            f"in a list). Received: {given}{items}")
        tokenized = [tokenize(text) for text in texts]
        examples = Examples([[token for token, _, _ in tokens] for tokens in tokenized])
        spans, confidence = self._spans(examples.x, self._outputs(examples))
        results = []
        for text, tokens, text_spans, scores in zip(texts, tokenized, spans, confidence):
            results.append([
                {"text": text[tokens[s][1]:tokens[e - 1][2]], "label": label,
                 "start": tokens[s][1], "end": tokens[e - 1][2],
                 "score": float(np.mean(scores[s:e]))}
                for s, e, label in text_spans
            ])
        return results

    def _spans(self, sentences, outputs, *, confidence: bool = True):
        """Entity spans per sentence and, with ``confidence``, the probability of each
        token's tag (CRF marginals or softmax probabilities; else ``None``)."""
        lengths = np.array([len(s) for s in sentences])
        if self.head == "crf":
            ids, probabilities = decode_crf(outputs, lengths, marginals=confidence)
        else:
            probabilities = outputs[:, :max(int(lengths.max(initial=0)), 1)]
            ids = probabilities.argmax(axis=-1)
        spans = [to_spans([self.tags_[i] for i in row[:n]], MODEL_SCHEME)
                 for row, n in zip(ids, lengths)]
        if not confidence:
            return spans, None
        chosen = np.take_along_axis(probabilities, ids[..., None], axis=-1)[..., 0]
        return spans, [c[:n] for c, n in zip(chosen, lengths)]

    # ------------------------------------------------------------- evaluation

    def _check_known_types(self, spans: list, row: int) -> None:
        known = {tag[2:] for tag in self.tags_[1:]}
        unknown = {entity_type for _, _, entity_type in spans} - known
        if unknown:
            raise ValueError(
                f"Unknown entity type(s) {sorted(unknown)} in sentence {row}; the tagger "
                f"knows {sorted(known)}. Use fine_tune(..., new_tags=True) to learn a new "
                "tag set."
            )

    def _report(self, examples: Examples, outputs: np.ndarray) -> TaggingReport:
        gold_scheme = detect_scheme(examples.y)
        gold_spans = [to_spans(t, gold_scheme) for t in examples.y]
        for row, spans in enumerate(gold_spans):  # a type it never learned would score 0
            self._check_known_types(spans, row)
        gold = [from_spans(s, len(t), "iob2") for s, t in zip(gold_spans, examples.y)]
        spans, _ = self._spans(examples.x, outputs, confidence=False)
        predicted = [from_spans(s, len(t), "iob2") for s, t in zip(spans, examples.y)]
        return TaggingReport.from_predictions(self.task_name, gold, predicted)

    def _headline_metric(self, report: TaggingReport) -> float:
        return report.metrics["f1"]

    # --------------------------------------------------------------- transfer

    def fine_tune(self, X, y=None, *, epochs: int | None = None,
                  learning_rate: float | None = None, validation_data: tuple | None = None,
                  new_tags: bool = False) -> NERTask:
        """Continue training on new data; with ``new_tags=True``, learn a new tag set.

        ``new_tags=True`` reads the tag set of the new data, replaces the output layer
        (and CRF) with untrained ones and keeps every weight below them (word and
        character embeddings, backbone). Training then follows the shared gradual
        schedule: the new head alone first, then everything at a lower rate.

        Parameters
        ----------
        X, y, epochs, learning_rate, validation_data :
            As in :meth:`toolkit.Task.fine_tune`.
        new_tags : bool
            Re-head the tagger for the new data's entity types.

        Returns
        -------
        self
        """
        if not isinstance(new_tags, (bool, np.bool_)):
            raise ValueError(f"new_tags must be True or False. Received: new_tags={new_tags!r}")
        if not new_tags:
            return super().fine_tune(X, y, epochs=epochs, learning_rate=learning_rate,
                                     validation_data=validation_data)
        return self._fine_tune_new_head(
            X, y, validation_data, epochs=epochs, learning_rate=learning_rate,
            fit_targets=self._fit_tags, head_layers=HEAD_LAYERS,
            backbone_name=BODY_LAYERS + (self.backbone,), layer_groups=[""],
        )

    # ------------------------------------------------------------------ state

    def _fitted_state(self) -> dict:
        return {"scheme": self.scheme_, "tags": list(self.tags_),
                "encoder": self.encoder_.get_state()}

    def _check_restored(self, source: str) -> None:
        self._check_saved_size(source, "the word vocabulary", len(self.encoder_.words),
                               "embedding", "input_dim")
        layer, size = ("crf", "num_tags") if self.head == "crf" else ("tag_probabilities", "units")
        self._check_saved_size(source, "the tag set", len(self.tags_), layer, size)

    def _restore_state(self, state: dict) -> None:
        self.scheme_ = state["scheme"]
        self.tags_ = check_string_list(state["tags"], "tags")
        self.encoder_ = TokenEncoder.from_state(state["encoder"])


def _entity_types(tags: list[str]) -> set[str]:
    """The entity types a sentence's tags name (``B-PER`` -> ``PER``), in any scheme."""
    return {tag.split("-", 1)[1] for tag in tags if tag != "O" and "-" in tag}


def _token_lists(X) -> list[list[str]]:
    """Sentences as token lists; raw strings are tokenized."""
    if isinstance(X, np.ndarray):
        X = X.tolist()
    if not isinstance(X, (list, tuple)):
        raise TypeError("Expected a list of sentences (strings or token lists) or a CoNLL "
                        f"file path. Received: {type(X).__name__}")
    sentences = []
    for index, sentence in enumerate(X):
        if isinstance(sentence, str):
            sentence = [token for token, _, _ in tokenize(sentence)]
        elif isinstance(sentence, np.ndarray):
            sentence = sentence.tolist()
        if not isinstance(sentence, (list, tuple)) or not all(isinstance(t, str) for t in sentence):
            raise TypeError(
                "Each sentence must be a string or a list of string tokens. "
                f"Received: {type(sentence).__name__} at index {index}"
            )
        if any(not token or token.isspace() for token in sentence):
            raise ValueError(f"Tokens must be non-empty, non-blank strings. Received: an "
                             f"empty or blank token in sentence {index}")
        sentences.append(list(sentence))
    return sentences


def _tag_lists(y, sentences: list[list[str]]) -> list[list[str]]:
    """Tag lists checked against the sentences (same count, same lengths, valid tags)."""
    if isinstance(y, (str, bytes)):
        raise TypeError("y must be one list of tags per sentence. Received: a single string")
    y = [list(tags) if isinstance(tags, (list, tuple, np.ndarray)) else tags for tags in y]
    if len(y) != len(sentences):
        raise ValueError("X and y must have the same number of sentences. "
                         f"Received: len(X)={len(sentences)}, len(y)={len(y)}")
    for index, (tags, tokens) in enumerate(zip(y, sentences)):
        if not isinstance(tags, list):
            raise TypeError(f"Each y item must be a list of tags. Received: "
                            f"{type(tags).__name__} at index {index}")
        if not all(isinstance(tag, str) for tag in tags):
            bad = next(tag for tag in tags if not isinstance(tag, str))
            raise TypeError(f"Tags must be strings such as 'B-PER' or 'O'. Received: {bad!r} "
                            f"({type(bad).__name__}) in sentence {index}")
        if len(tags) != len(tokens):
            raise ValueError(
                f"Sentence {index} has {len(tokens)} tokens but {len(tags)} tags. "
                f"Received: tokens={tokens[:8]}, tags={tags[:8]}"
            )
        if not tokens:
            raise ValueError(f"Training sentences must not be empty. Received: an empty "
                             f"sentence at index {index}")
    detect_scheme(y)  # every tag well-formed, or a ValueError naming it
    return y
