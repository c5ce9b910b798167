"""The CRF against brute-force enumeration of every tag sequence, on tiny inputs."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
from keras import ops

import toolkit.heads.tagging as tagging
from toolkit.heads.tagging import (
    CRF,
    crf_log_likelihood,
    crf_loss,
    crf_marginals,
    decode_crf,
    split_crf_output,
    tagging_head,
    viterbi_decode,
)

TAGS, STEPS = 3, 4


@pytest.fixture
def crf_inputs():
    rng = np.random.default_rng(0)
    emissions = rng.normal(size=(2, STEPS, TAGS)).astype("float32")
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=bool)  # second sequence: 2 tokens
    transitions = rng.normal(size=(TAGS, TAGS)).astype("float32")
    start = rng.normal(size=TAGS).astype("float32")
    end = rng.normal(size=TAGS).astype("float32")
    return emissions, mask, transitions, start, end


def _score(path, emissions, transitions, start, end):
    total = start[path[0]] + end[path[-1]] + sum(emissions[t, tag] for t, tag in enumerate(path))
    return total + sum(transitions[a, b] for a, b in zip(path, path[1:]))


def _brute_force(emissions, length, transitions, start, end):
    """Scores of all TAGS**length paths of one sequence."""
    paths = list(itertools.product(range(TAGS), repeat=length))
    return paths, np.array([_score(p, emissions[:length], transitions, start, end) for p in paths])


def test_log_likelihood_matches_brute_force(crf_inputs):
    emissions, mask, transitions, start, end = crf_inputs
    tags = np.array([[0, 2, 1, 1], [2, 0, 0, 0]], dtype="int32")
    result = ops.convert_to_numpy(crf_log_likelihood(emissions, tags, mask, transitions, start, end))
    for i in range(2):
        length = int(mask[i].sum())
        _, scores = _brute_force(emissions[i], length, transitions, start, end)
        log_z = np.log(np.exp(scores).sum())
        gold = _score(tags[i, :length], emissions[i], transitions, start, end)
        np.testing.assert_allclose(result[i], gold - log_z, rtol=1e-5, atol=1e-5)


def test_viterbi_finds_the_best_path(crf_inputs):
    emissions, mask, transitions, start, end = crf_inputs
    tags, best = viterbi_decode(emissions, mask, transitions, start, end)
    tags, best = ops.convert_to_numpy(tags), ops.convert_to_numpy(best)
    for i in range(2):
        length = int(mask[i].sum())
        paths, scores = _brute_force(emissions[i], length, transitions, start, end)
        assert tuple(tags[i, :length]) == paths[int(np.argmax(scores))]
        np.testing.assert_allclose(best[i], scores.max(), rtol=1e-5)


def test_marginals_match_brute_force(crf_inputs):
    emissions, mask, transitions, start, end = crf_inputs
    marginals = ops.convert_to_numpy(crf_marginals(emissions, mask, transitions, start, end))
    for i in range(2):
        length = int(mask[i].sum())
        paths, scores = _brute_force(emissions[i], length, transitions, start, end)
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        expected = np.zeros((length, TAGS))
        for path, p in zip(paths, probabilities):
            expected[np.arange(length), path] += p
        np.testing.assert_allclose(marginals[i, :length], expected, atol=1e-5)


def test_single_token_sequences(crf_inputs):
    emissions, _, transitions, start, end = crf_inputs
    one = emissions[:, :1]
    tags, _ = viterbi_decode(one, np.ones((2, 1), bool), transitions, start, end)
    expected = np.argmax(one[:, 0] + start + end, axis=1)
    np.testing.assert_array_equal(ops.convert_to_numpy(tags)[:, 0], expected)


def test_crf_layer_packs_parameters_and_loss_ignores_padding(crf_inputs):
    emissions, mask, *_ = crf_inputs
    layer = CRF(TAGS)
    packed = layer(emissions)
    assert tuple(packed.shape) == (2, STEPS + TAGS + 2, TAGS)
    got_emissions, transitions, start, end = split_crf_output(packed)
    np.testing.assert_allclose(ops.convert_to_numpy(got_emissions), emissions)
    np.testing.assert_allclose(ops.convert_to_numpy(transitions),
                               ops.convert_to_numpy(layer.transitions))
    targets = np.where(mask, 1, -1)
    loss = ops.convert_to_numpy(crf_loss(targets, packed))
    changed_emissions = emissions.copy()
    changed_emissions[1, 2:] += 5.0  # padding of the second sequence
    loss_changed = ops.convert_to_numpy(crf_loss(targets, layer(changed_emissions)))
    np.testing.assert_allclose(loss, loss_changed, rtol=1e-6)


def test_unknown_head_is_named():
    with pytest.raises(ValueError, match="head must be one of"):
        tagging_head(keras.Input((None, 4)), 3, head="mlp")


def test_decode_crf_matches_the_eager_functions_at_any_shape_with_one_trace():
    rng = np.random.default_rng(1)
    for batch, steps, num_tags in [(3, 5, 4), (7, 11, 9), (2, 1, 2)]:
        emissions = rng.normal(size=(batch, steps, num_tags)).astype("float32")
        lengths = rng.integers(1, steps + 1, size=batch)
        mask = np.arange(steps)[None] < lengths[:, None]
        crf = [rng.normal(size=shape).astype("float32")
               for shape in [(num_tags, num_tags), (num_tags,), (num_tags,)]]
        packed = np.concatenate([emissions, np.broadcast_to(
            np.concatenate([crf[0], crf[1][None], crf[2][None]])[None], (batch, num_tags + 2, num_tags))],
            axis=1)
        ids, marginals = decode_crf(packed, lengths, marginals=True)
        if steps == 1:  # padded by one masked step for the graph's scan: cut it
            ids, marginals = ids[:, :1], marginals[:, :1]
        np.testing.assert_array_equal(ids, np.asarray(viterbi_decode(emissions, mask, *crf)[0]))
        np.testing.assert_allclose(marginals, np.asarray(crf_marginals(emissions, mask, *crf)),
                                   atol=1e-5)
        assert decode_crf(packed, lengths)[1] is None
    assert tagging._compiled_viterbi.experimental_get_tracing_count() == 1
