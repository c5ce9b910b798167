"""CTC head, loss and decoding (Graves et al., 2006) on ``keras.ops``.

Index 0 is the CTC blank; token ``i`` of a vocabulary is class ``i + 1``. Targets are
right-padded with 0, so a target's length is its count of non-zero entries.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from toolkit.backbones.registry import serializable

BLANK = 0
DECODERS = ("greedy", "beam")


def ctc_head(features, vocabulary_size: int, *, dropout: float = 0.2):
    """Per-frame log-probabilities ``(batch, frames, vocabulary_size + 1)``, blank first.

    The log-softmax runs in float32 so mixed precision stays safe.
    """
    x = keras.layers.Dropout(dropout, name="head_dropout")(features)
    logits = keras.layers.Dense(vocabulary_size + 1, dtype="float32", name="ctc_logits")(x)
    return keras.layers.Activation("log_softmax", dtype="float32", name="log_probabilities")(logits)


@serializable
class CTCLoss(keras.losses.Loss):
    """``keras.ops.ctc_loss`` averaged over the batch.

    ``y_true`` is ``(batch, max_label_length)`` with labels ``1..V`` right-padded by 0;
    ``y_pred`` holds per-frame logits or log-probabilities, every frame counted (padded
    audio is silence, which the model learns to call blank).
    """

    def __init__(self, name: str = "ctc_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        target_length = ops.sum(ops.cast(y_true != BLANK, "int32"), axis=-1)
        shape = ops.shape(y_pred)
        output_length = ops.full((shape[0],), shape[1], dtype="int32")
        return ops.ctc_loss(y_true, ops.cast(y_pred, "float32"), target_length, output_length,
                            mask_index=BLANK)


def ctc_decode(log_probabilities, *, decoder: str = "greedy", beam_width: int = 16,
               lengths=None) -> list[list[int]]:
    """Decode per-frame scores into label sequences (blank removed, repeats merged).

    Parameters
    ----------
    log_probabilities : array ``(batch, frames, classes)``
        Logits or log-probabilities, blank at index 0.
    decoder : "greedy" or "beam"
        Best path, or ``keras.ops.ctc_decode``'s beam search.
    beam_width : int
        Beams kept by the beam search.
    lengths : array of int, optional
        Frames to decode per row (default: all).

    Returns
    -------
    list of list of int
        Class indices (1..V) per row.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.log(np.array([[[.1, .9, 0], [.1, .9, 0], [.9, .1, 0], [.1, 0, .9]]]) + 1e-9)
    >>> ctc_decode(frames)
    [[1, 2]]
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}. Received: decoder={decoder!r}")
    scores = np.asarray(log_probabilities, dtype="float32")
    if lengths is None:
        lengths = np.full(len(scores), scores.shape[1], dtype="int32")
    if len(scores) == 0:
        return []
    decoded, _ = ops.ctc_decode(
        scores, np.asarray(lengths, dtype="int32"),
        strategy="greedy" if decoder == "greedy" else "beam_search",
        beam_width=int(beam_width), top_paths=1, mask_index=BLANK,
    )
    best = ops.convert_to_numpy(decoded)[0]
    return [[int(i) for i in row if i > BLANK] for row in best]


__all__ = ["BLANK", "CTCLoss", "DECODERS", "ctc_decode", "ctc_head"]
