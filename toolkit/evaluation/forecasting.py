"""Forecast metrics, the built-in baselines, the forecasting report and its plot.

Arrays of forecasts are ``(windows, horizon, targets)``. Baselines forecast from the
same input windows as the model, so every comparison is on identical windows.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from toolkit.evaluation.report import Report

#: The order baselines appear in reports.
BASELINES = ("naive", "seasonal_naive", "linear")


# ----------------------------------------------------------------------- metrics


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - forecast)))


def mse(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean((actual - forecast) ** 2))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent, ``100 * mean(2|y - f| / (|y| + |f|))`` (0/0 counts as 0)."""
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(actual - forecast), denominator,
                      out=np.zeros_like(denominator, dtype="float64"), where=denominator > 0)
    return float(100 * np.mean(ratio))


def seasonal_scale(history: np.ndarray, season: int) -> np.ndarray:
    """MASE's denominator per target: the in-sample MAE of the seasonal naive forecast,
    ``mean |y_t - y_{t-season}|`` over the training series (Hyndman & Koehler, 2006)."""
    history = np.asarray(history, dtype="float64").reshape(len(history), -1)
    if len(history) <= season:
        return np.full(history.shape[1], np.nan)
    return np.mean(np.abs(history[season:] - history[:-season]), axis=0)


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> float:
    """Mean absolute scaled error, averaged over targets (NaN where a scale is 0)."""
    per_target = np.mean(np.abs(actual - forecast), axis=(0, 1))
    scale = np.asarray(scale, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(scale > 0, per_target / scale, np.nan)
    return float(np.mean(values))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside ``[lower, upper]``."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


def point_metrics(actual, forecast, *, std, scale) -> dict:
    """MAE, MSE, RMSE, sMAPE, MASE in the data's units, and MAE/MSE on the standardised
    scale (each target divided by its training standard deviation)."""
    scaled_error = (actual - forecast) / np.asarray(std)
    return {
        "mae": mae(actual, forecast),
        "mse": mse(actual, forecast),
        "rmse": float(np.sqrt(mse(actual, forecast))),
        "smape": smape(actual, forecast),
        "mase": mase(actual, forecast, scale),
        "mae_scaled": float(np.mean(np.abs(scaled_error))),
        "mse_scaled": float(np.mean(scaled_error**2)),
    }


# ---------------------------------------------------------------------- baselines


def naive_forecast(inputs: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat each window's last value: ``(n, lookback, k)`` -> ``(n, horizon, k)``."""
    return np.repeat(inputs[:, -1:, :], horizon, axis=1)


def seasonal_naive_forecast(inputs: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat each window's last season: ``y_{t+h} = y_{t+h-season*ceil(h/season)}``."""
    lookback = inputs.shape[1]
    if not 1 <= season <= lookback:
        raise ValueError(f"season must be between 1 and lookback={lookback}. "
                         f"Received: season={season!r}")
    positions = lookback - season + np.arange(horizon) % season
    return inputs[:, positions, :]


class LinearBaseline:
    """Ridge regression from the ``lookback`` past values of a target to its next
    ``horizon`` values, one model shared by all targets, on standardised data.

    Examples
    --------
    >>> x = np.sin(np.arange(200) / 3)[:, None]
    >>> from toolkit.preprocessing.series import forecast_windows
    >>> inputs, targets = forecast_windows(x, 12, 3)
    >>> baseline = LinearBaseline().fit(inputs, targets)
    >>> bool(np.abs(baseline.predict(inputs) - targets).max() < 0.01)
    True
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, inputs: np.ndarray, targets: np.ndarray) -> LinearBaseline:
        from sklearn.linear_model import Ridge

        x, y = _per_target(inputs), _per_target(targets)
        ridge = Ridge(alpha=self.alpha).fit(x, y)
        self.coef = ridge.coef_.T  # (lookback, horizon)
        self.intercept = np.atleast_1d(ridge.intercept_)
        return self

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        n, _, targets = inputs.shape
        flat = _per_target(inputs) @ self.coef + self.intercept
        return flat.reshape(n, targets, -1).transpose(0, 2, 1)

    def get_state(self) -> dict:
        return {"alpha": self.alpha, "coef": self.coef.tolist(),
                "intercept": self.intercept.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> LinearBaseline:
        baseline = cls(state["alpha"])
        baseline.coef = np.asarray(state["coef"], dtype="float64")
        baseline.intercept = np.asarray(state["intercept"], dtype="float64")
        return baseline


def _per_target(windows: np.ndarray) -> np.ndarray:
    """``(n, steps, k)`` -> ``(n * k, steps)``: one row per window and target."""
    return windows.transpose(0, 2, 1).reshape(-1, windows.shape[1])


# ------------------------------------------------------------------------- report


class ForecastReport(Report):
    """Model and baseline metrics on the same windows, interval coverage, a forecast plot.

    ``metrics`` holds the model's ``mae``, ``mse``, ``rmse``, ``smape``, ``mase``,
    ``mae_scaled``, ``mse_scaled``, ``relative_mae`` (its MAE over seasonal naive's:
    below 1 beats it), with quantiles ``coverage`` of the outer interval and its
    ``nominal_coverage``; ``baselines`` holds the same for each baseline; ``settings``
    the season, horizon and number of windows.
    """

    @classmethod
    def from_forecasts(cls, task: str, actual: np.ndarray, forecast: np.ndarray,
                       baselines: dict, *, std, scale, season: int, quantiles=None,
                       quantile_forecast: np.ndarray | None = None,
                       plot_data: dict | None = None) -> ForecastReport:
        """Build the report from ``(n, horizon, k)`` arrays in the data's units."""
        reference = mae(actual, baselines["seasonal_naive"])
        metrics = point_metrics(actual, forecast, std=std, scale=scale)
        metrics["relative_mae"] = _ratio(metrics["mae"], reference)
        if quantiles is not None and quantile_forecast is not None:
            lower, upper = quantile_forecast[..., 0], quantile_forecast[..., -1]
            metrics["coverage"] = coverage(actual, lower, upper)
            metrics["nominal_coverage"] = float(quantiles[-1] - quantiles[0])
            metrics["pinball"] = _pinball(actual, quantile_forecast, quantiles)
        metrics["baselines"] = {}
        for name in BASELINES:
            if name in baselines:
                row = point_metrics(actual, baselines[name], std=std, scale=scale)
                row["relative_mae"] = _ratio(row["mae"], reference)
                metrics["baselines"][name] = row
        metrics["settings"] = {"season": int(season), "windows": int(actual.shape[0]),
                               "horizon": int(actual.shape[1]), "targets": int(actual.shape[2])}
        report = cls(task, metrics)
        report.plot_data = plot_data
        return report

    def figures(self) -> dict:
        figures = {}
        if getattr(self, "plot_data", None):
            figures["forecast"] = forecast_plot(**self.plot_data)
        return {**figures, **super().figures()}

    def _markdown_details(self) -> list[str]:
        names = ["mae", "rmse", "smape", "mase", "mse_scaled", "relative_mae"]
        lines = ["", "| model | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        rows = {"model": self.metrics, **self.metrics.get("baselines", {})}
        for label, row in rows.items():
            lines.append(f"| {label} | " + " | ".join(f"{row[n]:.4f}" for n in names) + " |")
        settings = self.metrics.get("settings", {})
        lines += ["", ", ".join(f"{k}={v}" for k, v in settings.items())]
        return lines


def _ratio(value: float, reference: float) -> float:
    return float(value / reference) if reference > 0 else float("nan")


def _pinball(actual, quantile_forecast, quantiles) -> float:
    levels = np.asarray(quantiles, dtype="float64")
    error = actual[..., None] - quantile_forecast
    return float(np.mean(np.maximum(levels * error, (levels - 1) * error)))


def forecast_plot(history_index, history, future_index, actual, forecast, target_names,
                  lower=None, upper=None, interval_label=None) -> Figure:
    """History, forecast, actual values and (optionally) the interval, one panel per target."""
    panels = min(len(target_names), 4)
    figure = Figure(figsize=(8, 2.6 * panels))
    for column in range(panels):
        axes = figure.add_subplot(panels, 1, column + 1)
        axes.plot(history_index, history[:, column], color="0.4", label="history")
        if actual is not None:
            axes.plot(future_index, actual[:, column], color="black", label="actual")
        axes.plot(future_index, forecast[:, column], color="tab:blue", label="forecast")
        if lower is not None:
            axes.fill_between(future_index, lower[:, column], upper[:, column], color="tab:blue",
                              alpha=0.25, label=interval_label or "interval")
        axes.set(title=str(target_names[column]))
        axes.legend(loc="upper left", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
