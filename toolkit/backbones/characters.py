"""Character-level word features: a CNN over each token's characters (Ma & Hovy, 2016)."""

from __future__ import annotations

import keras
from keras import ops

from toolkit.backbones.registry import serializable


@serializable
class CharacterCNN(keras.layers.Layer):
    """Character ids ``(batch, steps, chars)`` -> one vector per token ``(batch, steps, filters)``.

    Characters are embedded, convolved (width ``kernel_size``) and max-pooled over the
    token's real characters (id 0 is padding, seen as zeros); padding tokens get zero
    vectors.

    Parameters
    ----------
    vocabulary_size : int
        Number of character ids.
    embedding_dim : int
        Character-vector width.
    filters : int
        Output width.
    kernel_size : int
        Convolution width in characters.
    dropout : float
        Dropout on the character embeddings while training.
    """

    def __init__(self, vocabulary_size: int, embedding_dim: int = 30, filters: int = 50,
                 kernel_size: int = 3, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.filters = filters
        self.kernel_size = kernel_size
        self.dropout = dropout
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim,
                                                name="char_embedding")
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.convolution = keras.layers.Conv1D(filters, kernel_size, padding="same",
                                               activation="tanh", name="char_conv")

    def build(self, input_shape):
        self.embedding.build(input_shape)
        self.convolution.build((None, input_shape[-1], self.embedding_dim))

    def call(self, char_ids, training=False):
        shape = ops.shape(char_ids)
        flat = ops.reshape(char_ids, (-1, shape[2]))
        real = ops.not_equal(flat, 0)[..., None]
        x = self.embedding_dropout(self.embedding(flat), training=training)
        # Padding characters become zeros, exactly what the convolution's own "same"
        # padding adds, so a token's vector does not depend on how wide the batch is.
        x = self.convolution(x * ops.cast(real, x.dtype))
        pooled = ops.max(ops.where(real, x, ops.cast(-1e4, x.dtype)), axis=1)
        pooled = ops.where(ops.any(real, axis=1), pooled, ops.zeros_like(pooled))
        return ops.reshape(pooled, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.filters)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim, "filters": self.filters,
                "kernel_size": self.kernel_size, "dropout": self.dropout}
