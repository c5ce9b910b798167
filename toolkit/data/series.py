"""Time series: DataFrames, arrays and CSV files in, one regular, gap-free series out.

A series is read once into a :class:`TimeSeries` (targets, covariates and the time
index as aligned arrays). Irregular timestamps are always an error; missing timestamps
and NaN values are an error unless a ``fill`` policy says how to fill them, so nothing
is ever silently shifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
import warnings

import numpy as np
import pandas as pd

from toolkit.data.tables import TABLE_SUFFIXES, read_table

#: ``fill=`` policies for missing timestamps and NaN values.
FILL_POLICIES = (None, "ffill", "interpolate", "zero")
#: Column names taken as the time column when ``time_column`` is not given.
TIME_COLUMN_NAMES = ("date", "datetime", "timestamp", "time", "ds")
#: The name pandas reads an empty first header as: the index ``DataFrame.to_csv`` wrote.
UNNAMED_INDEX = "Unnamed: 0"


@dataclass
class TimeSeries:
    """One regular series: ``targets (n, k)``, covariates ``(n, p)``/``(n, f)``, ``index``.

    ``index`` is a ``DatetimeIndex`` or an integer index with constant step; ``freq`` is
    its step (a pandas frequency string, or an int); ``names`` are the target columns.
    """

    targets: np.ndarray
    past: np.ndarray
    future: np.ndarray
    index: pd.Index
    freq: str | int
    names: list[str]

    def __len__(self) -> int:
        return len(self.targets)

    def slice(self, start: int | None = None, stop: int | None = None) -> TimeSeries:
        """Rows ``start:stop`` (positions), as a new series."""
        part = slice(start, stop)
        return TimeSeries(self.targets[part], self.past[part], self.future[part],
                          self.index[part], self.freq, self.names)

    def future_index(self, steps: int) -> pd.Index:
        """The ``steps`` timestamps following the last one."""
        return step_index(self.index[-1], self.freq, 1, steps)


def step_index(origin, freq: str | int, first: int, count: int) -> pd.Index:
    """Timestamps ``origin + freq * [first, first + count)``."""
    if isinstance(freq, str):
        offset = pd.tseries.frequencies.to_offset(freq)
        return pd.DatetimeIndex([origin + offset * i for i in range(first, first + count)])
    return pd.Index(origin + freq * np.arange(first, first + count))


def read_series(
    X: Any,
    *,
    target: str | list[str] | None,
    time_column: str | None,
    past_covariates: list[str],
    future_covariates: list[str],
    fill: str | None,
    freq: str | int | None = None,
) -> TimeSeries:
    """Read ``X`` (DataFrame, Series, array, CSV/TSV path) into a :class:`TimeSeries`.

    Parameters
    ----------
    X : pandas DataFrame or Series, NumPy array ``(n,)``/``(n, k)``, or a table path
        Rows ordered in time. A DataFrame's time is its ``DatetimeIndex``, else
        ``time_column``, else a column named one of ``TIME_COLUMN_NAMES``, else the row
        position. Array columns are named ``y`` (1-D) or ``y0, y1, ...``.
    target : str, list of str or None
        Target column(s); ``None`` takes every numeric column that is not a covariate.
    time_column : str or None
        Column holding the timestamps.
    past_covariates, future_covariates : list of str
        Covariate columns (future covariates here are columns only; calendar features
        are derived by the task from the index).
    fill : None, "ffill", "interpolate" or "zero"
        What to do with missing timestamps (rows inserted on the regular grid) and NaN
        values; ``None`` raises a ``ValueError`` naming them.
    freq : str or int, optional
        The step the series must have (the fitted one, at prediction time).

    Returns
    -------
    TimeSeries
    """
    if fill not in FILL_POLICIES:
        raise ValueError(f"fill must be one of {list(FILL_POLICIES)}. Received: fill={fill!r}")
    frame = _check_not_empty(_as_frame(X))
    frame = _set_time_index(frame, time_column)
    covariates = list(past_covariates) + list(future_covariates)
    targets = _target_names(frame, target, covariates)
    unused = [c for c in frame.columns if c not in targets + covariates]
    if unused and not isinstance(X, (pd.DataFrame, pd.Series, str, Path)):
        raise ValueError(f"An array's columns are matched by position: {len(targets)} target "
                         f"and {len(covariates)} covariate column(s) are expected, and this "
                         f"array has {frame.shape[1]}. Pass only those columns, or a DataFrame "
                         "with their names.")
    for which, names in (("past_covariates", past_covariates),
                         ("future_covariates", future_covariates)):
        for name in names:
            if name not in frame.columns:
                raise ValueError(f"Covariate column not found. Expected one of "
                                 f"{[str(c) for c in frame.columns]}. Received: "
                                 f"{which} naming {name!r}")
    frame = frame[targets + [c for c in covariates if c not in targets]]
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            raise ValueError(f"Series columns must be numeric. Received: column {name!r} of "
                             f"dtype {frame[name].dtype}")
    frame, step = _regularize(frame, freq, fill)
    values = frame.astype("float64")
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row, column = np.argwhere(infinite)[0]
        raise ValueError(
            f"Series values must be finite. Received: {int(infinite.sum())} infinite "
            f"value(s), first in column {str(values.columns[column])!r} at {values.index[row]!r}"
        )
    return TimeSeries(
        targets=values[targets].to_numpy(),
        past=values[list(past_covariates)].to_numpy().reshape(len(values), -1),
        future=values[list(future_covariates)].to_numpy().reshape(len(values), -1),
        index=frame.index,
        freq=step,
        names=targets,
    )


def _as_frame(X) -> pd.DataFrame:
    if X is None:
        raise ValueError("No input data. Expected a DataFrame, array or table path. "
                         "Received: X=None")
    if isinstance(X, (str, Path)):
        if Path(X).suffix.lower() not in TABLE_SUFFIXES or not Path(X).is_file():
            raise ValueError(f"Expected an existing table file ending in one of "
                             f"{sorted(TABLE_SUFFIXES)}. Received: X={str(X)!r}")
        frame = read_table(X)
        first = frame.columns[0]
        if first == UNNAMED_INDEX and pd.api.types.is_integer_dtype(frame[first]):
            frame = frame.drop(columns=[first])  # row numbers written by to_csv, not a series
        return frame
    if isinstance(X, pd.Series):
        return X.to_frame(name=X.name if X.name is not None else "y")
    if isinstance(X, pd.DataFrame):
        return X.copy()
    array = np.asarray(X)
    if array.ndim == 1:
        return pd.DataFrame({"y": array})
    if array.ndim == 2:
        return pd.DataFrame(array, columns=[f"y{i}" for i in range(array.shape[1])])
    raise ValueError(f"Expected a 1-D or 2-D array (time, columns). Received: shape={array.shape}")


def _check_not_empty(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"No data: the series is empty. Received: {frame.shape[0]} rows, "
                         f"{frame.shape[1]} columns")
    return frame


def _set_time_index(frame: pd.DataFrame, time_column: str | None) -> pd.DataFrame:
    frame.columns = [str(c) for c in frame.columns]
    if time_column is None and not isinstance(frame.index, pd.DatetimeIndex):
        time_column = _find_time_column(frame)
    if time_column is not None:
        if time_column not in frame.columns:
            raise ValueError(f"Time column not found. Expected one of {list(frame.columns)}. "
                             f"Received: time_column={time_column!r}")
        if pd.api.types.is_numeric_dtype(frame[time_column]):
            # pandas would read numbers as nanoseconds since 1970, whatever their unit.
            raise ValueError(
                f"Column {time_column!r} holds numbers, not dates: convert them first, e.g. "
                f"frame[{time_column!r}] = pd.to_datetime(frame[{time_column!r}], unit='s') "
                "for Unix seconds, or (..., format='%Y%m%d') for 20240131.")
        try:
            times = pd.to_datetime(frame[time_column])
        except (ValueError, TypeError) as error:
            raise ValueError(f"Column {time_column!r} does not hold timestamps: {error}") from error
        frame = frame.drop(columns=[time_column]).set_index(pd.DatetimeIndex(times))
    elif not isinstance(frame.index, pd.DatetimeIndex):
        if not pd.api.types.is_integer_dtype(frame.index):
            raise ValueError("Expected a DatetimeIndex, an integer index or a time column. "
                             f"Received: index of dtype {frame.index.dtype}")
    if frame.index.hasnans:
        raise ValueError("The time index has missing (NaT) timestamps.")
    if not frame.index.is_unique:
        duplicated = frame.index[frame.index.duplicated()][:3].tolist()
        raise ValueError(f"Duplicate timestamps, e.g. {duplicated}.")
    if not frame.index.is_monotonic_increasing:
        raise ValueError("Timestamps must be in increasing order; sort the data first.")
    return frame


def _find_time_column(frame: pd.DataFrame) -> str | None:
    """The column holding the timestamps when none is named: one named as in
    ``TIME_COLUMN_NAMES`` (in another case only if it does not hold numbers), else an
    unnamed first column of dates (the index ``to_csv`` writes), else the only column of
    ``datetime64`` type, else the only non-numeric column if all of it reads as
    distinct, increasing dates (``Month`` of ``1949-01``)."""
    named = next((name for name in TIME_COLUMN_NAMES if name in frame.columns), None)
    if named is not None:  # checked as the time column, numbers refused
        return named
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    by_lower = {c.lower(): c for c in text}  # "Date": only if it does not hold numbers
    named = next((by_lower[name] for name in TIME_COLUMN_NAMES if name in by_lower), None)
    if named is not None:
        return named
    first = frame.columns[0]
    if first == UNNAMED_INDEX and _holds_dates(frame[first]):
        return first
    dates = [c for c in text if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if len(dates) == 1:
        return dates[0]
    return text[0] if len(text) == 1 and _holds_dates(frame[text[0]]) else None


def _holds_dates(column: pd.Series) -> bool:
    """Whether ``column`` is strings that read as distinct, increasing dates (so a text
    category such as "2019"/"2020" repeated over the rows is not taken as the time)."""
    if not column.map(lambda value: isinstance(value, str)).all():
        return False
    with warnings.catch_warnings():  # "could not infer format": a fallback parse per value
        warnings.simplefilter("ignore", UserWarning)
        times = pd.to_datetime(column, errors="coerce")
    return not times.isna().any() and times.is_unique and times.is_monotonic_increasing


def _target_names(frame, target, covariates) -> list[str]:
    if target is None:
        names = [c for c in frame.columns
                 if c not in covariates and pd.api.types.is_numeric_dtype(frame[c])]
    else:
        names = [target] if isinstance(target, str) else list(target)
    if not names:
        raise ValueError("No target column. Expected target= to name numeric columns. "
                         f"Received: target={target!r}, columns={list(frame.columns)}")
    missing = [name for name in names if name not in frame.columns]
    if missing and _array_columns(frame.columns) and _array_columns(names):
        raise ValueError(f"An array's columns are matched by position: the task was fitted on "
                         f"{len(names)} column(s) and this array has {frame.shape[1]}.")
    if missing:
        hint = (" (an array's columns are named 'y' or 'y0', 'y1', ...: pass a DataFrame "
                "with the fitted column names)" if _array_columns(frame.columns)
                else "")
        raise ValueError(f"Target column not found. Expected names among "
                         f"{list(frame.columns)}{hint}. Received: target={target!r}")
    return names


def _array_columns(names) -> bool:
    """Whether ``names`` are the column names :func:`_as_frame` gives an array's columns."""
    columns = list(names)
    return columns == ["y"] or columns == [f"y{k}" for k in range(len(columns))]


