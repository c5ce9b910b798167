"""Text vocabularies and token ids, kept as JSON state so a saved task reads raw strings."""

from __future__ import annotations

import os
from collections.abc import Mapping, Set as AbstractSet
from pathlib import Path
import unicodedata
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from toolkit.backbones.registry import serializable
from toolkit.data.checks import check_string_list

#: Token ids of padding and of out-of-vocabulary words (TextVectorization's layout).
PAD_ID, OOV_ID = 0, 1
#: Longest sequence ``max_length=None`` picks; longer texts are cut.
MAX_AUTO_LENGTH = 256


def check_texts(texts) -> np.ndarray:
    """Return ``texts`` as an object array of ``str``; reject a bare string and non-text."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            "Expected a sequence of texts; wrap a single text in a list. "
            f"Received: a single string {texts[:40]!r}"
        )
    if isinstance(texts, (Mapping, AbstractSet)) or not hasattr(texts, "__iter__"):
        raise TypeError(
            "Expected an ordered sequence of texts (list, array, Series), one prediction "
            f"per text in order. Received: {type(texts).__name__}"
        )
    array = np.asarray(list(texts), dtype=object)
    if array.ndim != 1:
        raise ValueError(f"Expected a 1-D sequence of texts. Received: shape={array.shape}")
    bad = [i for i, t in enumerate(array) if not isinstance(t, str)]
    if bad:
        raise TypeError(
            f"Every text must be a str. Received: {type(array[bad[0]]).__name__} at index "
            f"{bad[0]} ({len(bad)} non-text value(s))"
        )
    return array


class TextVectorizer:
    """Lower-cased, punctuation-split tokenisation into a frequency-ranked vocabulary.

    A thin, stateful wrapper around :class:`keras.layers.TextVectorization`; its state
    (vocabulary and settings) is plain JSON for ``task.json``.

    Parameters
    ----------
    max_tokens : int
        Vocabulary size including padding and ``[UNK]``.
    max_length : int or None
        Sequences are cut/padded to this many tokens; ``None`` picks the longest
        training text, at most ``MAX_AUTO_LENGTH`` (test texts are often longer than
        most training texts: SST-2 trains on phrases and tests on sentences).
    standardize : "unicode" or "ascii"
        ``"unicode"`` composes texts to NFC and keeps the letters of any script whole;
        ``"ascii"`` is the ASCII-only rule of vectorizers saved before it (their state
        has no ``standardize``), so their vocabularies still match the tokens.

    Examples
    --------
    >>> vectorizer = TextVectorizer(max_tokens=100).fit(["a good film", "a bad film"])
    >>> vectorizer.transform(["a good film"]).shape
    (1, 3)
    """

    def __init__(self, max_tokens: int = 20000, max_length: int | None = None,
                 standardize: str = "unicode"):
        if not isinstance(standardize, str) or standardize not in _STANDARDIZERS:
            raise ValueError(f"standardize must be one of {list(_STANDARDIZERS)}. Received: "
                             f"standardize={standardize!r}")
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.standardize = standardize
        self.vocabulary: list[str] = []
        self._lookup = None  # built from the vocabulary once, on first transform

    def fit(self, texts: np.ndarray) -> TextVectorizer:
        self._lookup = None
        layer, tensor = self._layer(vocabulary=None), self._texts(texts)
        layer.adapt(tensor)
        self.vocabulary = [str(t) for t in layer.get_vocabulary()]
        if len(self.vocabulary) <= OOV_ID + 1:
            raise ValueError("The training texts hold no words (all empty or blank). "
                             f"Received: {len(texts)} texts")
        if self.max_length is None:
            tokens = tf.strings.split(self._standardizer()(tensor))
            longest = int(tf.reduce_max(tokens.row_lengths()))
            self.max_length = max(1, min(longest, MAX_AUTO_LENGTH))
        return self

    def transform(self, texts: np.ndarray) -> np.ndarray:
        """Token ids ``(n, max_length)``, right-padded with 0; a ``UserWarning`` says how
        many texts were longer and cut."""
        if self._lookup is None:  # ragged ids: their lengths show what the cut drops
            self._lookup = self._layer(vocabulary=self.vocabulary, ragged=True)
        ids = self._lookup(self._texts(texts))
        lengths = ids.row_lengths().numpy()
        cut = int(np.count_nonzero(lengths > self.max_length))
        if cut:
            warnings.warn(f"{cut} of {len(lengths)} texts are longer than max_length="
                          f"{self.max_length} tokens (up to {int(lengths.max())}); their ends "
                          "are cut. Set max_length= to keep more.", UserWarning, stacklevel=2)
        shape = (len(lengths), self.max_length)
        return ids.to_tensor(default_value=PAD_ID, shape=shape).numpy().astype("int32")

    def _texts(self, texts) -> tf.Tensor:
        return tf.constant(_composed(texts) if self.standardize == "unicode" else list(texts))

    def _standardizer(self):
        return _STANDARDIZERS[self.standardize]

    def _layer(self, vocabulary, ragged: bool = False):
        return keras.layers.TextVectorization(
            max_tokens=self.max_tokens,
            standardize=self._standardizer(),
            vocabulary=vocabulary,
            ragged=ragged,
        )

    def get_state(self) -> dict:
        return {"max_tokens": self.max_tokens, "max_length": self.max_length,
                "standardize": self.standardize, "vocabulary": self.vocabulary}

    @classmethod
    def from_state(cls, state: dict) -> TextVectorizer:
        # States saved before "standardize" existed were tokenized by the ASCII rule.
        vectorizer = cls(state["max_tokens"], state["max_length"],
                         state.get("standardize", "ascii"))
        vectorizer.vocabulary = check_string_list(state["vocabulary"], "vocabulary")
        return vectorizer


@serializable
class TokenDropout(keras.layers.Layer):
    """Replace random tokens by ``[UNK]`` while training (word dropout).

    When the training vocabulary fits in ``max_tokens`` every training token is known,
    so the ``[UNK]`` embedding is never trained, yet new text has unseen words (4.6% of
    SST-2 test tokens). Dropping words to ``[UNK]`` teaches the model what an unknown
    word means and regularises like dropout. Padding stays padding; inference is
    unchanged.

    Parameters
    ----------
    rate : float
        Share of tokens replaced during training.
    """

    def __init__(self, rate: float = 0.1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, token_ids, training=False):
        if not training or self.rate == 0:
            return token_ids
        keep = keras.random.uniform(ops.shape(token_ids), seed=self.seed_generator) >= self.rate
        keep = ops.logical_or(keep, ops.equal(token_ids, PAD_ID))
        return ops.where(keep, token_ids, ops.cast(OOV_ID, token_ids.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def _standardize(texts):
    """Lower-case (Unicode, not only ASCII) and set punctuation apart as tokens ("!" and
    "?" carry sentiment) instead of deleting it. Letters, digits and combining marks of
    any script stay in their word: RE2's ``\\w`` is ASCII-only, and split "café" in two.
    """
    texts = tf.strings.regex_replace(tf.strings.lower(texts, encoding="utf-8"), r"\p{Z}", " ")
    return tf.strings.regex_replace(texts, r"([^\p{L}\p{N}\p{M}_\s])", r" \1 ")


def _standardize_ascii(texts):
    """The rule before :func:`_standardize`: ASCII-only lower-casing and word characters,
    kept for vectorizers saved with it."""
    return tf.strings.regex_replace(tf.strings.lower(texts), r"([^\w\s])", r" \1 ")


def _composed(texts) -> list[str]:
    """``texts`` in Unicode NFC, so "é" typed as e + accent is the word "é" too."""
    return [unicodedata.normalize("NFC", text) for text in texts]


_STANDARDIZERS = {"unicode": _standardize, "ascii": _standardize_ascii}


def load_word_vectors(path: str | Path, vocabulary: list[str], dim: int) -> tuple[np.ndarray, int]:
    """Read GloVe-format vectors (``word v1 ... vd`` per line) for ``vocabulary``.

    Returns
    -------
    (matrix, found)
        ``(len(vocabulary), dim)`` float32 matrix (rows of words not in the file are
        small random vectors, row 0 is zero) and how many words were found.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError("embeddings must be the path of a GloVe-format text file, or None. "
                        f"Received: embeddings={path!r}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Embeddings file not found. Received: embeddings={str(path)!r}")
    index = {word: i for i, word in enumerate(vocabulary)}
    rng = np.random.default_rng(0)
    matrix = rng.normal(0, 0.1, (len(vocabulary), dim)).astype("float32")
    matrix[0] = 0
    found = 0
    # Published GloVe files hold a few bytes that are not UTF-8; such words are kept
    # (with a replacement character) rather than failing the whole file.
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            word, *values = line.rstrip().split(" ")
            if len(values) != dim:
                raise ValueError(
                    f"Embeddings file rows must have a word and {dim} numbers "
                    f"(embedding_dim). Received: {len(values)} numbers on line {line_number} "
                    f"of {str(path)!r}"
                )
            if word in index:
                try:
                    vector = np.asarray(values, dtype="float32")
                except ValueError:
                    vector = np.full(dim, np.nan, dtype="float32")
                if not np.isfinite(vector).all():
                    raise ValueError(f"Embeddings file rows must hold {dim} finite numbers after "
                                     f"the word. Received: {line.strip()[:80]!r} on line "
                                     f"{line_number} of {str(path)!r}")
                matrix[index[word]] = vector
                found += 1
    return matrix, found
