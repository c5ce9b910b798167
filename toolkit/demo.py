"""``toolkit demo``: train each demo task briefly on embedded data and write its report."""

from __future__ import annotations

import time
from pathlib import Path

from sklearn.model_selection import train_test_split

from toolkit.data.samples import load_digits_sample, load_ner_sample, load_sentiment_sample
from toolkit.task import Task

#: Task name -> (data loader, task parameters). Brief, so the whole demo takes minutes.
DEMOS = {
    "sentiment": (load_sentiment_sample, {"epochs": 8, "batch_size": 16, "learning_rate": 5e-3,
                                          "units": 32, "embedding_dim": 32}),
    "image_classification": (load_digits_sample, {"backbone": "resnet", "epochs": 4}),
    "ner": (load_ner_sample, {"epochs": 10, "units": 32, "embedding_dim": 32, "batch_size": 16,
                              "learning_rate": 5e-3}),
}


def run_demo(names: list[str] | None = None, out: str | Path = "toolkit-demo-output",
             verbose: int = 2) -> dict:
    """Train the demo tasks, print their test metrics, save reports under ``out``.

    Returns
    -------
    dict
        Task name -> test metrics.
    """
    names = names or list(DEMOS)
    unknown = sorted(set(names) - set(DEMOS))
    if unknown:
        raise ValueError(f"No demo for {unknown}. Expected some of {list(DEMOS)}.")
    results = {}
    for name in names:
        load, params = DEMOS[name]
        x, y = load()
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
        print(f"[toolkit demo] {name}: training on {len(x_train)} examples ...", flush=True)
        start = time.perf_counter()
        task = Task(name, seed=0, verbose=verbose, **params).fit(x_train, y_train)
        report = task.evaluate(x_test, y_test)
        folder = report.save(Path(out) / name)
        task.save(Path(out) / name / "model")
        seconds = time.perf_counter() - start
        headline = {k: v for k, v in report.metrics.items() if isinstance(v, float)}
        figures = " ".join(f"{k}={v:.3f}" for k, v in list(headline.items())[:2])
        print(f"[toolkit demo] {name}: {figures} ({seconds:.0f}s); report in {folder}/",
              flush=True)
        results[name] = report.metrics
    return results
