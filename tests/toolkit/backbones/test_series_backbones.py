"""Series backbones: registry, shapes, serialization, TCN receptive field."""

import keras
import numpy as np
import pytest

import toolkit
from toolkit.backbones.registry import get_backbone_spec

SERIES = ["cnn", "gru", "linear", "lstm", "mlp"]


def test_registry_keeps_series_and_sequence_backbones_apart():
    assert toolkit.list_backbones(kind="series") == SERIES
    assert get_backbone_spec("lstm", kind="series").kind == "series"
    assert get_backbone_spec("lstm").kind == "sequence"  # unqualified names keep their meaning
    assert get_backbone_spec("lstm", kind="series").recurrent
    with pytest.raises(ValueError, match="Received: backbone='bilstm'"):
        get_backbone_spec("bilstm", kind="series")


@pytest.mark.parametrize("name", SERIES)
def test_window_to_features_survives_serialization(name, tmp_path):
    model = get_backbone_spec(name, kind="series").builder(input_shape=(32, 3), units=4)
    windows = np.random.default_rng(0).normal(size=(2, 32, 3)).astype("float32")
    features = model(windows)
    assert len(features.shape) == 2 and features.shape[0] == 2
    model.save(tmp_path / "b.keras")
    restored = keras.saving.load_model(tmp_path / "b.keras", safe_mode=True)
    np.testing.assert_allclose(restored(windows), features, atol=1e-6)


def test_tcn_is_causal_and_sees_the_whole_window():
    model = get_backbone_spec("cnn", kind="series").builder(input_shape=(32, 1), units=4,
                                                            dropout=0.0)
    base = np.zeros((1, 32, 1), "float32")
    for step in (0, 31):  # a change at the first or last step reaches the features
        changed = base.copy()
        changed[0, step, 0] = 1.0
        assert not np.allclose(model(changed), model(base))
