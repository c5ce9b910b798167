"""Image classification: bad input, folders and files, real MNIST, real transfer learning."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from toolkit import Task
from toolkit.data.idx import read_idx


@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((4, 8)), "shape"),
        (np.zeros((4, 8, 8, 2)), "channels"),
        (np.full((4, 8, 8), np.nan), "NaN"),
        (np.zeros((4, 0, 8, 3)), "no pixels"),
        ([np.zeros((8, 8, 3)), np.zeros((9, 9, 3)), np.zeros((8, 8, 3)), np.zeros((8, 8, 3))],
         "one shape"),
        ("/no/such/folder", "No such image folder"),
        ([], "No images. Received: an empty X"),
    ],
)
def test_bad_images_are_named(images, match, fast_image_params):
    with pytest.raises(ValueError, match=match):
        Task("image_classification", **fast_image_params).fit(images, [0, 1, 0, 1])


def test_a_single_image_is_not_read_as_a_batch_of_rows(tiny_images, fast_image_params):
    task = Task("image_classification", **fast_image_params).fit(*tiny_images)
    one = np.zeros((16, 16, 3), "uint8")
    with pytest.raises(ValueError, match=r"single \(height, width, channels\) image"):
        task.predict(one)
    assert task.predict(one[None]).shape == (1,)


@pytest.mark.parametrize("params, match", [({"dropout": 1.5}, "dropout"),
                                           ({"fine_tuning": "partial"}, "fine_tuning")])
def test_bad_parameters_are_named(params, match, tiny_images, fast_image_params):
    with pytest.raises(ValueError, match=match):
        Task("image_classification", **{**fast_image_params, **params}).fit(*tiny_images)


def test_fractional_labels_are_refused_as_a_regression_target(tiny_images, fast_image_params):
    images, labels = tiny_images
    with pytest.raises(ValueError, match="fractional numbers are a regression target"):
        Task("image_classification", **fast_image_params).fit(images, labels * 0.5 + 0.1)


@pytest.mark.parametrize("image_size", [-5, 0, (32, 0), "32"])
def test_bad_image_size_is_named(image_size, tiny_images, fast_image_params):
    with pytest.raises(ValueError, match="image_size"):
        Task("image_classification", **fast_image_params, image_size=image_size).fit(*tiny_images)


def test_weights_on_a_backbone_without_pretrained_weights(tiny_images, fast_image_params):
    with pytest.raises(ValueError, match="pretrained"):
        Task("image_classification", weights="w.h5", **fast_image_params).fit(*tiny_images)


def test_grey_images_become_rgb_for_a_backbone_that_normalises_per_colour(tiny_images):
    # SqueezeNet subtracts one ImageNet mean per RGB channel ("caffe"), even untrained.
    images, labels = tiny_images
    task = Task("image_classification", backbone="squeezenet", image_size=64, epochs=1,
                batch_size=32, verbose=0, seed=0).fit(images, labels)
    assert task.channels_ == 3 and task.predict(images[:4]).shape == (4,)


def test_folder_and_file_inputs_round_trip(tmp_path, tiny_images, fast_image_params):
    images, labels = tiny_images
    for index, (image, label) in enumerate(zip(images[:24], labels[:24])):
        folder = tmp_path / "data" / f"digit_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.kron(image, np.ones((2, 2), "uint8"))).convert("RGB").save(
            folder / f"{index}.png")
    task = Task("image_classification", image_size=16, **fast_image_params).fit(
        str(tmp_path / "data"))
    assert list(task.classes_) == ["digit_0", "digit_1"] and task.image_size_ == (16, 16)
    files = sorted(str(p) for p in (tmp_path / "data").rglob("*.png"))[:3]
    task.save(tmp_path / "model")
    loaded = Task.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict(files), task.predict(files))
    np.testing.assert_array_equal(task.predict(np.array(files)), task.predict(files))
    flat = sorted(str(p) for p in (tmp_path / "data" / "digit_0").glob("*.png"))
    np.testing.assert_array_equal(task.predict(str(tmp_path / "data" / "digit_0")),
                                  task.predict(flat))   # a flat folder: label its images
    with pytest.raises(ValueError, match="not found"):
        task.predict([str(tmp_path / "missing.png")])
    with pytest.raises(ValueError, match="class subfolders, carries its own labels"):
        task.score(str(tmp_path / "data"), labels[:24])  # the folder names are the labels
    # One path alone, or paths in a Series, are images as a list of them is.
    np.testing.assert_array_equal(task.predict(pd.Series(files)), task.predict(files))
    np.testing.assert_array_equal(task.predict(files[0]), task.predict(files[:1]))


def test_a_table_of_image_paths(tmp_path, tiny_images, fast_image_params):
    images, labels = tiny_images
    (tmp_path / "png").mkdir()
    names = []
    for index, image in enumerate(images[:24]):
        Image.fromarray(np.kron(image, np.ones((2, 2), "uint8"))).save(
            tmp_path / "png" / f"{index}.png")
        names.append(f"png/{index}.png")
    # Paths relative to the table's folder, as a dataset's manifest lists them.
    pd.DataFrame({"image": names, "digit": labels[:24]}).to_csv(tmp_path / "train.csv",
                                                                index=False)
    task = Task("image_classification", image_size=16, label_column="digit",
                **fast_image_params).fit(str(tmp_path / "train.csv"))
    assert list(task.classes_) == [0, 1]
    files = [str(tmp_path / name) for name in names]
    np.testing.assert_array_equal(task.predict(str(tmp_path / "train.csv")), task.predict(files))
    assert task.score(str(tmp_path / "train.csv")) == task.score(files, labels[:24])
    pd.DataFrame({"text": ["a cat"], "digit": [0]}).to_csv(tmp_path / "texts.csv", index=False)
    with pytest.raises(ValueError, match="image file paths.*a cat'"):
        task.predict(str(tmp_path / "texts.csv"))


def test_mnist_slice_clears_a_quality_floor(data_dir):
    """Real data: 3,000 MNIST digits, a few epochs of the default backbone."""
    images = read_idx(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
    task = Task("image_classification", epochs=3, seed=0, verbose=0)
    task.fit(images[:3000], labels[:3000])
    assert task.score(images[-1000:], labels[-1000:]) >= 0.90  # chance is 0.10


def test_squeezenet_transfer_on_hymenoptera(data_dir, squeezenet_weights, tmp_path):
    """Real pretrained weights: the head alone on frozen ImageNet features beats chance."""
    root = data_dir / "hymenoptera" / "hymenoptera_data"
    task = Task("image_classification", backbone="squeezenet", weights=str(squeezenet_weights),
                image_size=128, fine_tuning="head", epochs=4, seed=0, verbose=0)
    task.fit(str(root / "train"))
    assert task.score(str(root / "val")) >= 0.80  # chance is 0.54
    # Loading never reads the pretrained file again (it may be gone where the task is used).
    folder = task.save(tmp_path / "model")
    document = json.loads((folder / "task.json").read_text())
    document["params"]["weights"] = str(tmp_path / "gone.h5")
    (folder / "task.json").write_text(json.dumps(document))
    val = sorted(str(p) for p in (root / "val" / "ants").iterdir())[:8]
    np.testing.assert_allclose(Task.load(folder).predict_proba(val), task.predict_proba(val),
                               rtol=1e-5, atol=1e-6)
