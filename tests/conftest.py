"""Shared fixtures: tiny data for fast tests, and the real data in ../shared when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


SQUEEZENET_FILE = "squeezenet/squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"


def _shared_or_skip(variable: str, kind: str) -> Path:
    """``../shared/<kind>`` (or ``$<variable>``); skips the calling test when absent."""
    path = Path(os.environ.get(variable, REPO_ROOT.parent / "shared" / kind))
    if not path.is_dir():
        pytest.skip(f"real {kind} folder not found at {path} (set {variable})")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` (or ``$TOOLKIT_DATA_DIR``)."""
    return _shared_or_skip("TOOLKIT_DATA_DIR", "data")


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """``../shared/weights`` (or ``$TOOLKIT_WEIGHTS_DIR``)."""
    return _shared_or_skip("TOOLKIT_WEIGHTS_DIR", "weights")


@pytest.fixture(scope="session")
def squeezenet_weights(weights_dir) -> Path:
    """The real SqueezeNet v1.1 ImageNet weights file (no top)."""
    path = weights_dir / SQUEEZENET_FILE
    if not path.is_file():
        pytest.skip(f"SqueezeNet weights not found at {path}")
    return path


@pytest.fixture(scope="session")
def tiny_texts():
    """Two clearly separable classes of short texts."""
    from toolkit.data.samples import load_sentiment_sample

    return load_sentiment_sample(96, seed=1)


@pytest.fixture(scope="session")
def tiny_images():
    """96 8x8 digit images of two classes (0 and 1), uint8."""
    from toolkit.data.samples import load_digits_sample

    images, labels = load_digits_sample()
    keep = np.isin(labels, [0, 1])
    return images[keep][:96], labels[keep][:96]


#: Parameters that make a task train in a second or two.
FAST_TEXT = {"backbone": "cnn", "epochs": 1, "embedding_dim": 8, "units": 4, "batch_size": 32, "verbose": 0,
             "seed": 0}
FAST_IMAGE = {"backbone": "lenet", "epochs": 1, "batch_size": 32, "verbose": 0, "seed": 0}


@pytest.fixture
def fast_text_params():
    return dict(FAST_TEXT)


@pytest.fixture
def fast_image_params():
    return dict(FAST_IMAGE)
