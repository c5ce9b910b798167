"""Token-tagging heads: per-token softmax, or a linear-chain CRF (Lample et al., 2016).

The CRF is written with ``keras.ops`` only, so it runs on every backend:

- :func:`crf_log_likelihood` -- the forward algorithm (training loss);
- :func:`viterbi_decode` -- the best tag sequence;
- :func:`crf_marginals` -- forward-backward per-token tag probabilities (confidences);
- :func:`decode_crf` -- both at prediction time, on NumPy, as TensorFlow graphs traced
  once per process (run eagerly, the scans dispatch each step's ops one by one).

A :class:`CRF` layer owns the transition scores and, so that the loss stays a plain
serializable function of ``(y_true, y_pred)``, returns the emissions with its
parameters appended along the time axis: ``(batch, steps + tags + 2, tags)`` holding
the emissions, the ``tags x tags`` transitions, the start row and the end row.
:func:`split_crf_output` takes them apart. Padded positions carry target ``-1``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from toolkit.backbones.registry import serializable

TAGGING_HEADS = ("crf", "softmax")
#: Target value of padded positions (ignored by both losses).
PAD_TAG = -1


def tagging_head(features, num_tags: int, *, head: str = "crf", dropout: float = 0.0):
    """Per-token tag scores on ``features`` ``(batch, steps, width)``.

    Returns probabilities ``(batch, steps, num_tags)`` for ``"softmax"`` and the packed
    CRF output (see the module docstring) for ``"crf"``.
    """
    if head not in TAGGING_HEADS:
        raise ValueError(f"head must be one of {TAGGING_HEADS}. Received: head={head!r}")
    x = keras.layers.Dropout(dropout, name="head_dropout")(features)
    if head == "softmax":
        return keras.layers.Dense(num_tags, activation="softmax", name="tag_probabilities",
                                  dtype="float32")(x)
    emissions = keras.layers.Dense(num_tags, name="emissions", dtype="float32")(x)
    return CRF(num_tags, name="crf", dtype="float32")(emissions)


def tagging_loss(head: str):
    """The training loss of ``head``; both ignore targets equal to ``PAD_TAG``."""
    if head == "crf":
        return crf_loss
    return keras.losses.SparseCategoricalCrossentropy(ignore_class=PAD_TAG)


@serializable
class CRF(keras.layers.Layer):
    """Linear-chain CRF parameters: transitions ``[i, j]`` (tag i then j), start and end.

    The loss runs the forward algorithm as a loop over a batch's (variable) length,
    which XLA cannot compile (TensorFlow 2.21: ``tf2xla conversion failed`` on the
    loop's gradient accumulators). The layer says so (``supports_jit = False``), so
    Keras's ``jit_compile="auto"`` leaves XLA off on GPUs too, and ``jit_compile=True``
    falls back to ``False`` with Keras's warning.

    Parameters
    ----------
    num_tags : int
        Number of tags.
    """

    def __init__(self, num_tags: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tags = num_tags
        self.supports_jit = False

    def build(self, input_shape):
        init = keras.initializers.RandomUniform(-0.1, 0.1)
        self.transitions = self.add_weight((self.num_tags, self.num_tags), init, name="transitions")
        self.start = self.add_weight((self.num_tags,), init, name="start")
        self.end = self.add_weight((self.num_tags,), init, name="end")

    def call(self, emissions, mask=None):
        batch = ops.shape(emissions)[0]
        parameters = ops.concatenate(
            [self.transitions, self.start[None], self.end[None]], axis=0
        )
        parameters = ops.broadcast_to(
            ops.cast(parameters, emissions.dtype)[None], (batch, self.num_tags + 2, self.num_tags)
        )
        return ops.concatenate([emissions, parameters], axis=1)

    def compute_mask(self, inputs, mask=None):
        return None  # the packed output is not a per-step sequence

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] + self.num_tags + 2
        return (input_shape[0], steps, self.num_tags)

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}


def split_crf_output(packed):
    """``(emissions, transitions, start, end)`` from a :class:`CRF` layer's output."""
    tags = ops.shape(packed)[-1]
    steps = ops.shape(packed)[1] - tags - 2
    emissions = packed[:, :steps]
    return emissions, packed[0, steps:steps + tags], packed[0, steps + tags], packed[0, -1]


@serializable
def crf_loss(y_true, y_pred):
    """Mean negative log-likelihood of the gold tags ``y_true`` (``-1`` = padding)."""
    emissions, transitions, start, end = split_crf_output(ops.cast(y_pred, "float32"))
    y_true = ops.cast(y_true, "int32")
    mask = ops.greater_equal(y_true, 0)
    return -crf_log_likelihood(emissions, ops.maximum(y_true, 0), mask, transitions, start, end)


def crf_log_likelihood(emissions, tags, mask, transitions, start, end):
    """Log-probability of ``tags`` ``(batch, steps)`` under the CRF, per sequence.

    ``mask`` marks real tokens; sequences are right-padded and at least one token long.
    """
    return _sequence_score(emissions, tags, mask, transitions, start, end) - crf_log_partition(
        emissions, mask, transitions, start, end
    )


def _sequence_score(emissions, tags, mask, transitions, start, end):
    num_tags = ops.shape(emissions)[-1]
    weights = ops.cast(mask, emissions.dtype)
    emitted = ops.take_along_axis(emissions, tags[..., None], axis=2)[..., 0]
    pair_ids = tags[:, :-1] * num_tags + tags[:, 1:]
    moved = ops.take(ops.reshape(transitions, (-1,)), pair_ids)
    last = ops.maximum(ops.sum(ops.cast(mask, "int32"), axis=1) - 1, 0)
    last_tags = ops.take_along_axis(tags, last[:, None], axis=1)[:, 0]
    return (ops.sum(emitted * weights, axis=1) + ops.sum(moved * weights[:, 1:], axis=1)
            + ops.take(start, tags[:, 0]) + ops.take(end, last_tags))


def _time_major(emissions, mask):
    """Steps 1.. of emissions with the mask as one extra channel, time first.

    One tensor rather than two: Keras's TensorFlow ``scan`` fails on several inputs
    whose time length is unknown while tracing. :func:`_unpack` splits a step.
    """
    stacked = ops.concatenate([emissions, ops.cast(mask, emissions.dtype)[..., None]], axis=-1)
    return ops.moveaxis(stacked[:, 1:], 1, 0)


def _unpack(step_inputs):
    return step_inputs[:, :-1], step_inputs[:, -1] > 0.5


def _forward(emissions, mask, transitions, start):
    """Forward log-scores ``alpha`` of every step, ``(steps, batch, tags)``."""

    def step(alpha, inputs):
        emission, valid = _unpack(inputs)
        scores = alpha[:, :, None] + transitions[None] + emission[:, None, :]
        alpha = ops.where(valid[:, None], ops.logsumexp(scores, axis=1), alpha)
        return alpha, alpha

    first = start[None] + emissions[:, 0]
    _, rest = ops.scan(step, first, _time_major(emissions, mask))
    return ops.concatenate([first[None], rest], axis=0)


def crf_log_partition(emissions, mask, transitions, start, end):
    """Log of the sum of scores over all tag sequences (the forward algorithm)."""
    alphas = _forward(emissions, mask, transitions, start)
    return ops.logsumexp(alphas[-1] + end[None], axis=1)


def crf_marginals(emissions, mask, transitions, start, end):
    """Probability of each tag at each step, ``(batch, steps, tags)`` (forward-backward)."""
    alphas = _forward(emissions, mask, transitions, start)

    def step(beta, inputs):  # beta of step t+1 -> beta of step t
        emission, is_valid = _unpack(inputs)
        scores = transitions[None] + (emission + beta)[:, None, :]
        beta = ops.where(is_valid[:, None], ops.logsumexp(scores, axis=2), end[None])
        return beta, beta

    last = ops.broadcast_to(end[None], ops.shape(emissions[:, 0]))
    _, betas = ops.scan(step, last, _time_major(emissions, mask), reverse=True)
    betas = ops.concatenate([betas, last[None]], axis=0)
    log_z = ops.logsumexp(alphas[-1] + end[None], axis=1)
    marginals = ops.exp(alphas + betas - log_z[None, :, None])
    return ops.moveaxis(marginals, 0, 1)


def viterbi_decode(emissions, mask, transitions, start, end):
    """The highest-scoring tag sequence, ``(batch, steps)`` int, and its score.

    Tags past a sequence's end repeat its last tag; callers cut them by length.
    """
    num_tags = ops.shape(emissions)[-1]
    identity = ops.cast(ops.arange(num_tags)[None], emissions.dtype)

    # Back-pointers travel as floats: TensorFlow's scan gives its outputs the carry's
    # dtype. Tag ids are small integers, so they are exact.
    def step(score, inputs):
        emission, valid = _unpack(inputs)
        candidates = score[:, :, None] + transitions[None]
        best = ops.max(candidates, axis=1) + emission
        pointers = ops.cast(ops.argmax(candidates, axis=1), emissions.dtype)
        return (ops.where(valid[:, None], best, score),
                ops.where(valid[:, None], pointers, identity))

    score, pointers = ops.scan(step, start[None] + emissions[:, 0],
                               _time_major(emissions, mask))
    pointers = ops.cast(pointers, "int32")
    score = score + end[None]
    last = ops.cast(ops.argmax(score, axis=1), "int32")

    def back(tag, step_pointers):
        previous = ops.take_along_axis(step_pointers, tag[:, None], axis=1)[:, 0]
        return previous, tag

    first, rest = ops.scan(back, last, pointers, reverse=True)
    tags = ops.concatenate([first[None], rest], axis=0)
    return ops.moveaxis(tags, 0, 1), ops.max(score, axis=1)


_SIGNATURE = [tf.TensorSpec((None, None, None), "float32"), tf.TensorSpec((None, None), "bool"),
              tf.TensorSpec((None, None), "float32"), tf.TensorSpec((None,), "float32"),
              tf.TensorSpec((None,), "float32")]
_compiled_viterbi = tf.function(viterbi_decode, input_signature=_SIGNATURE)
_compiled_marginals = tf.function(crf_marginals, input_signature=_SIGNATURE)


def decode_crf(packed, lengths, *, marginals: bool = False):
    """Best tag ids ``(batch, steps)`` of a :class:`CRF` layer's output and, with
    ``marginals``, each tag's probability ``(batch, steps, tags)`` (else ``None``).

    ``lengths`` are the sequences' token counts; steps past them are to be cut by the
    caller. Every dimension is free, so one trace serves all batch shapes.

    Examples
    --------
    >>> packed = np.zeros((1, 2 + 3 + 2, 3), "float32")  # 2 steps, 3 tags
    >>> packed[0, :2, 2] = 5.0                             # emissions favour tag 2
    >>> decode_crf(packed, [2])[0].tolist()
    [[2, 2]]
    """
    emissions, *parameters = [np.asarray(part, "float32") for part in split_crf_output(packed)]
    if emissions.shape[1] == 1:  # a graph's scan cannot stack the outputs of zero steps
        emissions = np.pad(emissions, [(0, 0), (0, 1), (0, 0)])
    mask = np.arange(emissions.shape[1])[None] < np.asarray(lengths)[:, None]
    ids = _compiled_viterbi(emissions, mask, *parameters)[0].numpy()
    if not marginals:
        return ids, None
    return ids, _compiled_marginals(emissions, mask, *parameters).numpy()
