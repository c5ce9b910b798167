"""Length-bucketed batches: exact batch count, cut to the longest, nothing lost."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data.pipeline import make_dataset


def test_bucketed_batches_are_cut_counted_and_complete():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=203)
    tokens = np.zeros((203, 40), dtype="int32")
    for row, length in enumerate(lengths):
        tokens[row, :length] = row + 1  # every row marked by its own id
    targets = np.where(tokens > 0, 1, -1)
    dataset = make_dataset({"ids": tokens}, targets, batch_size=16, shuffle=True, seed=0,
                           lengths=lengths)
    batches = list(dataset)
    assert int(dataset.cardinality()) == len(batches)  # the schedule relies on it
    seen = []
    for inputs, batch_targets in batches:
        ids = inputs["ids"].numpy()
        assert ids.shape[1] == lengths[ids[:, 0] - 1].max()  # cut to the longest
        assert batch_targets.shape == ids.shape
        seen.extend(ids[:, 0].tolist())
    assert sorted(seen) == list(range(1, 204))
    padded_share = np.mean([(b[0]["ids"].numpy() == 0).mean() for b in batches])
    assert padded_share < 0.25  # similar lengths share batches


def test_batches_smaller_than_min_batch_are_dropped_and_counted():
    plain = make_dataset(np.arange(29), np.arange(29), batch_size=7, shuffle=True, seed=0,
                         min_batch=2)
    assert [len(x) for x, _ in plain] == [7, 7, 7, 7] and int(plain.cardinality()) == 4
    kept = make_dataset(np.arange(30), np.arange(30), batch_size=7, min_batch=2)
    assert [len(x) for x, _ in kept] == [7, 7, 7, 7, 2]
    # Under several replicas, lengths are not bucketed: each bucket's short last batch
    # would be dropped too (all 20 of these examples, one per bucket of 2).
    lengths = np.arange(1, 21)
    cut = make_dataset(np.ones((20, 20)), np.arange(20), batch_size=8, shuffle=True,
                       seed=0, lengths=lengths, min_batch=4)
    assert [len(y) for _, y in cut] == [8, 8, 4] and int(cut.cardinality()) == 3


def test_unshuffled_batches_keep_order():
    lengths = np.array([3, 1, 2])
    tokens = np.array([[1, 1, 1], [2, 0, 0], [3, 3, 0]])
    (batch,) = list(make_dataset(tokens, batch_size=4, lengths=lengths))
    np.testing.assert_array_equal(batch.numpy(), tokens)


def test_cuts_round_up_to_a_multiple_within_the_width():
    lengths = np.array([3, 9, 17, 20, 2, 5])
    tokens = np.zeros((6, 20), dtype="int32")
    for row, length in enumerate(lengths):
        tokens[row, :length] = row + 1
    widths = {}
    for batch in make_dataset(tokens, batch_size=2, lengths=lengths, length_multiple=8):
        ids = batch.numpy()
        widths[tuple(ids[:, 0])] = ids.shape[1]
        assert (ids.sum(axis=1) == tokens[ids[:, 0] - 1].sum(axis=1)).all()  # nothing cut off
    assert widths == {(1, 2): 16, (3, 4): 20, (5, 6): 8}  # 9 -> 16; 20 is the width
    with pytest.raises(ValueError, match="length_multiple"):
        make_dataset(tokens, lengths=lengths, length_multiple=0)