def _regularize(frame: pd.DataFrame, freq, fill) -> tuple[pd.DataFrame, str | int]:
    """Check the index is on a regular grid; insert missing steps and fill NaN per ``fill``."""
    index = frame.index
    datetime = isinstance(index, pd.DatetimeIndex)
    if freq is not None and datetime != isinstance(freq, str):
        kinds = ("integer positions", "timestamps")
        raise ValueError(f"The series was fitted on {kinds[isinstance(freq, str)]} (step "
                         f"{freq!r}); this one is indexed by {kinds[datetime]}. Give it the "
                         "same kind of index.")
    fitted_step = freq
    if freq is None:
        freq = _infer_step(index)
    if datetime:
        grid = pd.date_range(index[0], index[-1], freq=freq) if len(index) else index
    else:
        grid = pd.Index(np.arange(index[0], index[-1] + 1, freq)) if len(index) else index
    off_grid = index.difference(grid)
    if len(off_grid):
        raise ValueError(f"Irregular timestamps: {len(off_grid)} are off the regular grid of "
                         f"step {freq!r}, e.g. {off_grid[:3].tolist()}. Resample the data first.")
    missing = grid.difference(index)
    if fitted_step is not None and 2 * len(missing) > len(index):  # fill would invent a third
        own_step = _infer_step(index)
        if _offset(own_step) != _offset(fitted_step):
            raise ValueError(f"The series has step {own_step!r}; the task was fitted on step "
                             f"{fitted_step!r} ({len(missing)} of the {len(grid)} steps of that "
                             f"grid are missing). Resample it to {fitted_step!r} first.")
    if len(missing) and fill is None:
        raise ValueError(f"{len(missing)} missing timestamps on the grid of step {freq!r}, e.g. "
                         f"{missing[:3].tolist()}. Pass fill='ffill', 'interpolate' or 'zero' "
                         "to insert and fill them.")
    frame = frame.reindex(grid)
    if frame.isna().to_numpy().any():
        if fill is None:
            column = frame.columns[frame.isna().any()][0]
            where = frame.index[frame[column].isna()][:3].tolist()
            raise ValueError(f"NaN values in column {column!r}, e.g. at {where}. Pass "
                             "fill='ffill', 'interpolate' or 'zero', or clean the data.")
        if fill == "zero":
            frame = frame.fillna(0.0)
        elif fill == "ffill":
            frame = frame.ffill()
        else:
            frame = frame.interpolate(method="time" if datetime else "linear", limit_area="inside")
        if frame.isna().to_numpy().any():
            leading = frame.iloc[0].isna().any()
            raise ValueError(
                f"fill={fill!r} cannot fill NaN values at the {'start' if leading else 'end'} "
                "of the series" + ("; trim the leading rows." if leading else
                                   " (interpolation needs a value after each gap); trim the "
                                   "trailing rows or pass fill='ffill'."))
    return frame, freq


def _offset(step: str | int):
    """A step in comparable form: ``"h"`` and ``"60min"`` are equal."""
    return pd.tseries.frequencies.to_offset(step) if isinstance(step, str) else step


def _infer_step(index: pd.Index) -> str | int:
    if len(index) < 2:
        raise ValueError(f"A series needs at least 2 time steps. Received: {len(index)} rows")
    if isinstance(index, pd.DatetimeIndex):
        inferred = pd.infer_freq(index) if len(index) >= 3 else None
        if inferred is not None:
            return inferred
        step = pd.Series(index[1:] - index[:-1]).mode().iloc[0]  # a Timedelta
        return pd.tseries.frequencies.to_offset(step).freqstr
    return int(pd.Series(np.diff(index.to_numpy())).mode().iloc[0])
