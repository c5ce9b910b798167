"""Series preprocessing: windows, scaling, calendar features, season, in-model layers."""

import keras
import numpy as np
import pandas as pd

from toolkit.preprocessing.series import (
    AddLevel,
    FoldTargets,
    InstanceNormalization,
    SeriesScaler,
    UnfoldTargets,
    calendar_features,
    forecast_windows,
    infer_season,
    make_windows,
)


def test_windows_match_keras_timeseries_dataset_from_array():
    values = np.arange(40, dtype="float32").reshape(20, 2)
    ours = make_windows(values, 5)
    keras_windows = np.concatenate([batch.numpy() for batch in
                                    keras.utils.timeseries_dataset_from_array(values, None, 5)])
    np.testing.assert_array_equal(ours, keras_windows)


def test_forecast_windows_end_where_targets_start():
    ramp = np.arange(30.0)[:, None]
    inputs, targets = forecast_windows(ramp, 8, 3)
    assert inputs.shape == (20, 8, 1) and targets.shape == (20, 3, 1)
    np.testing.assert_array_equal(targets[:, 0, 0], inputs[:, -1, 0] + 1)
    inputs, targets = forecast_windows(ramp, 8, 3, origins=np.array([10, 27]))
    np.testing.assert_array_equal(inputs[:, -1, 0], [9, 26])
    np.testing.assert_array_equal(targets[:, -1, 0], [12, 29])


def test_scaler_inverts_exactly_and_survives_json_state():
    values = np.random.default_rng(0).normal(5, 3, size=(50, 3))
    values[:, 2] = 7.0  # a constant column keeps std 1
    scaler = SeriesScaler().fit(values)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(values)), values,
                               rtol=1e-12)
    restored = SeriesScaler.from_state(scaler.get_state())
    np.testing.assert_array_equal(restored.transform(values), scaler.transform(values))
    assert restored.std[2] == 1.0


def test_calendar_features_and_season_inference():
    index = pd.date_range("2024-01-01", periods=48, freq="h")
    features = calendar_features(index, ["hour", "dayofweek"])
    assert features.shape == (48, 4)
    np.testing.assert_allclose(features[0], features[24][:2].tolist() + [features[0][2], features[0][3]])
    assert infer_season(np.zeros(100), "h", 96) == 24
    assert infer_season(np.zeros(100), "15min", 96) == 96
    assert infer_season(np.zeros(100), "D", 96) == 7
    seasonal = np.tile(np.random.default_rng(0).normal(size=10), 20)
    assert infer_season(seasonal, 1, 48) == 10
    assert infer_season(np.arange(200.0), 1, 48) == 1  # a trend is not a season


def test_instance_normalization_and_folding_round_trip():
    windows = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    normalised, level = InstanceNormalization(targets=2, mode="last")(windows)
    np.testing.assert_allclose(np.asarray(normalised)[:, -1, :2], 0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(normalised)[..., 2], windows[..., 2])
    folded = np.asarray(FoldTargets(targets=2)(windows))
    assert folded.shape == (4, 6, 2)
    np.testing.assert_allclose(folded[1, :, 0], windows[0, :, 1])  # example 0, target 1
    np.testing.assert_allclose(folded[1, :, 1], windows[0, :, 2])  # beside its covariate
    forecasts = folded[:, :4, :1]  # (batch * targets, horizon, 1)
    unfolded = np.asarray(UnfoldTargets(targets=2)(forecasts))
    assert unfolded.shape == (2, 4, 2)
    np.testing.assert_allclose(unfolded[0, :, 1], windows[0, :4, 1])
    restored = np.asarray(AddLevel()([np.zeros((2, 4, 2), "float32"), level]))
    np.testing.assert_allclose(restored[:, 0, :], windows[:, -1, :2])
