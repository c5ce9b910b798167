"""Saving and loading: identical predictions, no pickle, unsafe or damaged files refused."""

import json
import zipfile

import keras
import numpy as np
import pytest

from toolkit import Task


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_texts):
    from conftest import FAST_TEXT

    task = Task("sentiment", **FAST_TEXT).fit(*tiny_texts)
    return task, task.save(tmp_path_factory.mktemp("saved") / "sentiment")


def test_round_trip_predicts_the_same_on_raw_text(saved, tiny_texts):
    task, directory = saved
    loaded = Task.load(directory)
    assert type(loaded) is type(task) and loaded.get_params() == {**task.get_params()}
    np.testing.assert_allclose(loaded.predict_proba(tiny_texts[0]),
                               task.predict_proba(tiny_texts[0]), rtol=1e-6)
    document = json.loads((directory / "task.json").read_text())
    assert document["keras_version"] == keras.__version__ and document["task"] == "sentiment"
    assert sorted(p.name for p in directory.iterdir()) == ["model.keras", "task.json"]


def test_lambda_layer_is_refused(tmp_path, saved):
    _, directory = saved
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "model.keras")
    (tmp_path / "task.json").write_text((directory / "task.json").read_text())
    with pytest.raises(ValueError, match="safely"):
        Task.load(tmp_path)


def test_corrupted_model_file_is_refused(tmp_path, saved):
    _, directory = saved
    (tmp_path / "task.json").write_text((directory / "task.json").read_text())
    (tmp_path / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="Could not load the model"):
        Task.load(tmp_path)


@pytest.mark.parametrize("damage", ["format", "task", "params", "json"])
def test_tampered_task_json_is_refused(tmp_path, saved, damage):
    _, directory = saved
    with zipfile.ZipFile(directory / "model.keras") as source:
        (tmp_path / "model.keras").write_bytes((directory / "model.keras").read_bytes())
        assert source.namelist()
    document = json.loads((directory / "task.json").read_text())
    if damage == "format":
        document["format_version"] = 99
    elif damage == "task":
        document["task"] = "no_such_task"
    elif damage == "params":
        document["params"]["evil"] = "os.system"
    text = "{not json" if damage == "json" else json.dumps(document)
    (tmp_path / "task.json").write_text(text)
    with pytest.raises(ValueError):
        Task.load(tmp_path)


def test_parameters_of_any_annotated_kind_load(tmp_path, tiny_images, fast_image_params):
    # learning_rate is "float | str" (default "auto"), jit_compile "bool | str".
    task = Task("image_classification", **fast_image_params, learning_rate=1e-3,
                jit_compile=False).fit(*tiny_images)
    loaded = Task.load(task.save(tmp_path / "task"))
    assert loaded.learning_rate == 1e-3 and loaded.jit_compile is False
    np.testing.assert_array_equal(loaded.predict(tiny_images[0][:4]), task.predict(tiny_images[0][:4]))


def test_a_parameter_json_cannot_hold_is_named_before_anything_is_written(tmp_path, saved):
    task, _ = saved
    original = task.data_dir
    try:
        task.set_params(data_dir={(0, 0, 0): 0})
        with pytest.raises(ValueError, match="'data_dir' cannot be saved"):
            task.save(tmp_path / "x")
    finally:
        task.set_params(data_dir=original)
    assert not (tmp_path / "x").exists()


def test_missing_directory_and_unfitted_save(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        Task.load(tmp_path / "nothing")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Task("sentiment").save(tmp_path / "x")


def test_numpy_integer_sizes_fit_save_and_load(tmp_path, tiny_texts, fast_text_params):
    # GridSearchCV over np.arange passes NumPy ints; Keras layers and JSON refuse them.
    sizes = {"embedding_dim": np.int64(8), "units": np.int32(4), "max_tokens": np.int64(500),
             "max_length": np.int64(20)}
    task = Task("sentiment", **{**fast_text_params, **sizes}).fit(*tiny_texts)
    loaded = Task.load(task.save(tmp_path / "task"))
    assert loaded.get_params()["embedding_dim"] == 8
    np.testing.assert_array_equal(loaded.predict(tiny_texts[0][:4]), task.predict(tiny_texts[0][:4]))


def test_numeric_labels_keep_their_type_through_saving(tmp_path, tiny_texts, fast_text_params):
    texts, labels = tiny_texts
    numbers = 300 * np.unique(labels, return_inverse=True)[1].astype("int32")
    task = Task("sentiment", **fast_text_params).fit(texts, numbers)
    directory = task.save(tmp_path / "task")
    loaded = Task.load(directory)
    assert loaded.classes_.dtype == np.int32
    assert loaded.predict(texts[:4]).dtype == task.predict(texts[:4]).dtype == np.int32
    document = json.loads((directory / "task.json").read_text())
    for dtype, match in [("object", "class_dtype must name"), ("bool", "class_dtype must name"),
                         ("int8", "cannot hold")]:
        document["state"]["class_dtype"] = dtype
        (directory / "task.json").write_text(json.dumps(document))
        with pytest.raises(ValueError, match=match):
            Task.load(directory)


def test_saving_onto_a_file_is_a_clear_error(tmp_path, saved):
    task, _ = saved
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(ValueError, match="saved to a folder, but .* is a file"):
        task.save(tmp_path / "taken")


def test_other_hdf5_files_in_the_folder_do_not_block_loading(tmp_path, saved, tiny_texts):
    task, directory = saved
    for name in ("model.keras", "task.json"):
        (tmp_path / name).write_bytes((directory / name).read_bytes())
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Dense(1)(inputs)).save_weights(tmp_path / "extra.weights.h5")
    np.testing.assert_array_equal(Task.load(tmp_path).predict(tiny_texts[0][:4]),
                                  task.predict(tiny_texts[0][:4]))
    (tmp_path / "model.keras").unlink()  # only legacy files left: named as such
    keras.Model(inputs, keras.layers.Dense(1)(inputs)).save(tmp_path / "model.h5")
    with pytest.raises(ValueError, match="legacy HDF5"):
        Task.load(tmp_path)


def test_a_pretrained_body_is_compared_as_a_whole(tmp_path):
    # Keras's EfficientNet has one more (weightless) layer when built for ImageNet weights
    # than the weightless rebuild load compares it with; the heads must still match.
    from toolkit.saving import _check_same_model

    def model(extra_layer: bool, units: int = 2) -> keras.Model:
        inputs = keras.Input((4,))
        x = keras.layers.Rescaling(0.5)(inputs) if extra_layer else inputs
        body = keras.Model(inputs, keras.layers.Dense(3)(x), name="body")
        outer = keras.Input((4,))
        return keras.Model(outer, keras.layers.Dense(units)(body(outer)))

    class Loaded:
        def __init__(self, pretrained, rebuilt):
            self.model_, self.rebuilt, self.pretrained = model(True), rebuilt, pretrained

        def _architecture(self):
            return self.rebuilt

        def _pretrained_layer_groups(self):
            return ["block"] if self.pretrained else None

    _check_same_model(Loaded(True, model(False)), tmp_path / "m", tmp_path / "t")
    with pytest.raises(ValueError, match="layer 2 differs: saved Rescaling, parameters give Dense"):
        _check_same_model(Loaded(False, model(False)), tmp_path / "m", tmp_path / "t")
    with pytest.raises(ValueError, match="layer 2 differs: \\(Dense\\) saved weight shapes"):
        _check_same_model(Loaded(True, model(False, units=5)), tmp_path / "m", tmp_path / "t")
