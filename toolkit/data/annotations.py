"""Box annotation files: Pascal VOC XML, COCO JSON and PASCAL v1.00 text, one record per image.

Readers only parse; they do not judge the boxes. Checking (zero area, outside the
image, unknown class) is :func:`toolkit.preprocessing.boxes.check_boxes`, so both
formats and in-memory data go through the same rules. Coordinates that are missing or
not numbers become NaN, which that check reports as malformed.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_VOC_COORDINATES = ("xmin", "ymin", "xmax", "ymax")
_IMAGE_FOLDERS = ("images", "JPEGImages", "PNGImages", "")
PASCAL_TEXT_HEADER = "PASCAL Annotation Version 1.00"
_TEXT_FILENAME = re.compile(r'^Image filename\s*:\s*"([^"]+)"', re.MULTILINE)
_TEXT_SIZE = re.compile(r"^Image size \(X x Y x C\)\s*:\s*(\d+)\s*x\s*(\d+)", re.MULTILINE)
_TEXT_BOX = re.compile(r'^Bounding box for object \d+ "([^"]*)"[^:]*:\s*'
                       r"\(([^,]*),([^)]*)\)\s*-\s*\(([^,]*),([^)]*)\)", re.MULTILINE)


@dataclass
class AnnotatedImage:
    """One image file and its boxes.

    ``boxes`` are ``xyxy`` pixels of the file as stored; ``size`` is ``(height, width)``
    as the annotation states it (``None`` when it does not). ``ignored_boxes`` and
    ``ignored_labels`` are regions neither learned nor scored (VOC's difficult objects,
    COCO's crowds): evaluation neither credits nor penalises a detection of them.
    """

    path: Path
    boxes: np.ndarray
    labels: list
    size: tuple[int, int] | None = None
    ignored_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), "float32"))
    ignored_labels: list = field(default_factory=list)


def read_voc(source) -> list[AnnotatedImage]:
    """Read Pascal VOC XML annotations.

    Parameters
    ----------
    source : path or list of paths
        An XML file, a list of them, or a folder: its ``*.xml`` files, or those in an
        ``annotations``/``Annotations`` subfolder.

    Returns
    -------
    list of AnnotatedImage
        In sorted file order. The image is looked for next to the XML, in a sibling
        ``images``/``JPEGImages``/``PNGImages`` folder, then at the XML's ``path``.
        Objects marked ``<difficult>1</difficult>`` are ``ignored_boxes``: not learned,
        and in evaluation a detection of one is neither a hit nor a false positive (the
        VOC protocol).

    Examples
    --------
    >>> records = read_voc("../shared/data/raccoon")       # doctest: +SKIP
    >>> records[0].labels                                  # doctest: +SKIP
    ['raccoon']
    """
    files = _voc_files(source)
    return [_read_voc_file(path) for path in files]


def _voc_files(source) -> list[Path]:
    if isinstance(source, (list, tuple)):
        files = [Path(p) for p in source]
    else:
        folder = Path(source)
        if folder.is_file():
            files = [folder]
        else:
            files = sorted(folder.glob("*.xml"))
            for name in ("annotations", "Annotations"):
                if not files and (folder / name).is_dir():
                    files = sorted((folder / name).glob("*.xml"))
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise ValueError(f"Annotation file not found. Received: {missing[0]!r}")
    if not files:
        raise ValueError(f"No Pascal VOC .xml files found. Received: source={str(source)!r}")
    return files


def _read_voc_file(path: Path) -> AnnotatedImage:
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ValueError(f"{str(path)!r} is not valid Pascal VOC XML: {error}") from error
    filename = (root.findtext("filename") or "").strip()
    if not filename:
        raise ValueError(f"{str(path)!r} has no <filename>: cannot find its image.")
    kept, difficult = ([], []), ([], [])  # (boxes, labels) each
    for item in root.iter("object"):
        boxes, labels = difficult if (item.findtext("difficult") or "0").strip() == "1" else kept
        box = item.find("bndbox")
        boxes.append([_number(box.findtext(c) if box is not None else None)
                      for c in _VOC_COORDINATES])
        labels.append((item.findtext("name") or "").strip())
    size = None
    height, width = _number(root.findtext("size/height")), _number(root.findtext("size/width"))
    if np.isfinite(height) and np.isfinite(width) and height > 0 and width > 0:
        size = (int(height), int(width))
    return AnnotatedImage(_find_image(path, filename, root.findtext("path")),
                          np.asarray(kept[0], "float32").reshape(-1, 4), kept[1], size,
                          np.asarray(difficult[0], "float32").reshape(-1, 4), difficult[1])


def _find_image(xml_path: Path, filename: str, stated_path: str | None) -> Path:
    for folder in _IMAGE_FOLDERS:
        for base in (xml_path.parent, xml_path.parent.parent):
            candidate = base / folder / filename
            if candidate.is_file():
                return candidate
    if stated_path and Path(stated_path).is_file():
        return Path(stated_path)
    raise ValueError(f"Image {filename!r} named in {str(xml_path)!r} not found next to it "
                     f"or in an {'/'.join(f for f in _IMAGE_FOLDERS if f)} folder.")


def read_pascal_text(source) -> list[AnnotatedImage]:
    """Read PASCAL Annotation Version 1.00 text files (PASCAL VOC 2005, Penn-Fudan).

    Parameters
    ----------
    source : path or list of paths
        A ``.txt`` file, a list of them, or a folder of them.

    Returns
    -------
    list of AnnotatedImage
        The label of a box is the quoted class after "Bounding box for object N"
        (``"PASpersonWalking"`` in Penn-Fudan). The stated image path is resolved
        against the file's folder and its parents, then by name in a sibling
        ``PNGImages``/``JPEGImages``/``images`` folder.
    """
    if isinstance(source, (list, tuple)):
        files = [Path(p) for p in source]
    else:
        folder = Path(source)
        files = [folder] if folder.is_file() else sorted(folder.glob("*.txt"))
    if not files:
        raise ValueError(f"No PASCAL v1.00 .txt files found. Received: source={str(source)!r}")
    return [_read_pascal_text_file(path) for path in files]


def is_pascal_text(path: Path) -> bool:
    """Whether ``path`` is a PASCAL v1.00 annotation (its first line says so)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return PASCAL_TEXT_HEADER in handle.readline()
    except OSError:
        return False


def _read_pascal_text_file(path: Path) -> AnnotatedImage:
    if not path.is_file():
        raise ValueError(f"Annotation file not found. Received: {str(path)!r}")
    text = path.read_text(encoding="utf-8", errors="replace")
    stated = _TEXT_FILENAME.search(text)
    if PASCAL_TEXT_HEADER not in text or stated is None:
        raise ValueError(f"{str(path)!r} is not a PASCAL Annotation Version 1.00 file "
                         "(no header or no 'Image filename' line).")
    found = [(label, [_number(v) for v in coordinates])
             for label, *coordinates in _TEXT_BOX.findall(text)]
    size = _TEXT_SIZE.search(text)
    return AnnotatedImage(
        _find_stated_image(path, stated.group(1)),
        np.asarray([box for _, box in found], "float32").reshape(-1, 4),
        [label for label, _ in found],
        (int(size.group(2)), int(size.group(1))) if size else None)


def _find_stated_image(path: Path, stated: str) -> Path:
    for base in [path.parent, *path.parents]:
        if (base / stated).is_file():
            return base / stated
    return _find_image(path, Path(stated).name, None)


def read_coco(json_path, image_dir=None) -> tuple[list[AnnotatedImage], list[str]]:
    """Read a COCO-format detection JSON file.

    Parameters
    ----------
    json_path : path
        The ``instances_*.json`` file (``images``, ``annotations``, ``categories``).
    image_dir : path, optional
        Folder of the image files; defaults to the JSON file's folder (and its
        ``images`` subfolder).

    Returns
    -------
    (list of AnnotatedImage, list of str)
        One record per image (images without boxes included) and the category names in
        category-id order. COCO boxes are ``xywh`` and are converted to ``xyxy``;
        crowd regions (``iscrowd=1``) are ``ignored_boxes``: not learned (as in
        torchvision's training references) and ignored in evaluation (as pycocotools
        does).
    """
    json_path = Path(json_path)
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
        images, categories = document["images"], document["categories"]
        annotations = document.get("annotations", [])
        names = {c["id"]: str(c["name"]) for c in categories}
        per_image = {image["id"]: ([], [], [], []) for image in images}  # boxes, labels, crowds
        files = {image["id"]: str(image["file_name"]) for image in images}
        if not all(isinstance(annotation, dict) for annotation in annotations):
            raise TypeError("every annotation must be a JSON object")
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{str(json_path)!r} is not a COCO detection file: {error!r}") from error
    folder = Path(image_dir) if image_dir is not None else json_path.parent
    for annotation in annotations:
        if annotation.get("image_id") not in per_image:
            raise ValueError(f"{str(json_path)!r}: annotation {annotation.get('id')!r} refers to "
                             f"an unknown image. Received: image_id={annotation.get('image_id')!r}")
        if annotation.get("category_id") not in names:
            raise ValueError(f"{str(json_path)!r}: annotation {annotation.get('id')!r} refers to "
                             f"an unknown category. Received: category_id="
                             f"{annotation.get('category_id')!r}, categories {sorted(names)}")
        x, y, w, h = [_number(v) for v in (list(annotation.get("bbox") or []) + [None] * 4)[:4]]
        boxes, labels, crowd_boxes, crowd_labels = per_image[annotation["image_id"]]
        if annotation.get("iscrowd"):  # a crowd region, not one object: ignored
            boxes, labels = crowd_boxes, crowd_labels
        boxes.append([x, y, x + w, y + h])
        labels.append(names[annotation["category_id"]])
    records = []
    for image in images:
        name = files[image["id"]]
        path = next((p for p in (folder / name, folder / "images" / name) if p.is_file()),
                    folder / name)
        boxes, labels, crowd_boxes, crowd_labels = per_image[image["id"]]
        size = ((int(image["height"]), int(image["width"]))
                if "height" in image and "width" in image else None)
        records.append(AnnotatedImage(path, np.asarray(boxes, "float32").reshape(-1, 4),
                                      labels, size,
                                      np.asarray(crowd_boxes, "float32").reshape(-1, 4),
                                      crowd_labels))
    return records, [names[k] for k in sorted(names)]


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


__all__ = ["AnnotatedImage", "is_pascal_text", "read_coco", "read_pascal_text", "read_voc"]
