"""The ``toolkit`` command: each subcommand, and one-line errors with non-zero exits."""

from pathlib import Path

import pandas as pd
import pytest

from toolkit.cli import main


@pytest.fixture(scope="module")
def table(tmp_path_factory, tiny_texts):
    path = tmp_path_factory.mktemp("cli") / "train.tsv"
    pd.DataFrame({"sentence": tiny_texts[0], "label": tiny_texts[1]}).to_csv(path, sep="\t",
                                                                           index=False)
    return path


def test_tasks_and_backbones(capsys):
    assert main(["tasks"]) == 0
    assert "sentiment" in capsys.readouterr().out
    assert main(["tasks", "--params"]) == 0
    listing = capsys.readouterr().out
    assert "\nner\n" in listing and "    head='crf'" in listing and "    instances=False" in listing
    assert main(["backbones", "--kind", "vision"]) == 0
    out = capsys.readouterr().out
    assert "squeezenet" in out and "bilstm" not in out


def test_fit_predict_evaluate(tmp_path, table, capsys):
    model = tmp_path / "model"
    assert main(["fit", "sentiment", "--data", str(table), "--backbone", "cnn", "--epochs", "2",
                 "--seed", "0", "--verbose", "0", "--out", str(model)]) == 0
    assert main(["predict", str(model), "the film was wonderful", "the film was awful"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[-2:]
    assert set(lines) <= {"positive", "negative"}
    assert main(["evaluate", str(model), "--data", str(table), "--report", str(tmp_path / "r")]) == 0
    assert "| accuracy |" in capsys.readouterr().out
    assert (tmp_path / "r" / "metrics.json").is_file()
    assert main(["predict", str(model), "text", "--out", str(tmp_path / "p")]) == 2
    assert "--out writes segmentation masks" in capsys.readouterr().err
    assert main(["predict", str(model), "text", "--min-score", "0.5"]) == 2
    assert "--min-score filters detected boxes" in capsys.readouterr().err
    # An empty text is a text (the model's baseline prediction), not the folder ".".
    assert main(["predict", str(model), ""]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] in {"positive", "negative"}


def test_ner_from_a_conll_file_predicts_entities_as_json(tmp_path, capsys):
    import json
    from pathlib import Path

    conll = Path(__file__).resolve().parents[1] / "fixtures" / "conll_sample.txt"
    model = tmp_path / "ner"
    assert main(["fit", "ner", "--data", str(conll), "--epochs", "1", "--validation-split", "0",
                 "--seed", "0", "--verbose", "0", "--out", str(model)]) == 0
    assert main(["predict", str(model), "Alice visited Paris.", "Rain fell"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[-2:]
    for text, line in zip(["Alice visited Paris.", "Rain fell"], lines):
        for entity in json.loads(line):
            assert text[entity["start"]:entity["end"]] == entity["text"]
    # Options for other tasks are refused for raw texts too, not silently ignored.
    assert main(["predict", str(model), "Rain fell", "--out", str(tmp_path / "masks")]) == 2
    assert "--out writes segmentation masks" in capsys.readouterr().err
    assert main(["evaluate", str(model), "--data", str(conll)]) == 0
    assert "| f1 |" in capsys.readouterr().out


def test_bad_input_is_one_line_and_nonzero(tmp_path, table, capsys):
    assert main(["fit", "sentiment", "--data", str(table), "--backbone", "nope",
                 "--out", str(tmp_path / "m")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("toolkit: error:") and "nope" in error and "\n" not in error
    assert main(["fit", "sentiment", "--data", str(table), "--weights", "x.h5",
                 "--out", str(tmp_path / "m")]) == 2
    assert "--weights" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "none"), "text"]) == 2
    occupied = tmp_path / "a_file"
    occupied.write_text("")
    assert main(["fit", "sentiment", "--data", str(table), "--out", str(occupied)]) == 2
    assert "--out must name a folder" in capsys.readouterr().err
    assert main(["demo", "sentiment", "--out", str(occupied)]) == 2  # refused before training
    assert "--out must name a folder" in capsys.readouterr().err



def test_any_task_parameter_can_be_set_with_param(tmp_path, table, capsys, monkeypatch):
    from tasks.sentiment import SentimentTask

    seen = {}

    def record(self, X, y=None, **kwargs):
        seen.update(self.get_params())
        raise ValueError("stop before training")

    monkeypatch.setattr(SentimentTask, "fit", record)
    argv = ["fit", "sentiment", "--data", str(table), "--out", str(tmp_path / "m"),
            "--param", "dropout=0.5", "--param", "early_stopping=None",
            "--param", "schedule=onecycle", "--param", "units=[1]"]
    assert main(argv) == 2
    assert seen["dropout"] == 0.5 and seen["early_stopping"] is None
    assert seen["schedule"] == "onecycle" and seen["units"] == [1]
    capsys.readouterr()
    for bad, message in [("nope=1", "has no parameter 'nope'. Expected one of"),
                         ("dropout", "--param expects NAME=VALUE"),
                         ("epochs=2", "'epochs' is given twice"),
                         ("x=__import__('os')", "has no parameter 'x'")]:
        assert main(["fit", "sentiment", "--data", str(table), "--epochs", "1",
                     "--out", str(tmp_path / "m"), "--param", bad]) == 2
        assert message in capsys.readouterr().err


def test_a_param_value_that_is_not_a_literal_stays_text_and_is_never_run():
    from toolkit.cli import _parse_params
    from toolkit.task import Task

    task = Task("sentiment")
    params = _parse_params(["text_column=__import__('os').getcwd()", "epochs=3"], task,
                           given={})
    assert params == {"text_column": "__import__('os').getcwd()", "epochs": 3}


def test_a_param_that_takes_only_text_keeps_a_number_as_text():
    from toolkit.cli import _parse_params
    from toolkit.task import Task

    params = _parse_params(["text_column=2024", "label_column=None", "dropout=0.25"],
                           Task("sentiment"), given={})
    assert params == {"text_column": "2024", "label_column": None, "dropout": 0.25}


def test_segmentation_predict_prints_class_shares_and_writes_masks(tmp_path, capsys):
    import json

    import numpy as np
    from PIL import Image

    from toolkit import Task

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (6, 16, 16, 3)).astype("uint8")
    masks = (images[..., 0] > 127).astype("int32")
    task = Task("segmentation", epochs=1, batch_size=4, image_size=16, validation_split=0,
                verbose=0, seed=0, class_names=["sky", "tree"]).fit(images, masks)
    task.save(tmp_path / "model")
    folder = tmp_path / "photos"
    folder.mkdir()
    for index, image in enumerate(images[:2]):
        Image.fromarray(image).save(folder / f"photo{index}.png")
    expected = task.predict(str(folder))
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "model"), str(folder), "--out", str(tmp_path / "m")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()[-2:]]
    for index, line in enumerate(lines):
        assert line["input"].endswith(f"photo{index}.png") and line["shape"] == [16, 16]
        assert set(line["class_fractions"]) <= {"sky", "tree"}
        assert abs(sum(line["class_fractions"].values()) - 1) < 1e-3
        np.testing.assert_array_equal(np.array(Image.open(line["mask"])), expected[index])
    assert main(["predict", str(tmp_path / "model"), str(folder / "photo0.png")]) == 0
    assert "mask" not in json.loads(capsys.readouterr().out.strip().splitlines()[-1])



