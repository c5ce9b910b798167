"""Loading never runs code from the files: hostile saved tasks, each with a canary."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from toolkit import Task

CANARY = "toolkit_canary_{}.txt"


@pytest.fixture(scope="module")
def saved_task(tmp_path_factory, tiny_texts, fast_text_params_module):
    texts, labels = tiny_texts
    task = Task("sentiment", **fast_text_params_module).fit(texts, labels)
    return task.save(tmp_path_factory.mktemp("saved") / "task")


@pytest.fixture(scope="module")
def fast_text_params_module():
    from tests.conftest import FAST_TEXT

    return dict(FAST_TEXT)


@pytest.fixture
def copy_of(saved_task, tmp_path):
    target = tmp_path / "hostile"
    shutil.copytree(saved_task, target)
    return target


def _rewrite_config(model_file: Path, edit) -> None:
    """Rewrite ``config.json`` inside a ``.keras`` archive with ``edit(config)``."""
    with zipfile.ZipFile(model_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(model_file, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_the_untouched_task_loads(saved_task, tiny_texts):
    assert Task.load(saved_task).predict(tiny_texts[0][:2]).shape == (2,)


def test_a_lambda_layer_is_refused_and_never_runs(copy_of, tmp_path):
    canary = tmp_path / CANARY.format("lambda")

    # An anonymous function is saved as marshalled bytecode: loading it would run it.
    touch = eval(f"lambda x: (open({str(canary)!r}, 'w').close(), x)[1]")
    inputs = keras.Input((3,))
    evil = keras.Model(inputs, keras.layers.Lambda(touch, output_shape=(3,))(inputs))
    evil.save(copy_of / "model.keras")
    with pytest.raises(ValueError, match="safely"):
        Task.load(copy_of)
    assert not canary.exists()
    # The canary works: an unsafe load rebuilds the function, and using the model runs it.
    unsafe = keras.saving.load_model(copy_of / "model.keras", safe_mode=False)
    unsafe(np.zeros((1, 3), dtype="float32"))
    assert canary.exists()


def test_a_config_naming_an_arbitrary_module_is_refused(copy_of, tmp_path, monkeypatch):
    canary = tmp_path / CANARY.format("module")
    (tmp_path / "toolkit_evil_module.py").write_text(
        f"open({str(canary)!r}, 'w').close()\n"
        "def touch(*args, **kwargs):\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    def point_first_layer_at_the_module(config):
        layer = config["config"]["layers"][1]
        layer.update({"module": "toolkit_evil_module", "class_name": "touch",
                      "registered_name": None})

    _rewrite_config(copy_of / "model.keras", point_first_layer_at_the_module)
    with pytest.raises(ValueError, match="safely"):
        Task.load(copy_of)
    assert not canary.exists()


def test_a_function_reference_in_a_config_is_refused(copy_of, tmp_path, monkeypatch):
    canary = tmp_path / CANARY.format("function")
    (tmp_path / "toolkit_evil_functions.py").write_text(
        f"open({str(canary)!r}, 'w').close()\n"
        "def activation(x):\n    return x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    def set_activation(config):
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Dense":
                layer["config"]["activation"] = {
                    "module": "toolkit_evil_functions", "class_name": "function",
                    "config": "activation", "registered_name": "function"}

    _rewrite_config(copy_of / "model.keras", set_activation)
    with pytest.raises(ValueError, match="safely"):
        Task.load(copy_of)
    assert not canary.exists()


def test_a_truncated_archive_is_a_clear_error(copy_of):
    model_file = copy_of / "model.keras"
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    with pytest.raises(ValueError, match="corrupted"):
        Task.load(copy_of)


def test_a_path_traversal_member_writes_nothing_outside(copy_of, tmp_path):
    name = CANARY.format(f"traversal_{np.random.default_rng().integers(1e9)}")
    with zipfile.ZipFile(copy_of / "model.keras", "a") as archive:
        archive.writestr(f"../../../../{name}", b"escaped")
        archive.writestr(f"/tmp/{name}", b"escaped")
    try:
        Task.load(copy_of)
    except ValueError:
        pass  # refusing the archive is fine too; writing outside is not
    for folder in (tmp_path, tmp_path.parent, copy_of.parent, Path(tempfile.gettempdir()),
                   Path.cwd(), Path("/")):
        assert not (folder / name).exists()


def test_a_vocabulary_pointing_at_a_local_file_is_refused(copy_of, tmp_path):
    vocabulary_file = tmp_path / "vocabulary.txt"
    vocabulary_file.write_text("secret\nwords\n")
    document = json.loads((copy_of / "task.json").read_text())
    document["state"]["vectorizer"]["vocabulary"] = str(vocabulary_file)
    (copy_of / "task.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="vocabulary must be a list of strings"):
        Task.load(copy_of)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.update(extra=1), "unexpected: \\['extra'\\]"),
    (lambda d: d.pop("params"), "Missing: \\['params'\\]"),
    (lambda d: d.update(params=[1]), "'params' must be a JSON dict"),
    (lambda d: d.update(history={"loss": ["x"]}), "list of numbers"),
    (lambda d: d.update(task="os.system"), "task.json. names no known task: Unknown task"),
    (lambda d: d["params"].update(backbone={"module": "os"}), "'backbone' must be a str"),
    (lambda d: d["params"].update(epochs=2.5), "'epochs' must be a int"),
    (lambda d: d.update(format_version=True), "Unsupported saved-task format"),
    (lambda d: d["state"].update(classes=["only"]), "at least two classes"),
    (lambda d: d["state"].update(classes=[["a"], ["b"]]), "distinct and sorted"),
    (lambda d: d["state"]["classes"].reverse(), "distinct and sorted"),  # would swap labels
    (lambda d: d["state"].update(classes=["a", 1]), "mix text and numbers"),
    (lambda d: d["state"].update(classes="ab"), "must be a list"),
    (lambda d: d["params"].update(dropout=5.0), "invalid parameter: dropout must be"),
    (lambda d: d["params"].update(backbone="no_such"), "invalid parameter: Unknown backbone"),
    (lambda d: d["params"].update(backbone="gru"),
     "layer 3 differs: \\(Embedding\\) saved mask_zero=False, parameters give mask_zero=True"),
    (lambda d: d["params"].update(units=5), "was task.json edited"),
    (lambda d: d["params"].update(dropout=0.3), "saved rate=0.4, parameters give rate=0.3"),
    (lambda d: d["params"].pop("units"), "was task.json edited"),
    (lambda d: d["state"]["vectorizer"]["vocabulary"].append("extra"), "vocabulary holds"),
    (lambda d: d["state"]["vectorizer"]["vocabulary"].append(
        d["state"]["vectorizer"]["vocabulary"][-1]), "vocabulary must not repeat"),
])
def test_task_json_is_validated(copy_of, edit, match, tiny_texts):
    document = json.loads((copy_of / "task.json").read_text())
    edit(document)
    (copy_of / "task.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match=match):
        Task.load(copy_of).predict(tiny_texts[0][:1])


def test_legacy_hdf5_models_are_refused(copy_of, tmp_path):
    inputs = keras.Input((3,))
    legacy = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    legacy.save(tmp_path / "legacy.h5")
    with pytest.raises(ValueError, match="legacy HDF5"):
        Task.load(tmp_path / "legacy.h5")
    (copy_of / "model.keras").write_bytes((tmp_path / "legacy.h5").read_bytes())
    with pytest.raises(ValueError, match="legacy HDF5"):
        Task.load(copy_of)


def test_no_pickle_anywhere_in_the_package():
    package = Path(__file__).resolve().parents[2] / "toolkit"
    sources = list(package.rglob("*.py")) + list((package.parent / "tasks").rglob("*.py"))
    offenders = [str(p) for p in sources if any(
        word in p.read_text() for word in ("import pickle", "import dill", "cloudpickle",
                                           "np.load(", "allow_pickle=True"))]
    assert offenders == []
