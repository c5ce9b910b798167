"""Reading series: time columns, arrays, grid checks and fill policies."""

import numpy as np
import pandas as pd
import pytest

from toolkit.data.series import read_series

READ = {"target": None, "time_column": None, "past_covariates": [], "future_covariates": [],
        "fill": None}


def test_time_column_is_detected_and_targets_default_to_numeric_columns():
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=5, freq="D").astype(str),
                          "a": np.arange(5.0), "b": np.arange(5.0) * 2, "note": list("vwxyz")})
    series = read_series(frame[["date", "a", "b"]], **READ)
    assert series.names == ["a", "b"] and series.freq == "D"
    assert isinstance(series.index, pd.DatetimeIndex)
    with pytest.raises(ValueError, match="numeric"):
        read_series(frame, **{**READ, "target": "note"})


def test_time_columns_pandas_and_classic_datasets_write_are_found(tmp_path):
    times = pd.date_range("2024-01-01", periods=6, freq="MS")
    frame = pd.DataFrame({"passengers": np.arange(6.0)}, index=times)
    frame.to_csv(tmp_path / "index.csv")  # the index under an empty header: "Unnamed: 0"
    frame.reset_index(names="Date").to_csv(tmp_path / "capital.csv", index=False)
    frame.reset_index(names="Month").to_csv(tmp_path / "month.csv", index=False)
    for name in ("index", "capital", "month"):
        series = read_series(tmp_path / f"{name}.csv", **READ)
        assert series.names == ["passengers"], name
        assert series.freq == "MS" and series.index[0] == times[0], name
    # Row numbers written as the index are the time, not a series to forecast.
    frame.reset_index(drop=True).to_csv(tmp_path / "rows.csv")
    series = read_series(tmp_path / "rows.csv", **READ)
    assert series.names == ["passengers"] and series.freq == 1
    # A column of datetime64 values is the time whatever its name, so gaps are found.
    stamped = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=12, freq="h"),
                            "load": np.arange(12.0)}).drop(index=[5])
    with pytest.raises(ValueError, match="1 missing timestamps"):
        read_series(stamped, **READ)
    # Found in another case only when not numbers (YYYYMMDD ints stay a column, as before);
    # a text category of repeated years is not the time; row numbers with a gap are rows.
    for other in (pd.DataFrame({"Date": 20240101 + np.arange(6), "v": 1.0}),
                  pd.DataFrame({"grp": ["2019", "2020"] * 3, "v": 1.0})):
        series = read_series(other, **{**READ, "target": "v"})
        assert series.freq == 1 and len(series) == 6
    pd.DataFrame({"v": np.arange(6.0)}).drop(index=[4]).to_csv(tmp_path / "gap.csv")
    assert read_series(tmp_path / "gap.csv", **READ).freq == 1
    # A text column that is not all dates stays a column, not the time.
    labelled = frame.reset_index(drop=True).assign(note=["a", "b", "c", "d", "e", "2024-01-01"])
    series = read_series(labelled, **READ)
    assert series.names == ["passengers"] and series.freq == 1


def test_a_numeric_time_column_is_refused_not_read_as_nanoseconds():
    seconds = 1_700_000_000 + 3600 * np.arange(5)  # Unix time, hourly
    frame = pd.DataFrame({"timestamp": seconds, "load": np.arange(5.0)})
    with pytest.raises(ValueError, match="holds numbers, not dates.*unit='s'"):
        read_series(frame, **READ)


def test_arrays_get_positions_and_monthly_data_keeps_its_calendar_step():
    series = read_series(np.ones((6, 2)), **READ)
    assert series.names == ["y0", "y1"] and series.freq == 1
    assert list(series.future_index(2)) == [6, 7]
    monthly = pd.Series(np.arange(6.0), index=pd.date_range("2024-01-31", periods=6, freq="ME"))
    assert read_series(monthly, **READ).future_index(1)[0] == pd.Timestamp("2024-07-31")


@pytest.mark.parametrize("fill, expected", [("ffill", [1.0, 1.0]), ("zero", [0.0, 0.0]),
                                            ("interpolate", [2.0, 3.0])])
def test_fill_policies(fill, expected):
    index = pd.date_range("2024-01-01", periods=5, freq="h").delete([1, 2])
    frame = pd.DataFrame({"y": [1.0, 4.0, 5.0]}, index=index)
    series = read_series(frame, **{**READ, "fill": fill})
    np.testing.assert_allclose(series.targets[1:3, 0], expected)
    with pytest.raises(ValueError, match="2 missing timestamps"):
        read_series(frame, **READ)
    ending = pd.DataFrame({"y": [1.0, 2.0, np.nan]}, index=index)
    message = "cannot fill NaN values at the end.*fill='ffill'" if fill == "interpolate" else None
    if message:
        with pytest.raises(ValueError, match=message):
            read_series(ending, **{**READ, "fill": fill})


def test_prediction_history_must_have_the_fitted_step():
    frame = pd.DataFrame({"y": np.arange(4.0)},
                         index=pd.date_range("2024-01-01", periods=4, freq="2h"))
    for fill in (None, "ffill"):  # filling would invent every other value
        with pytest.raises(ValueError, match="has step '2h'; the task was fitted on step 'h'"):
            read_series(frame, **{**READ, "freq": "h", "fill": fill})


@pytest.mark.parametrize("empty", [[], np.zeros((0, 2)), pd.DataFrame({"load": []}),
                                   pd.DataFrame(index=pd.RangeIndex(3))])
def test_empty_series_is_refused_as_empty(empty):
    with pytest.raises(ValueError, match="the series is empty"):
        read_series(empty, **READ)


def test_array_given_where_named_columns_were_fitted_gets_a_hint():
    with pytest.raises(ValueError, match=r"an array's columns are named 'y'.*target='load'"):
        read_series(np.arange(10.0), **{**READ, "target": "load"})
    with pytest.raises(ValueError, match="fitted on 1 column.* this array has 2"):
        read_series(np.ones((10, 2)), **{**READ, "target": ["y"]})
    with pytest.raises(ValueError, match=r"among \['y', 'x'\]\. Received"):  # a real column named y: no hint
        read_series(pd.DataFrame({"y": np.arange(3.0), "x": 1.0}), **{**READ, "target": "load"})
