"""ETTh1: forecast oil temperature (OT) 24 and 96 hours ahead, and all 7 columns 96 hours ahead.

The standard protocol: 12/4/4 months train/validation/test (8640/2880/2880 hourly
rows), lookback 96, every test window (stride 1), MSE and MAE on data standardised with
the training part's mean and standard deviation. Default settings of
``Task("forecasting")`` (its ``linear`` model solved in closed form, so ``--quick``'s
fewer epochs change nothing; docs/tasks/forecasting.md gives it trained by gradient);
``relmae_h*`` is the test MAE over seasonal naive's on the same windows (< 1 beats it).
Run from the repo root: ``python benchmarks/forecast_ett.py``.
"""

import pandas as pd
from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task

LOOKBACK = 96
TRAIN, VALIDATION, TEST = 12 * 30 * 24, 4 * 30 * 24, 4 * 30 * 24
DLINEAR_MULTIVARIATE_H96 = 0.375  # published, lookback 336


def run(frame, horizon, target, seed, epochs):
    """Fit on the training months (early stopping on validation), score the test months."""
    first_test = TRAIN + VALIDATION
    train = frame.iloc[:TRAIN]
    validation = frame.iloc[TRAIN - LOOKBACK: first_test]  # lookback steps of context
    test = frame.iloc[first_test - LOOKBACK: first_test + TEST]
    params = {} if epochs is None else {"epochs": epochs}
    task = Task("forecasting", horizon=horizon, lookback=LOOKBACK, target=target, seed=seed,
                verbose=0, **params)
    with Timer() as timer:
        task.fit(train, validation_data=(validation,))
    report = task.evaluate(test)
    windows = (TRAIN - LOOKBACK - horizon + 1) * len(task.targets_)
    return task, report.metrics, timer.seconds, windows * len(task.history_["loss"])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    frame = pd.read_csv(shared_dir("data") / "ett" / "ETTh1.csv")
    epochs = 3 if args.quick else None
    fields, seconds, windows_seen = {}, 0.0, 0
    with Timer() as total:
        for name, horizon, target in (("h24", 24, "OT"), ("h96", 96, "OT"),
                                      ("multivariate_h96", 96, None)):
            task, metrics, fit_seconds, seen = run(frame, horizon, target, args.seed, epochs)
            seconds, windows_seen = seconds + fit_seconds, windows_seen + seen
            if name != "multivariate_h96":
                fields[f"relmae_{name}"] = metrics["relative_mae"]
            fields[f"mse_{name}"] = metrics["mse_scaled"]
            fields[f"mae_{name}"] = metrics["mae_scaled"]
            for baseline, row in metrics["baselines"].items():
                fields[f"{baseline}_mse_{name}"] = row["mse_scaled"]
                fields[f"{baseline}_mae_{name}"] = row["mae_scaled"]
            fields[f"epochs_run_{name}"] = len(task.history_["loss"])
            fields["season"] = metrics["settings"]["season"]
            print(f"[forecast_ett] {name}: mse={metrics['mse_scaled']:.4f} "
                  f"mae={metrics['mae_scaled']:.4f} relmae={metrics['relative_mae']:.4f} "
                  f"({fit_seconds:.0f}s)", flush=True)
    emit("forecast_ett", **fields, dlinear_published_mse_multivariate_h96=DLINEAR_MULTIVARIATE_H96,
         seconds=total.seconds, fit_seconds=seconds,
         windows_per_second=windows_seen / seconds, quick=args.quick,
         backbone=task.backbone, normalization=task.normalization, solver=task.solver,
         lookback=LOOKBACK,
         epochs=task.epochs, batch_size=task.batch_size, learning_rate=task.learning_rate,
         seed=args.seed)


if __name__ == "__main__":
    main()
