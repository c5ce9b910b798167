"""Pascal VOC XML and COCO JSON readers."""

import json

import numpy as np
import pytest
from PIL import Image

from toolkit.data.annotations import read_coco, read_voc

VOC = """<annotation><filename>{name}</filename><size><width>40</width><height>30</height></size>
<object><name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>11</xmax><ymax>12</ymax></bndbox></object>
<object><name>dog</name><bndbox><xmin>5</xmin><ymin>x</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>
</annotation>"""


@pytest.fixture
def voc_folder(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations").mkdir()
    for name in ("a.jpg", "b.jpg"):
        Image.new("RGB", (40, 30)).save(tmp_path / "images" / name)
        (tmp_path / "annotations" / f"{name[0]}.xml").write_text(VOC.format(name=name))
    return tmp_path


def test_voc_folder_is_read_with_images_found(voc_folder):
    records = read_voc(voc_folder)
    assert [r.path.name for r in records] == ["a.jpg", "b.jpg"]
    assert records[0].labels == ["cat", "dog"] and records[0].size == (30, 40)
    np.testing.assert_allclose(records[0].boxes[0], [1, 2, 11, 12])
    assert np.isnan(records[0].boxes[1, 1])  # "x" is not a number: flagged later


def test_voc_difficult_objects_are_ignored_regions(voc_folder):
    path = voc_folder / "annotations" / "a.xml"
    difficult = "<difficult>1</difficult><bndbox><xmin>20</xmin>"
    path.write_text(VOC.format(name="a.jpg").replace(
        "<name>cat</name><bndbox>", "<name>cat</name><difficult>0</difficult><bndbox>").replace(
        "<name>dog</name><bndbox><xmin>5</xmin>", f"<name>dog</name>{difficult}"))
    record = read_voc(path)[0]
    assert record.labels == ["cat"] and record.boxes.shape == (1, 4)
    assert record.ignored_labels == ["dog"] and record.ignored_boxes.shape == (1, 4)


def test_voc_errors_are_clear(voc_folder, tmp_path):
    broken = voc_folder / "annotations" / "broken.xml"
    broken.write_text("<annotation><filename>")
    with pytest.raises(ValueError, match="not valid Pascal VOC XML"):
        read_voc([broken])
    lost = voc_folder / "annotations" / "lost.xml"
    lost.write_text(VOC.format(name="missing.jpg"))
    with pytest.raises(ValueError, match="'missing.jpg'.*not found"):
        read_voc([lost])
    with pytest.raises(ValueError, match="No Pascal VOC"):
        read_voc(tmp_path / "images")


def test_coco_file_is_read_as_xyxy(tmp_path):
    Image.new("RGB", (40, 30)).save(tmp_path / "a.png")
    document = {"images": [{"id": 7, "file_name": "a.png", "height": 30, "width": 40}],
                "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2, 10, 10]}],
                "categories": [{"id": 3, "name": "cat"}]}
    (tmp_path / "instances.json").write_text(json.dumps(document))
    records, names = read_coco(tmp_path / "instances.json")
    assert names == ["cat"] and records[0].labels == ["cat"]
    np.testing.assert_allclose(records[0].boxes, [[1, 2, 11, 12]])
    # A crowd region is not one object's box; an image without "width" has no size.
    crowd = {"id": 2, "image_id": 7, "category_id": 3, "bbox": [0, 0, 40, 30], "iscrowd": 1}
    (tmp_path / "instances.json").write_text(json.dumps({
        **document, "annotations": [*document["annotations"], crowd],
        "images": [{"id": 7, "file_name": "a.png", "height": 30}]}))
    records, _ = read_coco(tmp_path / "instances.json")
    assert records[0].labels == ["cat"] and records[0].size is None
    assert records[0].ignored_labels == ["cat"]  # the crowd: ignored in evaluation
    np.testing.assert_allclose(records[0].ignored_boxes, [[0, 0, 40, 30]])
    document["annotations"][0]["image_id"] = 8
    (tmp_path / "instances.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="unknown image"):
        read_coco(tmp_path / "instances.json")
    document["annotations"][0].update(image_id=7, category_id=99)
    (tmp_path / "instances.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="unknown category.*category_id=99"):
        read_coco(tmp_path / "instances.json")
    for images in ([{"file_name": "a.png"}], "abc"):   # no id; not a list of objects
        (tmp_path / "instances.json").write_text(json.dumps({**document, "images": images}))
        with pytest.raises(ValueError, match="not a COCO detection file"):
            read_coco(tmp_path / "instances.json")


PASCAL_TEXT = '''# Compatible with PASCAL Annotation Version 1.00
Image filename : "Ped/PNGImages/a.png"
Image size (X x Y x C) : 40 x 30 x 3
Objects with ground truth : 1 { "PASperson" }
Bounding box for object 1 "PASperson" (Xmin, Ymin) - (Xmax, Ymax) : (3, 4) - (20, 25)
'''


def test_pascal_text_file_is_read(tmp_path):
    from toolkit.data.annotations import is_pascal_text, read_pascal_text

    (tmp_path / "Ped" / "PNGImages").mkdir(parents=True)
    (tmp_path / "Ped" / "Annotation").mkdir()
    Image.new("RGB", (40, 30)).save(tmp_path / "Ped" / "PNGImages" / "a.png")
    path = tmp_path / "Ped" / "Annotation" / "a.txt"
    path.write_text(PASCAL_TEXT)
    assert is_pascal_text(path)
    record = read_pascal_text(path.parent)[0]
    assert record.path.name == "a.png" and record.labels == ["PASperson"] and record.size == (30, 40)
    np.testing.assert_allclose(record.boxes, [[3, 4, 20, 25]])
    path.write_text("just text")
    with pytest.raises(ValueError, match="not a PASCAL Annotation"):
        read_pascal_text([path])