def test_segmentation_from_a_table_of_image_mask_paths(tmp_path, capsys):
    import json

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    (tmp_path / "set" / "img").mkdir(parents=True)
    (tmp_path / "set" / "ann").mkdir()
    rows = ["photo,annotation"]
    for index, image in enumerate(rng.integers(0, 255, (6, 16, 16, 3)).astype("uint8")):
        Image.fromarray(image).save(tmp_path / "set" / "img" / f"p{index}.png")
        Image.fromarray((image[..., 0] > 127).astype("uint8")).save(
            tmp_path / "set" / "ann" / f"p{index}.png")
        rows.append(f"img/p{index}.png,ann/p{index}.png")
    table = tmp_path / "set" / "pairs.csv"
    table.write_text("\n".join(rows) + "\n")
    model = str(tmp_path / "model")
    assert main(["fit", "segmentation", "--data", str(table), "--label-column", "annotation",
                 "--epochs", "1", "--image-size", "16", "--verbose", "0", "--out", model]) == 0
    assert main(["evaluate", model, "--data", str(table)]) == 0
    assert "mean_iou" in capsys.readouterr().out
    assert main(["predict", model, str(table), "--out", str(tmp_path / "masks")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line["input"] for line in lines] == [
        str(tmp_path / "set" / "img" / f"p{index}.png") for index in range(6)]
    assert all(Path(line["mask"]).is_file() and line["shape"] == [16, 16] for line in lines)


def test_a_reader_that_stops_early_is_not_an_error():
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # as `toolkit backbones | head -1` once head has exited
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from toolkit.cli import main; "
                               "sys.exit(main(['backbones', '--kind', 'audio']))"],
        stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert result.returncode == 141 and "Broken pipe" not in result.stderr
    assert "Exception ignored" not in result.stderr

def test_a_diverged_fit_is_one_line_too(tmp_path, table, capsys, monkeypatch):
    from tasks.sentiment import SentimentTask

    def diverge(self, *args, **kwargs):
        raise FloatingPointError("Training diverged: the loss became NaN")

    monkeypatch.setattr(SentimentTask, "fit", diverge)
    assert main(["fit", "sentiment", "--data", str(table), "--out", str(tmp_path / "d")]) == 2
    error = capsys.readouterr().err.strip()
    assert error == "toolkit: error: Training diverged: the loss became NaN"
    assert not (tmp_path / "d").exists()


def test_help_for_each_command(capsys):
    for command in ("fit", "predict", "evaluate", "demo", "tasks", "backbones"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
    assert "--data" in capsys.readouterr().out
