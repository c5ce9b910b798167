"""CTC decoding of hand-built score matrices and the CTC loss against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from toolkit.heads.ctc import CTCLoss, ctc_decode

EPS = 1e-6


def _log(rows):
    return np.log(np.asarray(rows, dtype="float32") + EPS)[None]


def test_greedy_decode_merges_repeats_and_drops_blanks():
    # classes: 0 blank, 1 "a", 2 "b". Best path: a a _ a b b _ -> "a a b"
    path = [1, 1, 0, 1, 2, 2, 0]
    scores = np.full((7, 3), 0.05)
    scores[np.arange(7), path] = 0.9
    assert ctc_decode(_log(scores)) == [[1, 1, 2]]
    assert ctc_decode(_log(scores), decoder="beam", beam_width=4) == [[1, 1, 2]]


def test_beam_finds_the_most_probable_labelling_greedy_misses():
    # Frame-wise best path is "_ _" (empty), but "a" has more total probability:
    # P(empty) = .4 * .4 = .16; P(a) = .3*.3 + .3*.4 + .4*.3 + .3*.3(merged aa) = .42
    scores = [[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]]
    assert ctc_decode(_log(scores)) == [[]]
    assert ctc_decode(_log(scores), decoder="beam", beam_width=8)[0] in ([1], [2])


def test_decode_respects_lengths_and_rejects_unknown_decoder():
    scores = np.full((2, 4, 3), 0.05)
    scores[:, :, 1] = 0.9
    scores[1, 2:, 2] = 0.95
    assert ctc_decode(np.log(scores), lengths=[4, 2]) == [[1], [1]]
    with pytest.raises(ValueError, match="decoder"):
        ctc_decode(np.log(scores), decoder="viterbi")


def test_ctc_loss_equals_brute_force_sum_over_alignments():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((1, 4, 3)).astype("float32")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    target = [1, 2]
    total = 0.0
    for path in itertools.product(range(3), repeat=4):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
        if collapsed == target:
            total += np.exp(sum(log_probs[0, t, c] for t, c in enumerate(path)))
    y_true = np.array([[1, 2, 0]], dtype="int32")   # padded with 0
    loss = float(CTCLoss()(y_true, log_probs))
    assert loss == pytest.approx(-np.log(total), rel=1e-4)
