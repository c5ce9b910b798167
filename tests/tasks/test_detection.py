"""The detection task on tiny synthetic images: fit, predict, evaluate, save/load, errors."""

import json

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from sklearn.base import clone

from toolkit import Task
from toolkit.cli import main

#: A detector that trains in seconds: small ResNet, narrow pyramid, one epoch.
FAST = {"backbone": "resnet", "image_size": 32, "pyramid_channels": 8, "head_convs": 1,
        "epochs": 1, "augment": None, "verbose": 0, "seed": 0, "validation_split": 0.0}


def _squares(count=8, size=48):
    """White squares on black, of several sizes, with their xyxy boxes."""
    rng = np.random.default_rng(0)
    images = np.zeros((count, size, size, 3), "uint8")
    targets = []
    for index in range(count):
        x, y = rng.integers(0, size // 2, 2)
        side = int(rng.integers(8, size // 2))
        images[index, y:y + side, x:x + side] = 255
        targets.append({"boxes": [[x, y, x + side, y + side]], "labels": ["square"]})
    return images, targets


def _voc_folder(folder, images, targets):
    (folder / "images").mkdir()
    for index, (image, target) in enumerate(zip(images, targets)):
        Image.fromarray(image).save(folder / "images" / f"{index}.png")
        x1, y1, x2, y2 = target["boxes"][0]
        (folder / f"{index}.xml").write_text(
            f"<annotation><filename>{index}.png</filename><object><name>square</name><bndbox>"
            f"<xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax>"
            "</bndbox></object></annotation>")
    return folder


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """One detector for the module, trained from a VOC folder with box-aware augmentation."""
    images, targets = _squares()
    folder = _voc_folder(tmp_path_factory.mktemp("voc"), images, targets)
    task = Task("detection", **{**FAST, "augment": "full", "augment_copies": 1})
    return task.fit(str(folder)), images, targets


def test_voc_difficult_objects_are_ignored_not_learned_or_scored(fitted, tmp_path):
    task, images, targets = fitted
    plain, marked = tmp_path / "plain", tmp_path / "marked"
    for folder in (plain, marked):
        folder.mkdir()
        _voc_folder(folder, images[:8], targets[:8])
    difficult = ("<object><name>square</name><difficult>1</difficult><bndbox><xmin>0</xmin>"
                 "<ymin>0</ymin><xmax>6</xmax><ymax>6</ymax></bndbox></object></annotation>")
    for xml in marked.glob("*.xml"):
        xml.write_text(xml.read_text().replace("</annotation>", difficult))
    examples = task._read(str(marked), training=True)
    assert all(len(t["ignored_boxes"]) == 1 and len(t["boxes"]) == 1 for t in examples.y)
    # A detection of a difficult object is no false positive: the score can only rise.
    assert task.score(str(marked)) >= task.score(str(plain)) - 1e-9


def test_predict_returns_boxes_in_each_input_images_pixels(fitted):
    task, images, _ = fitted
    big = np.zeros((96, 144, 3), "uint8")  # a different size and aspect than training
    found = task.predict([images[0], big])
    assert len(found) == 2 and set(found[0]) == {"boxes", "scores", "labels"}
    for detection, (height, width) in zip(found, [(48, 48), (96, 144)]):
        boxes = detection["boxes"]
        assert boxes.shape[1:] == (4,) and len(boxes) == len(detection["scores"]) <= 100
        assert (boxes[:, [0, 2]] <= width + 1e-3).all() and (boxes[:, [1, 3]] <= height + 1e-3).all()
        assert set(detection["labels"]) <= {"square"}
        assert list(detection["scores"]) == sorted(detection["scores"], reverse=True)


def test_evaluate_reports_coco_map(fitted):
    task, images, targets = fitted
    report = task.evaluate(images, targets)
    assert 0.0 <= report.metrics["map"] <= report.metrics["map50"] <= 1.0
    assert set(report.metrics["per_class"]) == {"square"}
    assert task.score(images, targets) == pytest.approx(report.metrics["map"])
    assert task.classes_ == ["square"] and len(task.history_["loss"]) == 1
    assert "predictions" in report.figures()
    no_boxes = [{"boxes": [], "labels": []} for _ in targets]
    with pytest.raises(ValueError, match="holds no boxes"):
        task.evaluate(images, no_boxes)
    with pytest.raises(ValueError, match="max_images"):
        task.plot_predictions(images, max_images=0)


def test_save_load_round_trip_predicts_the_same_from_image_paths(fitted, tmp_path, capsys):
    task, images, _ = fitted
    paths = []
    for index in range(2):
        paths.append(tmp_path / f"image{index}.png")
        Image.fromarray(images[index]).save(paths[-1])
    before = task.predict([str(p) for p in paths])
    loaded = Task.load(task.save(tmp_path / "model"))
    after = loaded.predict([str(p) for p in paths])
    assert loaded.classes_ == ["square"] and loaded.levels_ == task.levels_
    for one, two in zip(before, after):
        np.testing.assert_allclose(one["boxes"], two["boxes"], atol=1e-3)
        np.testing.assert_allclose(one["scores"], two["scores"], atol=1e-5)
    assert len(loaded.predict(str(tmp_path))) == 2  # a folder of images
    assert isinstance(loaded.plot_predictions([str(p) for p in paths]), Figure)
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "model"), str(paths[0])]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    np.testing.assert_allclose(printed["boxes"], before[0]["boxes"], atol=1e-3)
    threshold = float(np.median(before[0]["scores"]))
    assert main(["predict", str(tmp_path / "model"), str(paths[0]), "--min-score",
                 str(threshold)]) == 0
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 < len(shown["scores"]) == int((before[0]["scores"] >= threshold).sum())
    assert min(shown["scores"]) >= threshold and len(shown["labels"]) == len(shown["boxes"])
    assert main(["predict", str(tmp_path / "model"), str(paths[0]), "--min-score", "1.5"]) == 2
    assert "--min-score must be between 0 and 1" in capsys.readouterr().err


def test_bad_annotations_raise_clearly_or_are_dropped_with_a_count():
    images, targets = _squares(4)
    targets = [dict(t) for t in targets]
    targets[1] = {"boxes": [[10, 10, 10, 30]], "labels": ["square"]}      # zero area
    targets[2] = {"boxes": [[0, 0, 90, 20]], "labels": ["square"]}        # outside the image
    targets[3] = {"boxes": [[0, 0, 9, 9]], "labels": ["circle"]}          # unknown class
    task = Task("detection", classes=["square"], **FAST)
    with pytest.raises(ValueError, match=r"in image 1: zero area"):
        task._read(images, targets, training=True)
    with pytest.raises(ValueError, match=r"in image 0: unknown class \(the task's classes are \['square'\]\)"):
        task._read(images[3:], targets[3:], training=True)
    with pytest.warns(UserWarning, match=r"Dropped 3 malformed.*1 box outside image.*"
                                          r"1 unknown class.*1 zero area"):
        examples = task.set_params(on_bad_annotation="drop")._read(images, targets, training=True)
    assert [len(t["boxes"]) for t in examples.y] == [1, 0, 0, 0]


def test_relative_box_format_is_converted():
    images, targets = _squares(1)
    x1, y1, x2, y2 = targets[0]["boxes"][0]
    relative = [{"boxes": [[x1 / 48, y1 / 48, x2 / 48, y2 / 48]], "labels": ["square"]}]
    examples = Task("detection", box_format="rel_xyxy", **FAST)._read(images, relative, training=True)
    np.testing.assert_allclose(examples.y[0]["boxes"], [[x1, y1, x2, y2]], atol=1e-4)


@pytest.mark.parametrize("params, match", [
    ({"image_size": 4}, "image_size"),
    ({"box_format": "xyzw"}, "box_format='xyzw'"),
    ({"fine_tuning": "most"}, "fine_tuning='most'"),
    ({"on_bad_annotation": "ignore"}, "on_bad_annotation='ignore'"),
    ({"augment": "heavy", "augment_copies": 1}, "augment='heavy'"),
    ({"backbone": "bilstm"}, "backbone='bilstm'"),
    ({"iou_threshold": -1}, "iou_threshold"),
    ({"score_threshold": "a"}, "score_threshold"),
    ({"max_detections": 0}, "max_detections"),
    ({"classes": ["square", "square"]}, "twice"),
])
def test_bad_parameters_name_themselves(params, match):
    images, targets = _squares(2)
    with pytest.raises(ValueError, match=match):
        Task("detection", **{**FAST, **params}).fit(images, targets)


@pytest.mark.parametrize("classes", ["square", 3, []])
def test_classes_must_be_a_list_of_names(classes):
    images, targets = _squares(2)
    with pytest.raises(TypeError, match="classes must be None .* or a non-empty list"):
        Task("detection", **FAST, classes=classes).fit(images, targets)


def test_inputs_errors():
    task = Task("detection", **FAST)
    with pytest.raises(ValueError, match="Boxes are required"):
        task.fit(np.zeros((2, 32, 32, 3), "uint8"))
    with pytest.raises(ValueError, match="'boxes' and 'labels'"):
        task.fit(np.zeros((2, 32, 32, 3), "uint8"), [{"boxes": []}, {"boxes": []}])
    with pytest.raises(TypeError, match=r"one per image; wrap one image's boxes in a list"):
        task.fit(np.zeros((1, 32, 32, 3), "uint8"), {"boxes": [[0, 0, 9, 9]], "labels": ["a"]})
    with pytest.raises(Exception, match="not fitted"):
        task.predict(np.zeros((1, 32, 32, 3), "uint8"))
    images = np.zeros((2, 32, 32, 3), "uint8")
    for boxes, labels, match in [([[0, 0], [10, 10]], ["a"], "four per box"),
                                 ([[0, 0, 10, 10, 1]], ["a"], "four per box"),
                                 ([[0, 0, "x", 10]], ["a"], "four per box"),
                                 ([[0, 0, 10, 10]], [None], "missing"),
                                 ([[0, 0, 10, 10]], [float("nan")], "missing")]:
        with pytest.raises(ValueError, match=match):
            task.fit(images, [{"boxes": boxes, "labels": labels}] * 2)
    with pytest.raises(ValueError, match="single"):
        task.fit(images[0], [{"boxes": [[0, 0, 10, 10]], "labels": ["a"]}])
    with pytest.raises(ValueError, match="No images. Received: an empty X"):
        task.fit([], [])
    # Boxes beside data that carries its own (or a folder) are refused, not dropped.
    target = {"boxes": [[0, 0, 10, 10]], "labels": ["a"]}
    for X in ("annotations.json", ["a.xml", "b.xml"]):
        with pytest.raises(ValueError, match="carries its own boxes, so y must be None"):
            task.fit(X, [target] * 2)
    assert clone(task).get_params() == task.get_params()


def test_images_without_any_box_are_refused_by_fit_and_fine_tune():
    images, targets = _squares(4)
    empty = [{"boxes": np.zeros((0, 4)), "labels": []} for _ in images]
    with pytest.raises(ValueError, match="No boxes to learn from"):
        Task("detection", **FAST, classes=["square"]).fit(images, empty)
    task = Task("detection", **FAST).fit(images, targets)
    with pytest.raises(ValueError, match="No boxes to learn from"):
        task.fine_tune(images, empty)  # would teach the model to find nothing
