"""Audio backbones: registered, both output forms, serializable."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import toolkit
from toolkit.backbones.registry import get_backbone_spec

AUDIO = ("cnn", "crnn", "ds_cnn")


def test_registered_under_audio_kind():
    assert set(AUDIO) <= set(toolkit.list_backbones(kind="audio"))
    # "cnn" is also a sequence backbone; kinds keep the two apart.
    assert get_backbone_spec("cnn", kind="audio").kind == "audio"
    assert get_backbone_spec("cnn").kind == "sequence"


@pytest.mark.parametrize("name", AUDIO)
def test_classification_and_sequence_outputs(name, tmp_path):
    spec = get_backbone_spec(name, kind="audio")
    features = np.random.default_rng(0).standard_normal((2, 40, 24)).astype("float32")
    vector = spec.builder(input_shape=(40, 24))
    assert vector.name == name and len(vector(features).shape) == 2
    sequence = spec.builder(input_shape=(None, 24), return_sequences=True)
    out = sequence(features)
    assert out.shape[:2] == (2, 40 // spec.extra["time_reduction"])
    assert sequence(features[:, :30]).shape[1] == 30 // spec.extra["time_reduction"]
    assert all(any(layer.name.startswith(group) for layer in vector.layers)
               for group in spec.extra["layer_groups"])
    path = tmp_path / f"{name}.keras"
    vector.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(reloaded(features), vector(features), atol=1e-5)
