"""Forecasting task: no leakage, exact scaling, baselines, save/load, clear errors, real ETTh1."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from toolkit import Task

FAST = {"horizon": 6, "lookback": 24, "epochs": 2, "batch_size": 32, "verbose": 0, "seed": 0}


def hourly(values, start="2024-01-01") -> pd.DataFrame:
    values = np.asarray(values, dtype="float64")
    values = values[:, None] if values.ndim == 1 else values
    columns = ["load"] if values.shape[1] == 1 else [f"s{i}" for i in range(values.shape[1])]
    index = pd.date_range(start, periods=len(values), freq="h", name="time")
    return pd.DataFrame(values, index=index, columns=columns)


def seasonal(n=360, period=24, seed=0):
    """A pure seasonal series: one random day repeated exactly."""
    pattern = np.random.default_rng(seed).normal(size=period) + 10
    return np.tile(pattern, n // period + 1)[:n]


@pytest.fixture(scope="module")
def fitted():
    data = hourly(seasonal() + np.linspace(0, 1, 360))
    return Task("forecasting", **FAST).fit(data), data


def test_windows_never_leak_future_values_into_inputs():
    ramp = hourly(np.arange(200.0))
    task = Task("forecasting", **FAST).fit(ramp)
    inputs, targets = task._encode(task._read(ramp, training=True))
    past = task._unscale(inputs["past"][..., :1].astype("float64"))
    future = task._unscale(targets.astype("float64"))
    # On a ramp the value is the time step: every input precedes every target of its
    # window, and the target starts right after the input ends.
    assert np.all(past.max(axis=(1, 2)) < future.min(axis=(1, 2)))
    np.testing.assert_allclose(future[:, 0, 0], past[:, -1, 0] + 1, atol=1e-4)
    np.testing.assert_allclose(past[:, 0, 0], np.arange(len(past)), atol=1e-4)
    assert len(past) == 200 - 24 - 6 + 1


def test_chronological_validation_split_keeps_targets_apart():
    ramp = hourly(np.arange(300.0))
    task = Task("forecasting", **FAST, validation_split=0.2)
    train, validation = task._split_validation(task._read(ramp, training=True))
    assert train.index[-1] < ramp.index[240] and len(train) == 240
    assert validation.index[0] == ramp.index[240 - 24]  # lookback steps of context only
    task._fit_preprocessing(train)
    _, train_targets = task._encode(train)
    inputs, validation_targets = task._encode(validation)
    assert task._unscale(train_targets).max() < task._unscale(validation_targets).min()


def test_scaling_is_fitted_on_training_part_and_inverted_exactly(fitted):
    task, data = fitted
    values = data["load"].to_numpy()
    train_part = values[: int(round(len(values) * 0.8))]
    np.testing.assert_allclose(task.scaler_.mean, [train_part.mean()])
    np.testing.assert_allclose(task.scaler_.std, [train_part.std()])
    report = task.backtest(data, start=300, stride=10)
    expected = np.concatenate([values[t: t + 6] for t in range(300, 355, 10)])
    np.testing.assert_allclose(report.forecasts["actual"], expected, rtol=0, atol=1e-9)


def test_seasonal_naive_has_zero_error_on_a_pure_seasonal_series():
    data = hourly(seasonal(period=24))
    task = Task("forecasting", **FAST).fit(data)
    report = task.evaluate(data)
    assert task.season_ == 24  # hourly -> daily season
    assert report.metrics["baselines"]["seasonal_naive"]["mae"] == pytest.approx(0, abs=1e-9)
    # Without timestamps the season comes from the autocorrelation.
    plain = Task("forecasting", **FAST).fit(seasonal(period=12))
    assert plain.season_ == 12
    assert plain.evaluate(seasonal(period=12)).metrics["baselines"]["seasonal_naive"]["mae"] < 1e-9


def test_predict_returns_future_timestamps_and_score_is_negative_mae(fitted):
    task, data = fitted
    forecast = task.predict(data)
    expected = pd.date_range(data.index[-1] + pd.Timedelta("1h"), periods=6, freq="h")
    assert isinstance(forecast, pd.DataFrame) and list(forecast.columns) == ["load"]
    pd.testing.assert_index_equal(forecast.index, expected, check_names=False)
    report = task.evaluate(data)
    assert task.score(data) == pytest.approx(-report.metrics["mae"])
    assert set(report.metrics["baselines"]) == {"naive", "seasonal_naive", "linear"}
    assert report.metrics["relative_mae"] == pytest.approx(
        report.metrics["mae"] / report.metrics["baselines"]["seasonal_naive"]["mae"])
    assert "seasonal_naive" in report.to_markdown()


def test_save_load_round_trip_returns_the_same_forecast(tmp_path):
    data = hourly(seasonal(period=24))
    data["temperature"] = np.random.default_rng(1).normal(size=len(data))
    # An array of levels, a NumPy int (as from a grid over np.arange) and one column name
    # as a string all train, so they must save and load too.
    task = Task("forecasting", **FAST, quantiles=np.array([0.1, 0.5, 0.9]), backbone="mlp",
                units=np.int64(8), past_covariates="temperature",
                future_covariates=["hour"]).fit(data)
    before = task.predict(data)
    task.save(tmp_path / "model")
    loaded = Task.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(data), before)
    assert list(before.columns) == ["load_q0.1", "load_q0.5", "load_q0.9"]
    assert np.all(np.diff(before.to_numpy(), axis=1) >= 0)  # quantiles never cross
    report = loaded.evaluate(data)
    assert 0 <= report.metrics["coverage"] <= 1 and report.metrics["nominal_coverage"] == 0.8
    # Saved before quantiles had to include 0.5: it loads and predicts; scoring is refused.
    document = json.loads((tmp_path / "model" / "task.json").read_text())
    document["params"]["quantiles"] = [0.1, 0.4, 0.9]
    (tmp_path / "model" / "task.json").write_text(json.dumps(document))
    older = Task.load(tmp_path / "model")
    assert list(older.predict(data).columns) == ["load_q0.1", "load_q0.4", "load_q0.9"]
    with pytest.raises(ValueError, match="no 0.5 quantile"):
        older.evaluate(data)


def test_multivariate_targets_and_known_future_covariates():
    rng = np.random.default_rng(0)
    data = hourly(np.stack([seasonal(seed=1), seasonal(seed=2), rng.normal(size=360)], axis=1))
    for independent, backbone in ((True, "gru"), (False, "linear")):
        task = Task("forecasting", **{**FAST, "epochs": 1}, target=["s0", "s1"],
                    future_covariates=["s2"], channel_independent=independent,
                    backbone=backbone, units=4).fit(data)
        future = pd.DataFrame({"s2": rng.normal(size=6)})
        forecast = task.predict(data, future=future)
        assert forecast.shape == (6, 2) and list(forecast.columns) == ["s0", "s1"]
        assert task.evaluate(data).metrics["settings"]["targets"] == 2
    with pytest.raises(ValueError, match="future covariate columns"):
        task.predict(data)
    a_year_off = pd.DataFrame({"s2": rng.normal(size=6)},
                              index=pd.date_range("2025-01-01", periods=6, freq="h"))
    with pytest.raises(ValueError, match="must start at the step after the history"):
        task.predict(data, future=a_year_off)
    aligned = a_year_off.set_axis(pd.date_range(data.index[-1] + pd.Timedelta("1h"), periods=6,
                                                freq="h", name="time"))
    assert task.predict(data, future=aligned).shape == (6, 2)
    with pytest.raises(ValueError, match="must be numeric, as in the history"):
        task.predict(data, future=aligned.astype(str))  # numbers as text: refused, not parsed
    with pytest.raises(ValueError, match="future= is only for future_covariates"):
        Task("forecasting", **{**FAST, "epochs": 1}).fit(data[["s0"]]).predict(
            data[["s0"]], future="junk")


@pytest.mark.parametrize("independent", [True, False])
def test_least_squares_solves_the_linear_model_whichever_layout_its_head_has(independent):
    """Sinusoids are exactly linear in their lags, so the closed-form solution forecasts
    two of them almost without error, folded into one shared model or jointly; two
    epochs of gradient descent on the same model do not come close."""
    steps = np.arange(400)
    data = hourly(np.stack([np.sin(2 * np.pi * steps / 12),
                            2 * np.cos(2 * np.pi * steps / 17) + 1], axis=1))
    task = Task("forecasting", **FAST, channel_independent=independent).fit(data.iloc[:300])
    assert {name: len(values) for name, values in task.history_.items()} == {
        "loss": 1, "val_loss": 1}
    assert task.history_["loss"][0] < 1e-4 and task.history_["val_loss"][0] < 1e-4
    assert task.evaluate(data.iloc[300 - FAST["lookback"]:]).metrics["mse_scaled"] < 1e-4
    gradient = Task("forecasting", **FAST, solver="gradient",
                    channel_independent=independent).fit(data.iloc[:300])
    assert gradient.history_["loss"][-1] > 100 * task.history_["loss"][0]


def test_solver_is_checked_and_least_squares_is_refused_where_it_does_not_apply(monkeypatch):
    data = hourly(seasonal())
    with pytest.raises(ValueError, match="solver must be one of"):
        Task("forecasting", **FAST, solver="newton").fit(data)
    for params in ({"backbone": "mlp", "units": 4}, {"quantiles": [0.1, 0.5, 0.9]}):
        with pytest.raises(ValueError, match="solver='least_squares' needs a point forecast"):
            Task("forecasting", **FAST, solver="least_squares", **params).fit(data)
        task = Task("forecasting", **FAST, **params).fit(data)  # "auto": by gradient
        assert len(task.history_["loss"]) == FAST["epochs"]
    monkeypatch.setattr("tasks.forecasting.LEAST_SQUARES_MAX_FEATURES", FAST["lookback"] - 1)
    assert len(Task("forecasting", **FAST).fit(data).history_["loss"]) == FAST["epochs"]
    insisted = Task("forecasting", **FAST, solver="least_squares").fit(data)
    assert len(insisted.history_["loss"]) == 1  # too many inputs for "auto", as asked
    monkeypatch.undo()
    solved = Task("forecasting", **FAST).fit(data)
    before = solved.predict(data)
    solved.fine_tune(data, epochs=2)  # continues from the solution by gradient
    assert len(solved.history_["loss"]) == 3
    assert not solved.predict(data).equals(before)


def test_backtest_refits_or_not_as_asked():
    data = hourly(seasonal(n=240) + np.random.default_rng(0).normal(0, 0.1, 240))
    task = Task("forecasting", **{**FAST, "epochs": 1})
    once = task.backtest(data, start=200, stride=12)  # fits once on the first 200 steps
    assert len(task.targets_) == 1 and once.metrics["settings"]["windows"] == 3
    assert list(once.forecasts.columns) == ["origin", "time", "step", "target", "forecast",
                                            "actual"]
    refitted = Task("forecasting", **{**FAST, "epochs": 1}).backtest(
        data, start=0.9, stride=12, refit=True)
    assert refitted.metrics["settings"]["windows"] == 2
    assert refitted.forecasts["origin"].iloc[0] == data.index[216]
    for start in (1.0, np.float32(1.5)):  # a float is a share, never a timestamp
        with pytest.raises(ValueError, match="start as a float is a share"):
            task.backtest(data, start=start)
    assert task.backtest(data, start=np.float32(0.9), stride=12).metrics["settings"][
        "windows"] == 2


def test_csv_path_and_arrays_are_read(tmp_path, fitted):
    _, data = fitted
    path = tmp_path / "series.csv"
    data.reset_index().rename(columns={"time": "date"}).to_csv(path, index=False)
    task = Task("forecasting", **{**FAST, "epochs": 1}, target="load").fit(str(path))
    assert task.predict(str(path)).index[0] == data.index[-1] + pd.Timedelta("1h")
    array_task = Task("forecasting", **{**FAST, "epochs": 1}).fit(data["load"].to_numpy())
    assert list(array_task.predict(data["load"].to_numpy()).index) == list(range(360, 366))


@pytest.mark.parametrize(
    "change, fill, match",
    [
        (lambda d: d.assign(load=d["load"].where(d.index != d.index[50])), None, "NaN values"),
        (lambda d: d.drop(d.index[50:53]), None, "3 missing timestamps"),
        (lambda d: d.set_axis(d.index.where(d.index != d.index[50],
                                            d.index[50] + pd.Timedelta("20min"))), None,
         "Irregular timestamps"),
        (lambda d: d.iloc[::-1], None, "increasing order"),
        (lambda d: pd.concat([d.iloc[:10], d.iloc[9:]]), None, "Duplicate timestamps"),
        (lambda d: d.assign(load=d["load"].where(d.index != d.index[0])), "ffill", "start"),
        (lambda d: d, "backfill", "fill="),
    ],
)
def test_nan_and_irregular_input_give_clear_errors(change, fill, match, fitted):
    _, data = fitted
    with pytest.raises(ValueError, match=match):
        Task("forecasting", **FAST, fill=fill).fit(change(data.copy()))


def test_fill_policy_fills_missing_steps_explicitly(fitted):
    _, data = fitted
    gappy = data.drop(data.index[100:103])
    task = Task("forecasting", **{**FAST, "epochs": 1}, fill="interpolate")
    series = task._read(gappy, training=True)
    assert len(series) == len(data)
    expected = np.interp([100, 101, 102], [99, 103], data["load"].iloc[[99, 103]])
    np.testing.assert_allclose(series.targets[100:103, 0], expected)


def test_bad_parameters_and_input_are_named(fitted):
    _, data = fitted
    for params, match in [({"horizon": 0}, "horizon"), ({"backbone": "bilstm"}, "backbone='bilstm'"),
                          ({"quantiles": [0.9, 0.1]}, "quantiles"),
                          ({"normalization": "minmax"}, "normalization"),
                          ({"season": 48}, "season"), ({"target": "price"}, "price"),
                          ({"future_covariates": ["weather"]}, "future_covariates naming 'weather'"),
                          ({"units": 0}, "units"), ({"dropout": 1.5}, "dropout"),
                          ({"channel_independent": "yes"}, "channel_independent"),
                          ({"lookback": 400}, "too short"), ({"quantiles": 0.5}, "quantiles"),
                          ({"quantiles": [0.1, float("nan")]}, "quantiles"),
                          ({"quantiles": [0.1, 0.9]}, "quantiles must include 0.5"),
                          ({"target": ["load", "load"]}, "twice"), ({"target": 5}, "target"),
                          ({"past_covariates": 5}, "past_covariates"),
                          ({"time_column": ["time"]}, "time_column must be a column name")]:
        with pytest.raises(ValueError, match=match):
            Task("forecasting", **{**FAST, **params}).fit(data)
    with pytest.raises(ValueError, match="y=None"):
        Task("forecasting", **FAST).fit(data, data["load"])
    with pytest.raises(ValueError, match="validation series is too short"):
        Task("forecasting", **FAST).fit(data, validation_data=(data.iloc[:10],))
    with pytest.raises(ValueError, match="too large to standardise"):
        Task("forecasting", **FAST).fit(data.assign(load=data["load"].where(
            data.index != data.index[5], 1e300)))
    with pytest.raises(ValueError, match="timestamps"):
        Task("forecasting", **FAST, future_covariates=["hour"]).fit(np.arange(100.0))
    with pytest.raises(NotFittedError):
        Task("forecasting", **FAST).predict(data)
    task, _ = fitted
    with pytest.raises(ValueError, match="fitted on timestamps"):
        task.predict(data.reset_index(drop=True))


def test_infinite_values_are_refused_not_forecast_as_nan(fitted):
    task, data = fitted
    spiked = data.assign(load=data["load"].where(data.index != data.index[-3], np.inf))
    for call in (Task("forecasting", **FAST).fit, task.predict, task.evaluate, task.score):
        with pytest.raises(ValueError, match="infinite value.*'load'"):
            call(spiked)
    with pytest.raises(ValueError, match="hold 1 NaN/infinite"):   # finite, but not in float32
        task.predict(data.assign(load=data["load"].where(data.index != data.index[-3], 1e60)))


def test_etth1_default_model_beats_seasonal_naive(data_dir):
    """Real data: ETTh1 oil temperature, the standard 12/4/4-month split, horizon 24."""
    path = data_dir / "ett" / "ETTh1.csv"
    if not path.is_file():
        pytest.skip(f"ETTh1 not found at {path}")
    frame = pd.read_csv(path)
    train, val, test = frame.iloc[:8640], frame.iloc[8640 - 96:11520], frame.iloc[11520 - 96:14400]
    task = Task("forecasting", horizon=24, target="OT", verbose=0, seed=0)
    report = task.fit(train, validation_data=(val,)).evaluate(test)
    assert report.metrics["relative_mae"] < 1, report.metrics
    assert report.metrics["mse_scaled"] < 0.04, report.metrics  # seasonal naive: 0.046
    # the closed-form solution beats the ridge baseline on the raw lags (0.0264 vs 0.0276)
    assert report.metrics["mse_scaled"] < report.metrics["baselines"]["linear"]["mse_scaled"]


def test_command_line_fits_predicts_and_evaluates(tmp_path, fitted, capsys):
    from toolkit.cli import main

    _, data = fitted
    path = tmp_path / "series.csv"
    data.reset_index().rename(columns={"time": "date"}).to_csv(path, index=False)
    assert main(["fit", "forecasting", "--data", str(path), "--horizon", "6", "--lookback",
                 "24", "--epochs", "1", "--verbose", "0", "--out", str(tmp_path / "m")]) == 0
    assert main(["predict", str(tmp_path / "m"), str(path)]) == 0
    assert "2024-01-16 05:00:00" in capsys.readouterr().out  # the 6th step after the end
    assert main(["evaluate", str(tmp_path / "m"), "--data", str(path)]) == 0
    assert "seasonal_naive" in capsys.readouterr().out


def test_a_series_of_another_step_is_refused_not_filled_onto_the_fitted_grid():
    data = hourly(seasonal() + np.linspace(0, 1, 360))
    task = Task("forecasting", **{**FAST, "fill": "ffill"}).fit(data)
    for other, step in [(data.resample("D").mean(), "'D'"), (data.iloc[::2], "'2h'")]:
        with pytest.raises(ValueError, match=f"has step {step}; the task was fitted on step 'h'"):
            task.predict(other)
    gappy = data.drop(data.index[100:110])  # a few missing hours are still filled
    assert task.predict(gappy).shape == (FAST["horizon"], 1)


def test_fine_tune_on_a_series_too_short_for_one_window_is_refused(fitted):
    task, data = fitted
    for rows in (10, FAST["lookback"] + FAST["horizon"] - 1):
        with pytest.raises(ValueError, match="training series is too short"):
            task.fine_tune(data.iloc[:rows])


def test_an_array_with_columns_beyond_the_fitted_ones_is_refused():
    values = np.stack([seasonal(), seasonal(seed=1)], axis=1)
    task = Task("forecasting", **FAST).fit(values)
    assert task.predict(values).shape == (FAST["horizon"], 2)
    with pytest.raises(ValueError, match="matched by position: 2 target and 0 covariate"):
        task.predict(np.hstack([values, values[:, :1]]))
