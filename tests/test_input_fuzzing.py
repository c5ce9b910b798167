"""Property-based tests over every task's input adapters (``fit``/``predict`` reading).

Whatever arrives -- random shapes and dtypes, empty and unicode strings, NaN, nested
lists, mismatched lengths -- reading either succeeds or raises a ``ValueError`` or
``TypeError`` with a message; never another exception type, and never a silent
success when ``X`` and ``y`` disagree in length.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import toolkit

ACCEPTABLE = (ValueError, TypeError)
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                    st.floats(allow_nan=True, allow_infinity=True), texts)
arrays = hnp.arrays(  # float elements include NaN and infinity
    dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
)
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
inputs = st.one_of(scalars, arrays, nested, st.lists(texts, max_size=6),
                   st.lists(st.lists(texts, max_size=5), max_size=5))


def _outcome(read, *args):
    """``("ok", result)`` or ``("refused", None)``; any other exception fails the test."""
    try:
        result = read(*args)
    except ACCEPTABLE as error:
        assert str(error), f"{type(error).__name__} without a message"
        return "refused", None
    return "ok", result


@pytest.mark.parametrize("name", toolkit.list_tasks())
@SETTINGS
@given(X=inputs, y=st.one_of(st.none(), nested, arrays))
def test_fit_input_is_read_or_refused_clearly(name, X, y):
    task = toolkit.Task(name)
    outcome, _ = _outcome(lambda: task._read(X, y, training=True))
    lengths = [_length(X), _length(y)]
    if outcome == "ok" and None not in lengths:
        assert lengths[0] == lengths[1], "X and y of different lengths were accepted"


@pytest.mark.parametrize("name", toolkit.list_tasks())
@SETTINGS
@given(X=inputs)
def test_predict_input_is_read_or_refused_clearly(name, X):
    task = toolkit.Task(name)
    outcome, examples = _outcome(lambda: task._read(X, training=False))
    if outcome == "ok":  # read for prediction: no labels made up, nothing silently dropped
        assert examples.y is None, "labels appeared from unlabelled input"
        if _length(X) is not None:
            assert len(examples) == _length(X), (len(examples), _length(X))


def _length(value):
    if isinstance(value, (list, tuple)):
        return len(value)
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return len(value)
    return None
