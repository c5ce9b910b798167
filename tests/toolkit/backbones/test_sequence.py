"""Sequence backbones: shapes, masking, serialization, the registry."""

import keras
import numpy as np
import pytest

import toolkit
from toolkit.backbones.registry import get_backbone_spec

SEQUENCE = ["lstm", "gru", "bilstm", "bigru", "attention", "highway", "cnn"]


def test_registry_lists_every_sequence_backbone():
    assert sorted(SEQUENCE) == toolkit.list_backbones(kind="sequence")
    with pytest.raises(ValueError, match="Received: backbone='resnet'"):
        get_backbone_spec("resnet", kind="sequence")
    with pytest.raises(ValueError, match="kind"):
        toolkit.list_backbones(kind="graph")


@pytest.mark.parametrize("name", SEQUENCE)
def test_pooled_and_per_token_outputs_survive_serialization(name, tmp_path):
    build = get_backbone_spec(name).builder
    ids = np.array([[5, 3, 9, 0, 0], [2, 2, 2, 2, 7]], dtype="int32")
    pooled = build(input_shape=(5,), vocabulary_size=12, embedding_dim=6, units=4)
    per_token = build(input_shape=(5,), vocabulary_size=12, embedding_dim=6, units=4,
                      return_sequences=True)
    assert pooled(ids).shape[0] == 2 and len(pooled(ids).shape) == 2
    assert tuple(per_token(ids).shape[:2]) == (2, 5)
    pooled.save(tmp_path / "b.keras")
    restored = keras.saving.load_model(tmp_path / "b.keras", safe_mode=True)
    np.testing.assert_allclose(restored(ids), pooled(ids), atol=1e-6)


@pytest.mark.parametrize("name", ["bilstm", "attention", "highway"])
def test_padding_does_not_change_pooled_features(name):
    build = get_backbone_spec(name).builder
    short = build(input_shape=(4,), vocabulary_size=12, embedding_dim=6, units=4)
    long = build(input_shape=(8,), vocabulary_size=12, embedding_dim=6, units=4)
    long.set_weights(short.get_weights())
    ids = np.array([[5, 3, 9, 0]], dtype="int32")
    padded = np.pad(ids, ((0, 0), (0, 4)))
    np.testing.assert_allclose(short(ids), long(padded), atol=1e-5)


@pytest.mark.parametrize("name", ["bilstm", "bigru", "highway"])
def test_padding_does_not_change_per_token_features_with_extra_features(name, tmp_path):
    model = get_backbone_spec(name, kind="sequence").builder(
        input_shape=(None,), vocabulary_size=12, embedding_dim=6, units=4,
        return_sequences=True, token_features=3,
    )
    rng = np.random.default_rng(0)
    ids = np.array([[5, 3, 9]], dtype="int32")
    features = rng.normal(size=(1, 3, 3)).astype("float32")
    padded_ids = np.pad(ids, ((0, 0), (0, 4)))
    padded_features = np.pad(features, ((0, 0), (0, 4), (0, 0)), constant_values=7.0)
    alone = model([ids, features])
    np.testing.assert_allclose(alone, model([padded_ids, padded_features])[:, :3], atol=1e-5)
    model.save(tmp_path / "b.keras")
    restored = keras.saving.load_model(tmp_path / "b.keras", safe_mode=True)
    np.testing.assert_allclose(restored([ids, features]), alone, atol=1e-6)


@pytest.mark.parametrize("mode", ["max", "mean", "maxmean"])
def test_pooling_uses_only_unmasked_steps_and_an_empty_sequence_pools_to_zeros(mode):
    from toolkit.backbones.layers import MaskedGlobalPooling

    steps = np.array([[[1.0, -2.0], [3.0, -4.0], [50.0, 50.0]],
                      [[9.0, 9.0], [9.0, 9.0], [9.0, 9.0]]], "float32")
    mask = np.array([[True, True, False], [False, False, False]])
    pooled = keras.ops.convert_to_numpy(MaskedGlobalPooling(mode)(steps, mask=mask))
    expected = {"max": [[3.0, -2.0], [0.0, 0.0]], "mean": [[2.0, -3.0], [0.0, 0.0]]}
    expected["maxmean"] = np.concatenate([expected["max"], expected["mean"]], axis=1)
    np.testing.assert_allclose(pooled, expected[mode])
