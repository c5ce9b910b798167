"""Forecast metrics, baselines and the report."""

import numpy as np
import pytest

from toolkit.evaluation.forecasting import (
    ForecastReport,
    LinearBaseline,
    coverage,
    mae,
    mase,
    naive_forecast,
    seasonal_naive_forecast,
    seasonal_scale,
    smape,
)
from toolkit.heads.forecasting import PinballLoss


def test_metrics_on_known_values():
    actual = np.array([[[1.0], [2.0]], [[3.0], [4.0]]])
    forecast = actual + np.array([[[1.0], [-1.0]], [[0.0], [2.0]]])
    assert mae(actual, forecast) == 1.0
    assert smape(np.array([1.0, 0.0]), np.array([3.0, 0.0])) == pytest.approx(50.0)
    history = np.array([1.0, 5.0, 2.0, 6.0, 3.0])[:, None]  # season 2: |diffs| = 1, 1, 1
    np.testing.assert_allclose(seasonal_scale(history, 2), [1.0])
    assert mase(actual, forecast, np.array([2.0])) == 0.5
    assert coverage(np.array([1.0, 5.0]), np.array([0.0, 0.0]), np.array([2.0, 2.0])) == 0.5


def test_naive_and_seasonal_naive_repeat_the_right_values():
    window = np.arange(10.0).reshape(1, 10, 1)
    np.testing.assert_array_equal(naive_forecast(window, 3)[0, :, 0], [9, 9, 9])
    np.testing.assert_array_equal(seasonal_naive_forecast(window, 7, 3)[0, :, 0],
                                  [7, 8, 9, 7, 8, 9, 7])
    with pytest.raises(ValueError, match="season"):
        seasonal_naive_forecast(window, 3, 11)


def test_linear_baseline_state_round_trip():
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(40, 8, 2)), rng.normal(size=(40, 3, 2))
    baseline = LinearBaseline().fit(inputs, targets)
    restored = LinearBaseline.from_state(baseline.get_state())
    assert restored.predict(inputs).shape == (40, 3, 2)
    np.testing.assert_allclose(restored.predict(inputs), baseline.predict(inputs))


def test_pinball_loss_is_the_quantile_check_function():
    loss = PinballLoss([0.1, 0.9])
    # under-forecast by 1: 0.1 and 0.9; over-forecast by 1: 0.9 and 0.1
    assert float(loss(np.array([[1.0]]), np.array([[[0.0, 0.0]]]))) == pytest.approx(0.5)
    assert float(loss(np.array([[0.0]]), np.array([[[1.0, 2.0]]]))) == pytest.approx(
        (0.9 + 0.1 * 2) / 2)


def test_report_states_skill_against_every_baseline(tmp_path):
    rng = np.random.default_rng(0)
    actual = rng.normal(size=(5, 4, 1))
    baselines = {"naive": actual + 1, "seasonal_naive": actual + 2, "linear": actual + 0.5}
    report = ForecastReport.from_forecasts(
        "forecasting", actual, actual + 0.25, baselines, std=np.array([2.0]),
        scale=np.array([1.0]), season=2,
        plot_data={"history_index": np.arange(4), "history": np.zeros((4, 1)),
                   "future_index": np.arange(4, 8), "actual": actual[-1],
                   "forecast": actual[-1], "target_names": ["y"]})
    assert report.metrics["relative_mae"] == pytest.approx(0.125)
    assert report.metrics["mse_scaled"] == pytest.approx(0.25**2 / 4)
    assert report.metrics["baselines"]["linear"]["relative_mae"] == pytest.approx(0.25)
    report.save(tmp_path)
    assert (tmp_path / "forecast.png").is_file() and "linear" in (tmp_path / "report.md").read_text()
