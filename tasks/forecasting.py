"""Time-series forecasting: a history in, the next ``horizon`` steps out (point or quantiles)."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin, clone
import tensorflow as tf

from toolkit.backbones.registry import get_backbone_spec
from toolkit.data.checks import check_finite
from toolkit.data.series import TimeSeries, read_series
from toolkit.evaluation.forecasting import (
    ForecastReport,
    LinearBaseline,
    naive_forecast,
    seasonal_naive_forecast,
    seasonal_scale,
)
from toolkit.heads.forecasting import PinballLoss, forecast_head
from toolkit.preprocessing.series import (
    CALENDAR_FEATURES,
    AddLevel,
    FoldTargets,
    InstanceNormalization,
    SeriesScaler,
    UnfoldTargets,
    calendar_features,
    forecast_windows,
    infer_season,
)
from toolkit.task import Task, register_task
from toolkit.training.least_squares import fit_dense_least_squares
from toolkit.training.replicas import predict_in_batches

NORMALIZATIONS = (None, "last", "mean")
SOLVERS = ("auto", "least_squares", "gradient")
#: ``solver="auto"`` solves in closed form up to this many inputs to the output layer
#: (the solve grows as their cube: about 25 s at 4,096 on two CPU cores).
LEAST_SQUARES_MAX_FEATURES = 4096


@register_task("forecasting")
class ForecastingTask(RegressorMixin, Task):
    """Forecast the next ``horizon`` steps of one or more series from the last ``lookback``.

    Every evaluation states the model's skill against three baselines fitted on the
    same training part and scored on the same windows: ``naive`` (last value),
    ``seasonal_naive`` (last season) and ``linear`` (ridge regression on the lags).

    Parameters
    ----------
    horizon : int
        Steps forecast at once (direct multi-horizon output).
    lookback : int
        Past steps the model sees.
    target : str, list of str or None
        Column(s) to forecast; ``None`` takes every numeric column that is not a
        covariate (all of a NumPy array's columns).
    time_column : str or None
        Column of timestamps; by default a ``DatetimeIndex``, else a column named
        ``date``/``datetime``/``timestamp``/``time``/``ds`` (another case if not
        numbers), else an unnamed first column of dates (``to_csv``'s index), the only
        ``datetime64`` column, or the only text column if it holds distinct, increasing
        dates, else row positions.
    past_covariates : str or list of str, optional
        Columns known only up to the forecast origin (seen in the input window).
    future_covariates : str or list of str, optional
        Columns known ahead (given to ``predict`` as ``future=``), and/or calendar
        features derived from the timestamps: ``"hour"``, ``"dayofweek"``, ``"day"``,
        ``"dayofyear"``, ``"month"``, ``"minute"`` (sin/cos encoded; these names take
        precedence over columns of the same name).
    quantiles : list of float, optional
        E.g. ``[0.1, 0.5, 0.9]``: train with pinball loss and forecast these quantiles;
        reports then give the coverage of the outer interval. They must include 0.5,
        the point forecast.
    backbone : str
        ``toolkit.list_backbones("series")``: ``linear`` (default), ``mlp``, ``lstm``,
        ``gru``, ``cnn`` (TCN).
    normalization : None, "mean" or "last"
        Instance normalisation inside the model: subtract each window's mean (or last
        value) from the targets and add it back to the forecast. On ETTh1 it takes the
        linear model's H=24 MSE from 0.0276 to 0.0264 (the test period sits far below
        the training level).
    channel_independent : bool
        With several targets, forecast each with one shared model (beside all
        covariates) rather than all jointly.
    solver : "auto", "least_squares" or "gradient"
        How ``fit`` trains. A model whose only trainable layer is the output layer (the
        ``linear`` backbone) with a point forecast has a mean-squared-error minimum in
        closed form: ``"least_squares"`` solves it (ridge regression, the penalty chosen
        on the validation windows; Toner & Darlow 2024), in about a second and more
        accurately than gradient descent reaches it. ``"auto"`` (default) does so when
        it applies and the output layer has at most 4,096 inputs (``lookback`` times
        the channels one forecast sees), and trains by gradient otherwise;
        ``"gradient"`` always trains by gradient. ``epochs``, the schedule, ``early_stopping`` and ``callbacks`` apply
        to gradient training only; ``fine_tune`` always trains by gradient.
    units, dropout : int, float
        Width and dropout of the ``mlp``/``lstm``/``gru``/``cnn`` backbones.
    season : int or None
        Season length of the seasonal naive baseline and of MASE; ``None`` infers it
        from the frequency (hourly 24, daily 7, ...) or the autocorrelation.
    fill : None, "ffill", "interpolate" or "zero"
        Policy for missing timestamps and NaN values; ``None`` raises an error naming
        them. Irregular timestamps (off the grid) are always an error.
    epochs, batch_size, learning_rate, schedule, weight_decay, early_stopping, callbacks,
    verbose, seed :
        Training settings, as in :class:`tasks.sentiment.SentimentTask`.
    validation_split : float
        The last share of the series held out (chronologically) for early stopping.

    distribute, precision, jit_compile, steps_per_execution, checkpoint_dir :
        Scale and fault settings every task shares (see ``docs/scaling.md``):
        ``distribute`` is None, ``"mirrored"``, ``"multi_worker"`` or a
        ``tf.distribute.Strategy`` (``batch_size`` is then the global batch);
        ``precision`` is ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``;
        ``jit_compile`` and ``steps_per_execution`` go to ``keras.Model.compile``;
        ``checkpoint_dir`` makes training resume after a crash and keeps the best model.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from toolkit import Task
    >>> index = pd.date_range("2024-01-01", periods=400, freq="h")
    >>> load = pd.DataFrame({"load": np.sin(np.arange(400) * 2 * np.pi / 24)}, index=index)
    >>> task = Task("forecasting", horizon=12, lookback=48, epochs=2, verbose=0, seed=0)
    >>> task.fit(load).predict(load).shape
    (12, 1)
    """

    def __init__(
        self,
        horizon: int = 24,
        lookback: int = 96,
        target: str | list[str] | None = None,
        time_column: str | None = None,
        past_covariates: str | list[str] | None = None,
        future_covariates: str | list[str] | None = None,
        quantiles: list[float] | None = None,
        backbone: str = "linear",
        normalization: str | None = "mean",
        channel_independent: bool = True,
        solver: str = "auto",
        units: int = 64,
        dropout: float = 0.1,
        season: int | None = None,
        fill: str | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        schedule: str = "cosine",
        weight_decay: float = 1e-4,
        validation_split: float = 0.2,
        early_stopping: int | None = 3,
        callbacks: list | None = None,
        verbose: int = 1,
        seed: int | None = None,
        distribute: str | tf.distribute.Strategy | None = None,
        precision: str = "float32",
        jit_compile: bool | str = "auto",
        steps_per_execution: int = 1,
        checkpoint_dir: str | None = None,
    ):
        self.horizon = horizon
        self.lookback = lookback
        self.target = target
        self.time_column = time_column
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
        self.quantiles = quantiles
        self.backbone = backbone
        self.normalization = normalization
        self.channel_independent = channel_independent
        self.solver = solver
        self.units = units
        self.dropout = dropout
        self.season = season
        self.fill = fill
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.weight_decay = weight_decay
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.callbacks = callbacks
        self.verbose = verbose
        self.seed = seed
        self.distribute = distribute
        self.precision = precision
        self.jit_compile = jit_compile
        self.steps_per_execution = steps_per_execution
        self.checkpoint_dir = checkpoint_dir

    # ------------------------------------------------------------- parameters

    def _check_params(self) -> None:
        self._check_settings(positive_ints=("horizon", "lookback", "units"), fractions=("dropout",),
                             flags=("channel_independent",), choices={"solver": SOLVERS},
                             column_names=("time_column",))
        get_backbone_spec(self.backbone, kind="series")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {list(NORMALIZATIONS)}. "
                             f"Received: normalization={self.normalization!r}")
        if self.target is not None:
            _column_names("target", self.target)
        if self.quantiles is not None:
            try:
                levels = np.asarray(self.quantiles, dtype="float64")
            except (TypeError, ValueError):
                levels = None
            if (levels is None or levels.ndim != 1 or not len(levels)
                    or not np.all((levels > 0) & (levels < 1)) or np.any(np.diff(levels) <= 0)):
                raise ValueError("quantiles must be increasing levels in (0, 1), e.g. "
                                 f"[0.1, 0.5, 0.9]. Received: quantiles={self.quantiles!r}")
        if self.season is not None:
            season = self._check_positive_int("season", self.season)
            if season > self.lookback:
                raise ValueError(f"season must be at most lookback={self.lookback} (seasonal "
                                 f"naive repeats the window's last season). Received: "
                                 f"season={season}")

    def _covariates(self, which: str) -> list[str]:
        return _column_names(which, getattr(self, which))

    def _calendar(self) -> list[str]:
        return [name for name in self._covariates("future_covariates") if name in CALENDAR_FEATURES]

    def _future_columns(self) -> list[str]:
        return [n for n in self._covariates("future_covariates") if n not in CALENDAR_FEATURES]

    # ------------------------------------------------------------- reading

    def _read(self, X, y=None, *, training: bool) -> TimeSeries:
        if y is not None:
            raise ValueError("Forecasting reads its targets from X (target= names the "
                             "columns); pass y=None. Received: y of type "
                             f"{type(y).__name__}")
        if isinstance(X, TimeSeries):
            return X
        self._check_params()
        fitted = hasattr(self, "targets_")
        series = read_series(
            X, target=self.targets_ if fitted else self.target, time_column=self.time_column,
            past_covariates=self._covariates("past_covariates"),
            future_covariates=self._future_columns(), fill=self.fill,
            freq=self.freq_ if fitted else None,
        )
        if self._calendar():
            calendar_features(series.index[:1], self._calendar())  # needs timestamps
        return series

    def _read_training(self, X, y, validation_data):
        train, validation = super()._read_training(X, y, validation_data)
        self._check_enough(train, self.lookback + self.horizon, "training")  # fine_tune too
        if validation_data is not None:
            self._check_enough(validation, self.lookback + self.horizon, "validation")
        return train, validation

    def _split_validation(self, train: TimeSeries):
        """The last ``validation_split`` of the series, with ``lookback`` steps of context
        before it; training windows end before its first target step."""
        fraction = self.validation_split
        if fraction is None or fraction == 0:
            return train, None
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise ValueError("validation_split must be a float in [0, 1). "
                             f"Received: validation_split={fraction!r}")
        held_out = int(round(len(train) * fraction))
        if held_out < self.horizon or len(train) - held_out < self.lookback + self.horizon:
            return train, None  # too short to hold out a single window
        boundary = len(train) - held_out
        return train.slice(0, boundary), train.slice(boundary - self.lookback, None)

    # ------------------------------------------------------------- preprocessing

    def fit(self, X, y=None, *, validation_data=None) -> ForecastingTask:
        """Train on the series ``X`` (see :meth:`toolkit.task.Task.fit`); the last
        ``validation_split`` of it, or ``validation_data=(X_val,)`` starting ``lookback``
        steps before its first target, is used for early stopping."""
        return super().fit(X, y, validation_data=validation_data)

    def _fit_preprocessing(self, series: TimeSeries) -> None:
        # In fit, not _check_params: tasks saved before this rule still load and predict.
        if self.quantiles is not None and self._median_index() is None:
            raise ValueError("quantiles must include 0.5: the median is the point forecast "
                             "the metrics score. Received: "
                             f"quantiles={self.quantiles!r}")
        self._check_enough(series, self.lookback + self.horizon, "training")
        self.targets_ = list(series.names)
        self.freq_ = series.freq
        self.scaler_ = SeriesScaler().fit(np.hstack([series.targets, series.past, series.future]))
        scaled = self.scaler_.transform(np.hstack([series.targets, series.past, series.future]))
        self.season_ = (int(self.season) if self.season is not None
                        else infer_season(series.targets, series.freq, self.lookback))
        self.mase_scale_ = seasonal_scale(series.targets, self.season_)
        inputs, targets = forecast_windows(scaled[:, : len(self.targets_)], self.lookback,
                                           self.horizon)
        self.linear_ = LinearBaseline().fit(inputs, targets)

    def _check_enough(self, series: TimeSeries, rows: int, what: str) -> None:
        if len(series) < rows:
            raise ValueError(f"The {what} series is too short: it needs at least {rows} time "
                             f"steps (lookback={self.lookback}, horizon={self.horizon}). "
                             f"Received: {len(series)} steps")

    def _channels(self, series: TimeSeries, calendar_index: pd.Index | None = None):
        """Scaled ``(n, targets + past + future)`` values, then calendar features."""
        raw = np.hstack([series.targets, series.past, series.future])
        calendar = calendar_features(series.index if calendar_index is None else calendar_index,
                                     self._calendar())
        with np.errstate(over="ignore"):  # beyond float32: check_finite names it later
            return np.hstack([self.scaler_.transform(raw), calendar]).astype("float32")

    def _encode(self, series: TimeSeries, origins: np.ndarray | None = None):
        k, p = len(self.targets_), len(self._covariates("past_covariates"))
        values = self._channels(series)
        inputs, ahead = forecast_windows(values, self.lookback, self.horizon, origins)
        model_inputs = {"past": np.ascontiguousarray(inputs)}
        if values.shape[1] > k + p:
            model_inputs["future"] = np.ascontiguousarray(ahead[..., k + p:])
        return model_inputs, np.ascontiguousarray(ahead[..., :k])

    # ------------------------------------------------------------- model

    def _spec(self):
        return get_backbone_spec(self.backbone, kind="series")

    def _recurrent(self) -> bool:
        return self._spec().recurrent

    def _folds(self) -> bool:
        """Whether the model forecasts each target as its own example (FoldTargets)."""
        return bool(self.channel_independent) and len(self.targets_) > 1

    def _build_model(self) -> keras.Model:
        k, lookback, horizon = len(self.targets_), self._size("lookback"), self._size("horizon")
        width = k + len(self._covariates("past_covariates")) + len(self._future_columns())
        future_width = len(self._future_columns()) + 2 * len(self._calendar())
        past = keras.Input(shape=(lookback, width + 2 * len(self._calendar())), name="past")
        inputs = {"past": past}
        future = None
        if future_width:
            future = inputs["future"] = keras.Input(shape=(horizon, future_width), name="future")
        x = past
        if self.normalization is not None:
            x, level = InstanceNormalization(k, self.normalization, name="instance_norm")(x)
        fold = self._folds()
        if fold:
            x = FoldTargets(k, name="fold_targets")(x)
            if future is not None:
                future = FoldTargets(k, targets_in_input=False, name="fold_future")(future)
        backbone = self._spec().builder(input_shape=(lookback, x.shape[-1]),
                                        units=self._size("units"), dropout=self.dropout)
        outputs = forecast_head(backbone(x), horizon=horizon, targets=1 if fold else k,
                                quantiles=self.quantiles, future=future)
        if fold:
            outputs = UnfoldTargets(k, name="unfold_targets")(outputs)
        if self.normalization is not None:
            outputs = AddLevel(name="add_level")([outputs, level])
        return keras.Model(inputs, outputs, name=self.task_name)

    def _loss(self):
        return "mse" if self.quantiles is None else PinballLoss(self.quantiles)

    # ------------------------------------------------------------- training

    def _fit_model(self, train: TimeSeries, validation: TimeSeries | None) -> dict:
        if self.solver == "gradient":
            return super()._fit_model(train, validation)
        # The gradient settings are checked here too: a bad value fails the fit that
        # sets it, not a later fine_tune.
        self._training_stages(fine_tuning=False)
        self._training_settings()
        head = self.model_.get_layer("forecast")
        head_only = {id(w) for w in self.model_.trainable_weights} == {
            id(w) for w in head.trainable_weights}
        if head_only and self.quantiles is None and (
                self.solver == "least_squares"
                or head.kernel.shape[0] <= LEAST_SQUARES_MAX_FEATURES):
            return self._fit_least_squares(head, train, validation)
        if self.solver == "least_squares":
            raise ValueError(
                "solver='least_squares' needs a point forecast (quantiles=None) from a "
                "model whose only trainable layer is the output layer (backbone='linear'). "
                f"Received: backbone={self.backbone!r}, quantiles={self.quantiles!r}; use "
                "solver='auto' or 'gradient'")
        return super()._fit_model(train, validation)

    def _fit_least_squares(self, head, train: TimeSeries, validation: TimeSeries | None) -> dict:
        """Solve the output layer for the minimum of the mean squared error."""
        outputs = [head.input]
        if self.normalization is not None:
            outputs.append(self.model_.get_layer("instance_norm").output[1])
        with self._strategy().scope():
            probe = keras.Model(self.model_.inputs, outputs)
        validation = validation if validation is not None and len(validation) else None
        solved = fit_dense_least_squares(
            *self._head_data(probe, train),
            validation=None if validation is None else self._head_data(probe, validation))
        head.set_weights([solved.kernel.astype(head.kernel.dtype),
                          solved.bias.astype(head.bias.dtype)])
        history = {"loss": [solved.loss]}
        if solved.val_loss is not None:
            history["val_loss"] = [solved.val_loss]
        if self.verbose:
            validated = "" if validation is None else f", val_loss {solved.val_loss:.4g}"
            print(f"Least squares: loss {solved.loss:.4g}{validated} (ridge penalty "
                  f"{solved.penalty:g})", flush=True)
        return history

    def _head_data(self, probe: keras.Model, series: TimeSeries):
        """The output layer's inputs on ``series``' windows and the outputs that would
        give its targets (the level taken out, laid out as the layers after it read)."""
        inputs, targets = self._training_arrays(series)
        features = predict_in_batches(probe, inputs, batch_size=256)
        level = 0.0
        if self.normalization is not None:
            features, level = features
        offsets = (targets - level).astype("float32")
        if self._folds():  # one row per target, as the model's own fold lays them out
            offsets = keras.ops.convert_to_numpy(self.model_.get_layer("fold_targets")(offsets))
        return features, offsets.reshape(len(features), -1)

    # ------------------------------------------------------------- forecasting

    def _median_index(self) -> int | None:
        """The position of the 0.5 level in ``quantiles``, or ``None`` without one."""
        found = np.flatnonzero(np.isclose(np.asarray(self.quantiles, dtype="float64"), 0.5))
        return int(found[0]) if len(found) else None

    def _predict_scaled(self, inputs: dict) -> np.ndarray:
        check_finite(inputs, "inputs")  # values far beyond the training range overflow
        return predict_in_batches(self.model_, inputs, batch_size=max(self.batch_size, 256))

    def _unscale(self, values: np.ndarray) -> np.ndarray:
        """Scaled target values with targets on axis 2 -> the data's units."""
        return self.scaler_.inverse_transform(values, axis=2,
                                              columns=slice(0, len(self.targets_)))

    def _forecast_windows(self, series: TimeSeries, origins: np.ndarray) -> dict:
        """Model and baseline forecasts (data units) for the windows starting at ``origins``.

        Actual values and the baselines' inputs are cut from the float64 series itself,
        not from the float32 model inputs, so they are exact.
        """
        k = len(self.targets_)
        inputs, _ = self._encode(series, origins)
        outputs = self._predict_scaled(inputs)
        history, actual = forecast_windows(series.targets, self.lookback, self.horizon, origins)
        scaled_history = self.scaler_.transform(history, columns=slice(0, k))
        baselines = {
            "naive": naive_forecast(history, self.horizon),
            "seasonal_naive": seasonal_naive_forecast(history, self.horizon, self.season_),
            "linear": self._unscale(self.linear_.predict(scaled_history)),
        }
        quantile_forecast = None
        point = outputs
        if self.quantiles is not None:
            quantile_forecast = self._unscale(outputs.astype("float64"))
            median = self._median_index()
            if median is None:  # a task saved before quantiles had to include 0.5
                raise ValueError("This task forecasts no 0.5 quantile, so it has no point "
                                 "forecast to score; predict gives its quantiles. Refit with "
                                 f"0.5 among quantiles={self.quantiles!r}.")
            point = outputs[..., median]
        return {
            "actual": np.array(actual),
            "forecast": self._unscale(point.astype("float64")),
            "quantile_forecast": quantile_forecast,
            "baselines": baselines,
        }

    def predict(self, X, future=None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of the history ``X``.

        Parameters
        ----------
        X : DataFrame, array or table path
            The history (at least ``lookback`` steps; only the last are used), with the
            target and past-covariate columns.
        future : DataFrame, optional
            The next ``horizon`` rows of the ``future_covariates`` columns (calendar
            features need nothing).

        Returns
        -------
        pandas.DataFrame
            Indexed by the future timestamps; one column per target, or per target and
            quantile (``"OT_q0.1"``).
        """
        self._check_fitted()
        series = self._read(X, training=False)
        self._check_enough(series, self.lookback, "history")
        history = series.slice(len(series) - self.lookback, None)
        future_index = history.future_index(self.horizon)
        inputs = {"past": self._channels(history)[None]}
        ahead = self._future_inputs(future, future_index)
        if ahead is not None:
            inputs["future"] = ahead[None]
        outputs = self._unscale(self._predict_scaled(inputs))[0]
        if self.quantiles is None:
            columns = list(self.targets_)
        else:
            columns = [f"{name}_q{q:g}" for name in self.targets_ for q in self.quantiles]
        frame = pd.DataFrame(outputs.reshape(self.horizon, -1), index=future_index,
                             columns=columns)
        frame.index.name = series.index.name
        return frame

    def _future_inputs(self, future, future_index) -> np.ndarray | None:
        names = self._future_columns()
        if future is not None and not names:
            raise ValueError("future= is only for future_covariates columns, and this task has "
                             "none (calendar features are derived from the timestamps). "
                             f"Received: future of type {type(future).__name__}")
        if not names and not self._calendar():
            return None
        parts = []
        if names:
            if not isinstance(future, pd.DataFrame) or any(n not in future.columns for n in names):
                raise ValueError(f"predict needs future=DataFrame with the future covariate "
                                 f"columns {names} for the next {self.horizon} steps. "
                                 f"Received: future of type {type(future).__name__}")
            if not all(pd.api.types.is_numeric_dtype(future[n]) for n in names):
                raise ValueError(f"future covariate columns {names} must be numeric, as in the "
                                 f"history. Received: dtypes "
                                 f"{[str(d) for d in future[names].dtypes]}")
            values = future[names].iloc[: self.horizon].to_numpy(dtype="float64")
            if len(values) < self.horizon or not np.isfinite(values).all():
                raise ValueError(f"future must hold {self.horizon} rows of finite values "
                                 f"(no NaN or infinity). Received: {len(future)} rows")
            given = future.index[: self.horizon]
            if (isinstance(given, pd.DatetimeIndex) and isinstance(future_index, pd.DatetimeIndex)
                    and not given.equals(future_index)):
                raise ValueError(f"future must start at the step after the history, "
                                 f"{future_index[0]}, one row per step. Received: rows from "
                                 f"{given[0]} to {given[-1]}")
            offset = len(self.targets_) + len(self._covariates("past_covariates"))
            parts.append(self.scaler_.transform(values, columns=slice(offset, None)))
        parts.append(calendar_features(future_index, self._calendar()))
        return np.hstack(parts).astype("float32")

    def evaluate(self, X, y=None) -> ForecastReport:
        """Forecast every window of ``X`` (stride 1) and compare with the baselines.

        ``X`` must start ``lookback`` steps before the first step to be forecast.
        """
        self._check_fitted()
        series = self._read(X, y, training=True)
        self._check_enough(series, self.lookback + self.horizon, "evaluation")
        origins = np.arange(self.lookback, len(series) - self.horizon + 1)
        report = self._make_report(series, origins, self._forecast_windows(series, origins))
        report.history = dict(getattr(self, "history_", {}) or {})
        return report

    def score(self, X, y=None) -> float:
        """Negative MAE over every window of ``X`` (higher is better, as scikit-learn wants)."""
        return Task.score(self, X, y)

    def _headline_metric(self, report) -> float:
        return -report.metrics["mae"]

    def backtest(self, X, start=None, stride: int = 1, refit: bool | int = False):
        """Rolling-origin evaluation: forecast from each origin ``start, start + stride, ...``.

        Parameters
        ----------
        X : DataFrame, array or table path
            The whole series.
        start : int, float, timestamp or None
            The first origin (the first forecast step): a row position, a share of the
            series (``0.8``), or a timestamp; ``None`` is the last fifth.
        stride : int
            Steps between origins.
        refit : bool or int
            ``False`` forecasts every origin with the fitted model (fitted first on the
            data before ``start`` if it is not fitted yet); ``True`` refits a fresh copy
            on all data before each origin; an int refits every that many origins.

        Returns
        -------
        ForecastReport
            Metrics over all origins, against the baselines; ``report.forecasts`` is a
            long DataFrame (origin, time, step, target, forecast, actual).
        """
        series = self._read(X, training=True)
        stride = self._check_positive_int("stride", stride)
        first = self._origin_position(series, start)
        origins = np.arange(first, len(series) - self.horizon + 1, stride)
        if len(origins) == 0:
            raise ValueError(f"No origin leaves {self.horizon} steps to forecast. Received: "
                             f"start={start!r} in a series of {len(series)} steps")
        if refit is False or refit == 0:
            if not hasattr(self, "model_"):
                self.fit(series.slice(0, first))
            blocks = [(self, origins)]
        else:
            every = 1 if refit is True else self._check_positive_int("refit", refit)
            blocks = []
            for at in range(0, len(origins), every):
                chunk = origins[at: at + every]
                task = clone(self).fit(series.slice(0, chunk[0]))
                blocks.append((task, chunk))
        parts = [task._forecast_windows(series, chunk) for task, chunk in blocks]
        merged = {key: np.concatenate([part[key] for part in parts])
                  for key in ("actual", "forecast")}
        merged["quantile_forecast"] = (None if self.quantiles is None else np.concatenate(
            [part["quantile_forecast"] for part in parts]))
        merged["baselines"] = {name: np.concatenate([part["baselines"][name] for part in parts])
                               for name in parts[0]["baselines"]}
        last = blocks[-1][0]
        report = last._make_report(series, origins, merged)
        report.forecasts = last._long_forecasts(series, origins, merged)
        return report

    def _origin_position(self, series: TimeSeries, start) -> int:
        if start is None:
            position = len(series) - max(len(series) // 5, self.horizon)
        elif isinstance(start, (float, np.floating)):
            if not 0 < start < 1:
                raise ValueError("start as a float is a share of the series, in (0, 1); give "
                                 f"a row position as an int. Received: start={start!r}")
            position = int(round(len(series) * float(start)))
        elif isinstance(start, (int, np.integer)) and not isinstance(start, bool):
            position = int(start)
        else:
            try:
                position = int(series.index.get_loc(pd.Timestamp(start)))
            except (KeyError, ValueError, TypeError) as error:
                raise ValueError("start must be a row position, a share in (0, 1) or a "
                                 f"timestamp of the series. Received: start={start!r}") from error
        minimum = self.lookback + self.horizon
        if position < minimum:
            raise ValueError(f"start must leave at least lookback + horizon = {minimum} steps "
                             f"of history before it. Received: start={start!r} (position "
                             f"{position})")
        return position

    def _make_report(self, series: TimeSeries, origins, forecasts: dict) -> ForecastReport:
        last = int(origins[-1])
        k = len(self.targets_)
        plot_data = {
            "history_index": series.index[last - self.lookback: last],
            "history": series.targets[last - self.lookback: last],
            "future_index": series.index[last: last + self.horizon],
            "actual": forecasts["actual"][-1],
            "forecast": forecasts["forecast"][-1],
            "target_names": self.targets_,
        }
        if forecasts["quantile_forecast"] is not None:
            plot_data.update(lower=forecasts["quantile_forecast"][-1, ..., 0],
                             upper=forecasts["quantile_forecast"][-1, ..., -1],
                             interval_label=f"{self.quantiles[0]:g}–{self.quantiles[-1]:g}")
        return ForecastReport.from_forecasts(
            self.task_name, forecasts["actual"], forecasts["forecast"], forecasts["baselines"],
            std=self.scaler_.std[:k], scale=self.mase_scale_, season=self.season_,
            quantiles=self.quantiles, quantile_forecast=forecasts["quantile_forecast"],
            plot_data=plot_data,
        )

    def _long_forecasts(self, series: TimeSeries, origins, forecasts: dict) -> pd.DataFrame:
        n, horizon, k = forecasts["forecast"].shape
        positions = origins[:, None, None] + np.arange(horizon)[None, :, None]
        positions = np.broadcast_to(positions, (n, horizon, k)).ravel()
        origin_positions = np.broadcast_to(origins[:, None, None], (n, horizon, k)).ravel()
        return pd.DataFrame({
            "origin": series.index[origin_positions],
            "time": series.index[positions],
            "step": np.broadcast_to(np.arange(1, horizon + 1)[None, :, None], (n, horizon, k)).ravel(),
            "target": np.broadcast_to(np.asarray(self.targets_, dtype=object), (n, horizon, k)).ravel(),
            "forecast": forecasts["forecast"].ravel(),
            "actual": forecasts["actual"].ravel(),
        })

    # ------------------------------------------------------------- state

    def _fitted_state(self) -> dict:
        return {
            "targets": self.targets_,
            "freq": self.freq_,
            "scaler": self.scaler_.get_state(),
            "season": self.season_,
            "mase_scale": [float(v) for v in self.mase_scale_],
            "linear": self.linear_.get_state(),
        }

    def _restore_state(self, state: dict) -> None:
        self.targets_ = list(state["targets"])
        self.freq_ = state["freq"]
        self.scaler_ = SeriesScaler.from_state(state["scaler"])
        self.season_ = int(state["season"])
        self.mase_scale_ = np.asarray(state["mase_scale"], dtype="float64")
        self.linear_ = LinearBaseline.from_state(state["linear"])


def _column_names(name: str, value) -> list[str]:
    """``value`` (None, one column name or a list of them) as a list of distinct names."""
    if value is None or isinstance(value, str):
        names = [] if value is None else [value]
    else:
        names = list(value) if isinstance(value, (list, tuple, np.ndarray, pd.Index)) else None
    if names is None or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{name} must be a column name or a list of column names. "
                         f"Received: {name}={value!r}")
    if len(set(names)) < len(names):
        raise ValueError(f"{name} names a column twice. Received: {name}={value!r}")
    return names


__all__ = ["ForecastingTask"]
