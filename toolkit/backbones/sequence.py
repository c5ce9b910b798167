"""Sequence backbones: token ids ``(batch, steps)`` -> features.

Every builder has the signature
``builder(input_shape, vocabulary_size, embedding_dim=128, units=64 (100 for cnn), dropout=0.25,
return_sequences=False, token_features=0) -> keras.Model``. With
``return_sequences=False`` the model pools to one vector per sequence (classification);
with ``True`` it returns per-token features ``(batch, steps, features)`` (tagging).
With ``token_features > 0`` the model takes ``[token_ids, features]`` and
concatenates the ``(batch, steps, token_features)`` features (character vectors, a
casing feature) to the word embeddings. Id 0 is padding and is masked throughout. The
word embedding layer is always named ``"embedding"`` so pretrained vectors can be
loaded into it.
"""

from __future__ import annotations

import keras

from toolkit.backbones.layers import (
    AttentionPooling,
    HighwayGate,
    MaskedConcatenate,
    MaskedGlobalPooling,
)
from toolkit.backbones.registry import register_backbone

KIM_WIDTHS = (3, 4, 5)


def _embed(input_shape, vocabulary_size, embedding_dim, dropout, token_features, mask=True):
    """The backbone's inputs and the embedded (and feature-extended) token sequence."""
    token_ids = keras.Input(shape=input_shape, dtype="int32", name="token_ids")
    embedded = keras.layers.Embedding(
        vocabulary_size, embedding_dim, mask_zero=mask, name="embedding"
    )(token_ids)
    # Dropping whole embedding channels regularises better than per-element dropout.
    embedded = keras.layers.SpatialDropout1D(dropout, name="embedding_dropout")(embedded)
    if not token_features:
        return token_ids, embedded
    features = keras.Input(shape=(*input_shape, token_features), name="token_features")
    combined = MaskedConcatenate(name="embedding_and_features")([embedded, features])
    return [token_ids, features], combined


def _rnn(cell: str, units: int, name: str, return_sequences: bool = True):
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    return layer(units, return_sequences=return_sequences, name=name)


def _recurrent_backbone(name, cell, bidirectional, input_shape, vocabulary_size,
                        embedding_dim, units, dropout, return_sequences, token_features):
    inputs, x = _embed(input_shape, vocabulary_size, embedding_dim, dropout, token_features)
    rnn = _rnn(cell, units, name=cell)
    x = keras.layers.Bidirectional(rnn, name=f"bi{cell}")(x) if bidirectional else rnn(x)
    if not return_sequences:
        x = MaskedGlobalPooling("maxmean", name="pooling")(x)
    return keras.Model(inputs, x, name=name)


def _register_recurrent(name: str, cell: str, bidirectional: bool, description: str):
    @register_backbone(name, kind="sequence", recurrent=True, description=description)
    def build(input_shape=(None,), vocabulary_size=20000, embedding_dim=128, units=64,
              dropout=0.25, return_sequences=False, token_features=0):
        return _recurrent_backbone(name, cell, bidirectional, input_shape, vocabulary_size,
                                   embedding_dim, units, dropout, return_sequences,
                                   token_features)

    build.__name__ = f"build_{name}"
    build.__doc__ = f"{description}; see the module docstring for the arguments."
    return build


build_lstm = _register_recurrent("lstm", "lstm", False, "LSTM over word embeddings, max+mean pooled")
build_gru = _register_recurrent("gru", "gru", False, "GRU over word embeddings, max+mean pooled")
build_bilstm = _register_recurrent("bilstm", "lstm", True,
                                   "bidirectional LSTM over word embeddings, max+mean pooled")
build_bigru = _register_recurrent("bigru", "gru", True,
                                  "bidirectional GRU over word embeddings, max+mean pooled")


@register_backbone("attention", kind="sequence", recurrent=True,
                   description="bidirectional LSTM with additive attention pooling")
def build_attention(input_shape=(None,), vocabulary_size=20000, embedding_dim=128, units=64,
                    dropout=0.25, return_sequences=False, token_features=0):
    """Bidirectional LSTM whose outputs are pooled by learned additive attention."""
    inputs, x = _embed(input_shape, vocabulary_size, embedding_dim, dropout, token_features)
    x = keras.layers.Bidirectional(_rnn("lstm", units, "lstm"), name="bilstm")(x)
    if not return_sequences:
        x = AttentionPooling(units, name="attention_pooling")(x)
    return keras.Model(inputs, x, name="attention")


@register_backbone("highway", kind="sequence", recurrent=True,
                   description="stacked bidirectional LSTMs joined by highway gates")
def build_highway(input_shape=(None,), vocabulary_size=20000, embedding_dim=128, units=64,
                  dropout=0.25, return_sequences=False, token_features=0, depth=2):
    """``depth`` bidirectional LSTM layers with highway gates between them."""
    inputs, x = _embed(input_shape, vocabulary_size, embedding_dim, dropout, token_features)
    x = keras.layers.Bidirectional(_rnn("lstm", units, "lstm_1"), name="bilstm_1")(x)
    for level in range(2, depth + 1):
        transformed = keras.layers.Bidirectional(
            _rnn("lstm", units, f"lstm_{level}"), name=f"bilstm_{level}"
        )(x)
        x = HighwayGate(name=f"highway_{level}")([x, transformed])
    if not return_sequences:
        x = MaskedGlobalPooling("maxmean", name="pooling")(x)
    return keras.Model(inputs, x, name="highway")


@register_backbone("cnn", kind="sequence",
                   description="Kim (2014) multi-width convolutions, max-over-time pooled")
def build_text_cnn(input_shape=(None,), vocabulary_size=20000, embedding_dim=128, units=100,
                   dropout=0.25, return_sequences=False, token_features=0):
    """Parallel 1-D convolutions of widths 3, 4 and 5 with ``units`` filters each.

    Convolutions ignore masks: padding (id 0) is embedded by a learned row like any
    token. Texts padded to a fixed width (sentiment) always see the same padding; per
    token (``return_sequences``), the scores near a sentence's end move slightly with
    the padding a batch's longest sentence adds.
    """
    inputs, x = _embed(input_shape, vocabulary_size, embedding_dim, dropout, token_features,
                       mask=False)
    branches = []
    for width in KIM_WIDTHS:
        branch = keras.layers.Conv1D(units, width, padding="same", activation="relu",
                                     name=f"conv_{width}")(x)
        if not return_sequences:
            branch = keras.layers.GlobalMaxPooling1D(name=f"max_pool_{width}")(branch)
        branches.append(branch)
    x = keras.layers.Concatenate(name="concat")(branches)
    return keras.Model(inputs, x, name="cnn")
