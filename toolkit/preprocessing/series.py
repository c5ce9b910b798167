"""Series preprocessing: scaling, sliding windows, calendar features, and in-model layers.

Two normalisations work together. :class:`SeriesScaler` standardises each column with
statistics of the training part only (its state goes to ``task.json``). Inside the
model, :class:`InstanceNormalization` subtracts each window's own level (its last value
or its mean) from the target channels and :class:`AddLevel` adds it back to the
forecast, so a model trained on one level forecasts well at another (RevIN / NLinear:
ETTh1's test period sits far below the training mean).
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
from keras import ops

from toolkit.backbones.registry import serializable

#: Calendar features a ``future_covariates`` entry may name: attribute -> period.
CALENDAR_FEATURES = {"minute": 60, "hour": 24, "dayofweek": 7, "day": 31, "dayofyear": 366,
                     "month": 12}
#: Season length implied by a pandas frequency (the cycle one period up).
_SEASON_OF_FREQ = {"min": 60, "h": 24, "D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12,
                   "Q": 4, "QS": 4, "QE": 4, "s": 60}


class SeriesScaler:
    """Per-column standardisation ``(x - mean) / std``; constant columns get ``std=1``.

    Examples
    --------
    >>> scaler = SeriesScaler().fit(np.array([[1.0], [3.0]]))
    >>> scaler.inverse_transform(scaler.transform(np.array([[5.0]])))
    array([[5.]])
    """

    def fit(self, values: np.ndarray) -> SeriesScaler:
        with np.errstate(over="ignore", invalid="ignore"):
            self.mean = np.mean(values, axis=0)
            std = np.std(values, axis=0)
        overflow = ~(np.isfinite(self.mean) & np.isfinite(std))
        if overflow.any():
            raise ValueError(
                "The series values are too large to standardise: the mean or standard "
                f"deviation of column {int(np.argmax(overflow))} overflows float64. "
                "Rescale the data (e.g. divide by a constant) first."
            )
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, values: np.ndarray, columns: slice = slice(None)) -> np.ndarray:
        """Standardise ``values``, whose last axis holds the fitted ``columns``."""
        return (values - self.mean[columns]) / self.std[columns]

    def inverse_transform(self, values: np.ndarray, axis: int = -1,
                          columns: slice = slice(None)) -> np.ndarray:
        """Undo :meth:`transform`; the fitted ``columns`` lie on ``axis`` of ``values``."""
        shape = [1] * values.ndim
        shape[axis] = -1
        return values * self.std[columns].reshape(shape) + self.mean[columns].reshape(shape)

    def get_state(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> SeriesScaler:
        scaler = cls()
        scaler.mean = np.asarray(state["mean"], dtype="float64")
        scaler.std = np.asarray(state["std"], dtype="float64")
        return scaler


def make_windows(values: np.ndarray, length: int, starts: np.ndarray | None = None) -> np.ndarray:
    """Windows ``values[s : s + length]`` for each start ``s`` (all starts by default).

    The same windows ``keras.utils.timeseries_dataset_from_array(values, None, length)``
    yields, as one strided NumPy array (a view, no copy), so inputs and targets are cut
    from the same positions by construction.

    Examples
    --------
    >>> make_windows(np.arange(5), 3)
    array([[0, 1, 2],
           [1, 2, 3],
           [2, 3, 4]])
    """
    windows = np.lib.stride_tricks.sliding_window_view(values, length, axis=0)
    if values.ndim == 2:  # (n, length, channels), not numpy's (n, channels, length)
        windows = np.moveaxis(windows, -1, 1)
    return windows if starts is None else windows[starts]


def forecast_windows(values: np.ndarray, lookback: int, horizon: int,
                     origins: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``values[t - lookback : t]`` and targets ``values[t : t + horizon]``.

    ``origins`` are the positions ``t`` of the first forecast step; by default every
    ``t`` from ``lookback`` to ``len(values) - horizon``. An input window always ends
    where its target window starts, so no future value reaches an input.
    """
    if origins is None:
        origins = np.arange(lookback, len(values) - horizon + 1)
    origins = np.asarray(origins, dtype=int)
    return (make_windows(values, lookback, origins - lookback),
            make_windows(values, horizon, origins))


def calendar_features(index: pd.Index, names: list[str]) -> np.ndarray:
    """``sin``/``cos`` of each named calendar attribute of ``index``: ``(n, 2 * len(names))``."""
    if names and not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"Calendar covariates {names} need timestamps (a DatetimeIndex or "
                         "time_column=).")
    columns = []
    for name in names:
        angle = 2 * np.pi * np.asarray(getattr(index, name), dtype="float64") / CALENDAR_FEATURES[name]
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(index), 0))


def infer_season(values: np.ndarray, freq: str | int, max_season: int) -> int:
    """Season length from the frequency (hourly -> 24, daily -> 7, ...), else from the
    autocorrelation of the (linearly detrended) series; ``1`` when there is none.

    Only seasons up to ``max_season`` (the lookback) are usable by seasonal naive.
    """
    if isinstance(freq, str):
        offset = pd.tseries.frequencies.to_offset(freq)
        base = offset.rule_code.split("-")[0]
        season = _SEASON_OF_FREQ.get(base)
        if season is not None:
            if base in ("min", "s") and offset.n > 1:
                season = 24 * 60 // offset.n if base == "min" else 60 // offset.n
            if 1 < season <= max_season:
                return int(season)
    return _season_from_autocorrelation(values, max_season)


