"""Reports: metrics from scikit-learn, markdown/JSON, files on disk."""

import json

import numpy as np
import pytest

from toolkit.evaluation import ClassificationReport


@pytest.fixture
def report():
    y_true = np.array(["cat", "cat", "dog", "dog", "bird"])
    y_pred = np.array(["cat", "dog", "dog", "dog", "cat"])
    report = ClassificationReport.from_predictions("t", y_true, y_pred,
                                                   classes=["bird", "cat", "dog"])
    report.history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    return report


def test_metrics_match_hand_computation(report):
    assert report.metrics["accuracy"] == pytest.approx(3 / 5)
    assert report.metrics["per_class"]["dog"] == {"precision": pytest.approx(2 / 3),
                                                  "recall": 1.0, "f1": pytest.approx(0.8),
                                                  "support": 2}
    assert report.metrics["confusion_matrix"] == [[0, 1, 0], [0, 1, 1], [0, 0, 2]]
    assert report.metrics["macro_f1"] == pytest.approx((0 + 0.5 + 0.8) / 3)


def test_markdown_json_and_files(report, tmp_path):
    assert "| accuracy | 0.6000 |" in report.to_markdown()
    assert "| dog |" in report.to_markdown()
    assert json.loads(report.to_json())["metrics"]["accuracy"] == pytest.approx(0.6)
    assert len(report.plot()) == 2
    report.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "confusion_matrix.png", "metrics.json", "report.md", "training_curves.png"]
    assert json.loads((tmp_path / "metrics.json").read_text())["accuracy"] == pytest.approx(0.6)


def test_non_finite_metrics_are_written_as_null_so_the_json_stays_valid(report, tmp_path):
    report.metrics["macro_f1"] = float("nan")
    report.metrics["ratio"] = np.float32(np.inf)
    assert json.loads(report.to_json())["metrics"]["macro_f1"] is None
    report.save(tmp_path)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["macro_f1"] is None and saved["ratio"] is None


def test_saving_onto_a_file_is_a_clear_error(report, tmp_path):
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(ValueError, match="saved to a folder, but .* is a file"):
        report.save(tmp_path / "taken")
    with pytest.raises(ValueError, match="Cannot create the folder"):
        report.save(tmp_path / "taken" / "inside")


def test_a_class_absent_from_the_data_is_undefined_not_a_zero_in_macro_f1():
    report = ClassificationReport.from_predictions(
        "sentiment", np.array(["pos"] * 3), np.array(["pos"] * 3), classes=np.array(["neg", "pos"]))
    assert report.metrics["accuracy"] == 1.0 and report.metrics["macro_f1"] == 1.0
    assert report.metrics["per_class"]["neg"] == {"precision": None, "recall": None, "f1": None,
                                                  "support": 0}
    assert "| neg | - | - | - | 0 |" in report.to_markdown()
    # A class that is predicted but never true still counts (its precision is 0).
    missed = ClassificationReport.from_predictions(
        "sentiment", np.array(["pos", "pos"]), np.array(["pos", "neg"]), classes=["neg", "pos"])
    assert missed.metrics["per_class"]["neg"]["precision"] == 0.0
    assert missed.metrics["macro_f1"] == pytest.approx((0 + 2 / 3) / 2)
