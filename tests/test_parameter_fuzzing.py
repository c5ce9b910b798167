"""Every parameter of every task, set to a value of the wrong type, fails ``fit`` by name.

A new parameter that no check covers shows up here: Keras, NumPy or pandas would
otherwise fail deep inside (or, worse, take the value), with a message that names
something the user never wrote.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import toolkit
from toolkit import Task
from toolkit.data.samples import load_digits_sample, load_sentiment_sample

BAD = "zz"
#: Parameters that take any value: progress output and speech's ``vocabulary``, for
#: which a string is valid (its characters).
UNCHECKED = {"verbose", "vocabulary"}
#: Parameters for which a string is valid (column names, folders): refused when they
#: are not a string, even with data of a form that does not read them.
STRINGS = {"text_column", "label_column", "time_column", "data_dir", "checkpoint_dir",
           "image_dir"}
BAD_TYPE = 2.5
#: Parameters whose check names what they hold rather than the parameter: a column
#: name that is not in the data.
NAMES_THE_VALUE = {"target", "past_covariates", "future_covariates"}
#: What the tiny data needs besides the defaults (waveform arrays carry no rate).
BASE_PARAMS = {"speech": {"sample_rate": 8000}}


def _tiny_data(name: str) -> tuple:
    rng = np.random.default_rng(0)
    if name == "sentiment":
        return load_sentiment_sample(40, seed=1)
    if name == "image_classification":
        images, labels = load_digits_sample()
        keep = np.isin(labels, [0, 1])
        return images[keep][:32], labels[keep][:32]
    if name == "detection":
        images = np.zeros((4, 32, 32, 3), "uint8")
        images[:, 8:24, 4:20] = 255
        return images, [{"boxes": [[4, 8, 20, 24]], "labels": ["square"]}] * 4
    if name == "segmentation":
        images = rng.integers(0, 255, (4, 16, 16, 3))
        return images, (images[..., 0] > 127).astype(int)
    if name == "forecasting":
        index = pd.date_range("2024-01-01", periods=200, freq="h")
        return (pd.DataFrame({"load": np.sin(np.arange(200) * 2 * np.pi / 24)}, index=index),)
    if name == "speech":
        return [rng.normal(size=2000).astype("float32") for _ in range(4)], ["a", "b"] * 2
    if name == "ner":
        return [["Alice", "visited", "Paris", "."]] * 4, [["B-PER", "O", "B-LOC", "O"]] * 4
    raise AssertionError(f"no tiny data for task {name!r}: add it here")


CASES = [(name, parameter) for name in toolkit.list_tasks()
         for parameter in Task(name).get_params() if parameter not in UNCHECKED]


@pytest.mark.parametrize("name, parameter", CASES)
def test_a_wrong_type_is_refused_by_name(name, parameter):
    bad = BAD_TYPE if parameter in STRINGS else BAD
    params = {"epochs": 1, "verbose": 0, **BASE_PARAMS.get(name, {}), parameter: bad}
    with pytest.raises((ValueError, TypeError)) as refused:
        Task(name, **params).fit(*_tiny_data(name))
    expected = repr(bad) if parameter in NAMES_THE_VALUE else parameter
    assert expected in str(refused.value), str(refused.value)