def _season_from_autocorrelation(values: np.ndarray, max_season: int) -> int:
    series = np.asarray(values, dtype="float64").reshape(len(values), -1).mean(axis=1)
    max_lag = min(max_season, len(series) // 2)
    if max_lag < 2:
        return 1
    steps = np.arange(len(series))
    series = series - np.polyval(np.polyfit(steps, series, 1), steps)
    variance = np.dot(series, series)
    if variance <= 1e-12 * len(series):
        return 1
    acf = np.array([np.dot(series[:-lag], series[lag:]) / variance for lag in range(1, max_lag + 1)])
    peaks = [lag for lag in range(2, max_lag) if acf[lag - 1] >= acf[lag - 2] and acf[lag - 1] > acf[lag]]
    peaks = [lag for lag in peaks if acf[lag - 1] > 0.3]
    return max(peaks, key=lambda lag: acf[lag - 1]) if peaks else 1


# ------------------------------------------------------------------ in-model layers


@serializable
class InstanceNormalization(keras.layers.Layer):
    """Subtract each window's level from its first ``targets`` channels.

    Called on ``(batch, steps, channels)``; returns ``(normalised, level)`` with
    ``level`` of shape ``(batch, 1, targets)`` for :class:`AddLevel`.

    Parameters
    ----------
    targets : int
        How many leading channels are targets (covariates pass through unchanged).
    mode : str
        ``"last"`` (the last input value, NLinear) or ``"mean"`` (the window mean).
    """

    MODES = ("last", "mean")

    def __init__(self, targets: int = 1, mode: str = "last", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}. Received: mode={mode!r}")
        self.targets = targets
        self.mode = mode

    def call(self, inputs):
        series = inputs[..., : self.targets]
        if self.mode == "last":
            level = series[:, -1:, :]
        else:
            level = ops.mean(series, axis=1, keepdims=True)
        normalised = ops.concatenate([series - level, inputs[..., self.targets:]], axis=-1)
        return normalised, level

    def compute_output_shape(self, input_shape):
        return input_shape, (input_shape[0], 1, self.targets)

    def get_config(self):
        return {**super().get_config(), "targets": self.targets, "mode": self.mode}


@serializable
class AddLevel(keras.layers.Layer):
    """Add the level taken by :class:`InstanceNormalization` back to the forecast.

    Called on ``[forecast, level]``: ``forecast`` is ``(batch, horizon, targets)`` or
    ``(batch, horizon, targets, quantiles)``, ``level`` is ``(batch, 1, targets)``.
    """

    def call(self, inputs):
        forecast, level = inputs
        if len(forecast.shape) == 4:
            level = ops.expand_dims(level, -1)
        return forecast + ops.cast(level, forecast.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@serializable
class FoldTargets(keras.layers.Layer):
    """``(batch, steps, targets + covariates)`` -> ``(batch * targets, steps, 1 + covariates)``.

    Each target becomes its own example, with every covariate beside it: one model with
    shared weights forecasts every target (channel independence, as in DLinear and
    PatchTST). A ``(batch, steps, f)`` input without targets (``targets_in_input=False``,
    the future covariates) is repeated once per target instead.
    """

    def __init__(self, targets: int = 1, targets_in_input: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.targets = targets
        self.targets_in_input = targets_in_input

    def call(self, inputs):
        steps = inputs.shape[1]
        covariates = inputs[..., self.targets:] if self.targets_in_input else inputs
        width = covariates.shape[-1]
        repeated = ops.repeat(ops.expand_dims(covariates, 1), self.targets, axis=1)
        repeated = ops.reshape(repeated, (-1, steps, width))
        if not self.targets_in_input:
            return repeated
        series = ops.transpose(inputs[..., : self.targets], (0, 2, 1))
        series = ops.reshape(series, (-1, steps, 1))
        return ops.concatenate([series, repeated], axis=-1)

    def compute_output_shape(self, input_shape):
        width = input_shape[-1] - self.targets + 1 if self.targets_in_input else input_shape[-1]
        return (None, input_shape[1], width)

    def get_config(self):
        return {**super().get_config(), "targets": self.targets,
                "targets_in_input": self.targets_in_input}


@serializable
class UnfoldTargets(keras.layers.Layer):
    """Undo :class:`FoldTargets` on forecasts: ``(batch * targets, horizon, 1, ...)`` ->
    ``(batch, horizon, targets, ...)``."""

    def __init__(self, targets: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.targets = targets

    def call(self, inputs):
        horizon, rest = inputs.shape[1], tuple(inputs.shape[3:])
        unfolded = ops.reshape(inputs, (-1, self.targets, horizon, *rest))
        return ops.moveaxis(unfolded, 1, 2)

    def compute_output_shape(self, input_shape):
        return (None, input_shape[1], self.targets, *input_shape[3:])

    def get_config(self):
        return {**super().get_config(), "targets": self.targets}
