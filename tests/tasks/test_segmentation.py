"""Segmentation task: arrays, files and folders in, masks at each image's size out; save/load
from image paths; clear errors for bad masks; pretrained encoders; a Penn-Fudan floor."""

import numpy as np
import pytest
from PIL import Image

from toolkit import Task

FAST = {"epochs": 1, "batch_size": 4, "verbose": 0, "seed": 0, "image_size": 16,
        "validation_split": 0}


def _rectangles(count, size=(16, 16), seed=0):
    """Images with one bright rectangle each (class 1, or 2 when it is wide)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (count, *size, 3)).astype("uint8")
    masks = np.zeros((count, *size), "int32")
    for image, mask in zip(images, masks):
        top, left = rng.integers(0, size[0] // 2), rng.integers(0, size[1] // 2)
        height, width = rng.integers(3, size[0] // 2), rng.integers(3, size[1] // 2)
        mask[top:top + height, left:left + width] = 1 + (width > height)
        image[mask > 0] = 220
    return images, masks


def _write_pairs(folder, images, masks, mask_suffix="_mask"):
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    paths = []
    for index, (image, mask) in enumerate(zip(images, masks)):
        Image.fromarray(image).save(folder / "images" / f"{index:03d}.png")
        Image.fromarray(mask.astype("uint8")).save(folder / "masks" / f"{index:03d}{mask_suffix}.png")
        paths.append(str(folder / "images" / f"{index:03d}.png"))
    return paths


def test_fit_predict_save_load_from_image_paths(tmp_path):
    images, masks = _rectangles(12)
    task = Task("segmentation", **FAST).fit(images, masks)
    assert task.num_classes_ == 3 and task.predict(images[:2]).shape == (2, 16, 16)
    # Files of other sizes come back at their own size.
    paths = []
    for index, size in enumerate([(20, 28), (16, 16)]):
        paths.append(str(tmp_path / f"{index}.png"))
        Image.fromarray(_rectangles(1, size, seed=index)[0][0]).save(paths[-1])
    predicted = task.predict(paths)
    assert [m.shape for m in predicted] == [(20, 28), (16, 16)]
    alone = task.predict(paths[0])  # one path, as speech and detection take it
    assert len(alone) == 1 and np.array_equal(alone[0], predicted[0])
    assert set(np.unique(np.concatenate([m.ravel() for m in predicted]))) <= {0, 1, 2}
    task.save(tmp_path / "model")
    loaded = Task.load(tmp_path / "model")
    for before, after in zip(predicted, loaded.predict(paths)):
        np.testing.assert_array_equal(before, after)
    assert loaded.class_names_ == task.class_names_
    score = loaded.score(images, masks)
    assert 0.0 <= score <= 1.0
    assert loaded.predict_proba(images[:1]).shape == (1, 16, 16, 3)


def test_folders_instances_and_fpn_decoder(tmp_path):
    images, masks = _rectangles(8, seed=1)
    instances = np.where(masks > 0, np.arange(8)[:, None, None] % 3 + 1, 0)  # ids 1..3
    _write_pairs(tmp_path, images, instances)
    task = Task("segmentation", backbone="resnet", decoder="fpn", instances=True,
                class_names=["background", "box"], **FAST).fit(str(tmp_path))
    assert task.num_classes_ == 2
    report = task.evaluate(str(tmp_path / "images"), str(tmp_path / "masks"))
    assert set(report.metrics["per_class_iou"]) == {"background", "box"}
    assert report.metrics["mean_iou"] == task.score(str(tmp_path))



def test_a_table_of_image_mask_paths_reads_as_the_path_lists(tmp_path):
    import pandas as pd

    images, masks = _rectangles(8, seed=2)
    paths = _write_pairs(tmp_path / "data", images, masks)
    mask_paths = [p.replace("images", "masks").replace(".png", "_mask.png") for p in paths]
    relative = pd.DataFrame({"image": [f"images/{i:03d}.png" for i in range(8)],
                             "seg": [f"masks/{i:03d}_mask.png" for i in range(8)]})
    relative.to_csv(tmp_path / "data" / "pairs.csv", index=False)
    table = str(tmp_path / "data" / "pairs.csv")
    from_lists = Task("segmentation", **FAST).fit(paths, mask_paths)
    from_table = Task("segmentation", label_column="seg", **FAST).fit(table)
    np.testing.assert_array_equal(from_table.predict(table), from_lists.predict(paths))
    assert from_table.score(table) == from_lists.score(paths, mask_paths)
    frame = pd.DataFrame({"image": paths, "mask": mask_paths})  # DataFrame: paths as given
    assert from_lists.score(frame) == from_lists.score(paths, mask_paths)
    assert from_lists.score(frame[["image"]], masks) == from_lists.score(paths, masks)
    with pytest.raises(ValueError, match="Column not found.*label_column='masks'"):
        Task("segmentation", label_column="masks", **FAST).fit(table)

def test_bad_masks_give_clear_errors(tmp_path):
    images, masks = _rectangles(4)
    task = Task("segmentation", **FAST)
    with pytest.raises(ValueError, match=r"mask 1 with shape=\(16, 15\)"):
        task.fit(images, [masks[0], masks[1][:, :15], masks[2], masks[3]])
    with pytest.raises(ValueError, match=r"\[0, 2\) for num_classes=2.*id 2"):
        Task("segmentation", num_classes=2, **FAST).fit(images, masks + 0)
    with pytest.raises(ValueError, match="same number"):
        task.fit(images, masks[:3])
    bordered = [np.where(np.arange(m.shape[1]) == 0, 255, m).astype(m.dtype) for m in masks]
    with pytest.raises(ValueError, match="id 255.*ignore_index="):
        task.fit(images, bordered)
    paths = _write_pairs(tmp_path, images, masks)
    mask_paths = sorted(str(p) for p in (tmp_path / "masks").iterdir())
    with pytest.raises(ValueError, match="Mask file not found.*gone.png"):
        task.fit(paths, mask_paths[:3] + [str(tmp_path / "gone.png")])
    (tmp_path / "masks" / "003_mask.png").unlink()
    with pytest.raises(ValueError, match=r"no mask file.*003.png"):
        task.fit(str(tmp_path))
    with pytest.raises(ValueError, match="decoder must be one of"):
        Task("segmentation", decoder="deeplab", **FAST).fit(images, masks)
    for params, match in [({"class_names": "abc"}, "class_names"),
                          ({"ignore_index": "x"}, "ignore_index"),
                          ({"dice_weight": float("nan")}, "dice_weight"),
                          ({"image_size": -5}, "image_size"),
                          ({"fine_tuning": "all"}, "fine_tuning must be one of"),
                          ({"num_classes": "2"}, "num_classes must be an int"),
                          ({"instances": "yes"}, "instances must be True or False")]:
        with pytest.raises(ValueError, match=match):
            Task("segmentation", **{**FAST, **params}).fit(images, masks)
    with pytest.raises(ValueError, match="Masks are required"):
        task.fit(images)


def test_pretrained_squeezenet_encoder(squeezenet_weights):
    images, masks = _rectangles(8, size=(64, 64))
    task = Task("segmentation", backbone="squeezenet", weights=str(squeezenet_weights),
                fine_tuning="head", **{**FAST, "image_size": 64}).fit(images, masks)
    encoder = next(layer for layer in task.model_.layers if layer.name == "squeezenet_stages")
    assert not any(layer.trainable_weights for layer in encoder.layers)
    assert task.predict(images[:1]).shape == (1, 64, 64)


@pytest.mark.slow
def test_pennfudan_slice_reaches_a_quality_floor(data_dir):
    """Real data: 60 Penn-Fudan images at 96 pixels, a few epochs, beats all-background."""
    from toolkit.data.mask_folders import pair_mask_files

    root = data_dir / "pennfudan" / "PennFudanPed"
    images, masks = pair_mask_files(root / "PNGImages", root / "PedMasks")
    task = Task("segmentation", instances=True, image_size=96, epochs=6, verbose=0, seed=0)
    task.fit(images[:60], masks[:60])
    report = task.evaluate(images[-20:], masks[-20:])
    assert report.metrics["per_class_iou"]["object"] > 0.3
