"""Object detection: boxes and labels in, an FCOS detector on any vision backbone out."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit.backbones.registry import get_backbone_spec
from toolkit.backbones.stages import stage_model
from toolkit.data.annotations import (
    AnnotatedImage,
    is_pascal_text,
    read_coco,
    read_pascal_text,
    read_voc,
)
from toolkit.data.examples import Examples
from toolkit.data.sources import check_no_extra_labels
from toolkit.evaluation.detection import DetectionReport, coco_metrics, detection_grid
from toolkit.heads.detection import (
    DetectionLoss,
    decode_outputs,
    fcos_head,
    feature_pyramid,
    non_max_suppression,
)
from toolkit.preprocessing.boxes import (
    BOX_FORMATS,
    BadAnnotations,
    augment_with_boxes,
    box_augmentation_layers,
    check_boxes,
    convert_boxes,
    pad_boxes,
    resize_boxes,
)
from toolkit.preprocessing.image import (
    IMAGE_SUFFIXES,
    ImageNormalization,
    check_images,
    is_image_path_list,
    list_images,
    read_image,
)
from toolkit.preprocessing.labels import check_labels, plain_label
from toolkit.task import Task, register_task
from toolkit.training.fine_tuning import FINE_TUNING_MODES

AUTO_LR = 2e-3
#: Images drawn by ``evaluate``'s report figure.
REPORT_IMAGES = 8


@register_task("detection")
class DetectionTask(Task):
    """Find objects: boxes, scores and labels per image, from an FCOS detector.

    A feature pyramid over the backbone's stages (strides 8 to 32) feeds an anchor-free
    FCOS head (see :mod:`toolkit.heads.detection` for why FCOS); ``predict`` decodes
    the boxes and runs per-class non-max suppression.

    Parameters
    ----------
    backbone : str
        A vision backbone (``toolkit.list_backbones("vision")``); ``squeezenet``
        (default) takes ImageNet weights (``"imagenet"`` downloads them; a local
        ``.h5`` file works offline).
    weights : None, "imagenet" or path
        Pretrained backbone weights; then the ``fine_tuning`` schedule is used.
    image_size : int or (height, width)
        Every image (and its boxes) is resized to this for the model; predictions are
        scaled back to each input image's own pixels.
    classes : list, optional
        The class names; boxes with other labels are malformed. Default: the labels
        seen in training.
    box_format : str
        Format of in-memory boxes, one of
        :data:`toolkit.preprocessing.boxes.BOX_FORMATS` (``rel_*`` are fractions of
        the image). Files are read in their own format (VOC ``xyxy``, COCO ``xywh``).
    on_bad_annotation : "raise" or "drop"
        What to do with a box outside its image, of zero area, or of an unknown class:
        raise a ``ValueError`` naming it, or drop it with one counted warning.
    augment : None, "flip" or "full"
        Box-aware training augmentation (flip; plus scale, shift, colour jitter).
    augment_copies : int
        Augmented copies of each training image added to the originals (drawn once per
        ``fit``, so the shared training loop sees plain arrays).
    pyramid_channels : int
        Width of the pyramid and head.
    head_convs : int
        Conv layers per head tower.
    fine_tuning : "head", "gradual" or "full"
        Transfer schedule with ``weights``
        (:func:`toolkit.training.fine_tuning.fine_tuning_stages`). ``"head"`` (default)
        keeps the pretrained body frozen: the pyramid and head start from random
        weights and need every epoch at the full rate, which ``"gradual"`` would cut
        to 1/100 for its second half; a frozen body also trains several times faster.
    score_threshold, iou_threshold, max_detections :
        Non-max suppression settings used by ``predict``/``evaluate``.
    learning_rate : float or "auto"
        ``"auto"`` is ``2e-3``.
    epochs, batch_size, schedule, weight_decay, validation_split, early_stopping, callbacks, verbose, seed :
        Training settings, as in :class:`tasks.sentiment.SentimentTask`.
    image_dir : path, optional
        Image folder of a COCO JSON file (default: the JSON's folder).

    distribute, precision, jit_compile, steps_per_execution, checkpoint_dir :
        Scale and fault settings every task shares (see ``docs/scaling.md``):
        ``distribute`` is None, ``"mirrored"``, ``"multi_worker"`` or a
        ``tf.distribute.Strategy`` (``batch_size`` is then the global batch);
        ``precision`` is ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``;
        ``jit_compile`` and ``steps_per_execution`` go to ``keras.Model.compile``;
        ``checkpoint_dir`` makes training resume after a crash and keeps the best model.

    Examples
    --------
    >>> import numpy as np
    >>> from toolkit import Task
    >>> images = np.zeros((8, 64, 64, 3), "uint8")
    >>> images[:, 16:48, 8:40] = 255
    >>> boxes = [{"boxes": [[8, 16, 40, 48]], "labels": ["square"]}] * 8
    >>> task = Task("detection", backbone="resnet", image_size=64, epochs=1, verbose=0)
    >>> found = task.fit(images, boxes).predict(images[:1])[0]
    >>> sorted(found)
    ['boxes', 'labels', 'scores']
    """

    def __init__(
        self,
        backbone: str = "squeezenet",
        weights: str | None = None,
        image_size: int | tuple[int, int] = 256,
        classes: list | None = None,
        box_format: str = "xyxy",
        on_bad_annotation: str = "raise",
        augment: str | None = "full",
        augment_copies: int = 3,
        pyramid_channels: int = 64,
        head_convs: int = 2,
        fine_tuning: str = "head",
        score_threshold: float = 0.05,
        iou_threshold: float = 0.5,
        max_detections: int = 100,
        weight_decay: float = 1e-4,
        epochs: int = 20,
        batch_size: int = 16,
        learning_rate: float | str = "auto",
        schedule: str = "cosine",
        validation_split: float = 0.1,
        early_stopping: int | None = 5,
        callbacks: list | None = None,
        verbose: int = 1,
        seed: int | None = None,
        distribute: str | tf.distribute.Strategy | None = None,
        precision: str = "float32",
        jit_compile: bool | str = "auto",
        steps_per_execution: int = 1,
        checkpoint_dir: str | None = None,
        image_dir: str | None = None,
    ):
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.classes = classes
        self.box_format = box_format
        self.on_bad_annotation = on_bad_annotation
        self.augment = augment
        self.augment_copies = augment_copies
        self.pyramid_channels = pyramid_channels
        self.head_convs = head_convs
        self.fine_tuning = fine_tuning
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self.max_detections = max_detections
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.callbacks = callbacks
        self.verbose = verbose
        self.seed = seed
        self.distribute = distribute
        self.precision = precision
        self.jit_compile = jit_compile
        self.steps_per_execution = steps_per_execution
        self.checkpoint_dir = checkpoint_dir
        self.image_dir = image_dir

    # ------------------------------------------------------------- reading

    def _image_size(self) -> tuple[int, int]:
        size = self.image_size
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            size = (int(size), int(size))
        minimum = get_backbone_spec(self.backbone, kind="vision").min_image_size
        if not (isinstance(size, (tuple, list)) and len(size) == 2
                and all(isinstance(v, (int, np.integer)) and v >= minimum for v in size)):
            raise ValueError(f"image_size must be an int or (height, width) of at least "
                             f"{minimum} for backbone {self.backbone!r}. "
                             f"Received: image_size={self.image_size!r}")
        return (int(size[0]), int(size[1]))

    def _known_classes(self):
        if self.classes is None:
            return getattr(self, "classes_", None)
        if isinstance(self.classes, (str, bytes)) or not isinstance(
                self.classes, (list, tuple, np.ndarray)) or len(self.classes) == 0:
            raise TypeError("classes must be None (learned from the boxes) or a non-empty list "
                            f"of class names. Received: classes={self.classes!r}")
        return list(self.classes)

    def _read(self, X, y=None, *, training: bool) -> Examples:
        """Images (and, for training, their boxes) as :class:`Examples`.

        ``x`` holds ``{"image": uint8 at image_size, "size": (h, w) of the input}``;
        ``y`` holds ``{"boxes": xyxy in the input's pixels, "labels": names}``.
        """
        self._check_settings(choices={"box_format": BOX_FORMATS}, paths=("image_dir",))
        records = self._records(X, y)
        if training and any(record.boxes is None for record in records):
            raise ValueError("Boxes are required for training and evaluation: pass "
                             "y=[{'boxes': ..., 'labels': ...}, ...] or an annotation file. "
                             "Received: y=None")
        size = self._image_size()
        classes = self._known_classes()
        dropped = BadAnnotations()
        x, targets = [], []
        for record in records:
            image = record.image if record.image is not None else read_image(record.path)
            original = image.shape[:2]
            x.append({"image": _resize(image, size), "size": tuple(int(v) for v in original)})
            if record.boxes is not None:
                boxes, labels = check_boxes(record.boxes, record.labels, original, classes=classes,
                                            on_bad=self.on_bad_annotation, where=record.name,
                                            dropped=dropped)
                targets.append({"boxes": boxes, "labels": labels,
                                **_ignored_regions(record, original)})
        dropped.warn()
        return Examples(x, targets if targets else None)

    def _records(self, X, y) -> list[_Record]:
        if isinstance(X, (str, Path)):
            path = Path(X)
            if path.suffix.lower() not in IMAGE_SUFFIXES:  # annotations, or a folder
                check_no_extra_labels(y, f"X={str(X)!r}, an annotation file or folder,",
                                      "boxes", hint=" (to give boxes, pass image paths with y)")
            if path.suffix.lower() == ".json":
                records, _ = read_coco(path, self.image_dir)
                return [_Record.from_file(r) for r in records]
            if path.suffix.lower() == ".xml" or (path.is_dir() and _has_xml(path)):
                return [_Record.from_file(r) for r in read_voc(path)]
            if path.suffix.lower() == ".txt" or (path.is_dir() and any(
                    is_pascal_text(p) for p in path.glob("*.txt"))):
                return [_Record.from_file(r) for r in read_pascal_text(path)]
            if path.is_dir():
                files = list_images(path)
                if not files:
                    raise ValueError(f"No images or VOC annotations found in {str(path)!r}")
                return [_Record(path=p) for p in files]
            if path.suffix.lower() in IMAGE_SUFFIXES:
                return self._records([path], y)
            raise ValueError("Expected a folder, a VOC .xml, PASCAL v1.00 .txt or COCO .json file, "
                             "image paths, "
                             f"or an image array. Received: X={str(X)!r}")
        if isinstance(X, (list, tuple)) and X and all(
                isinstance(v, (str, Path)) and str(v).lower().endswith((".xml", ".txt"))
                for v in X):
            check_no_extra_labels(y, "X, a list of annotation files,", "boxes")
        if isinstance(X, (list, tuple)) and X and all(
                isinstance(v, (str, Path)) and str(v).lower().endswith(".xml") for v in X):
            return [_Record.from_file(r) for r in read_voc(list(X))]
        if isinstance(X, (list, tuple)) and X and all(
                isinstance(v, (str, Path)) and str(v).lower().endswith(".txt") for v in X):
            return [_Record.from_file(r) for r in read_pascal_text(list(X))]
        if is_image_path_list(X):
            images = [None] * len(X)
            paths = [Path(p) for p in X]
        else:
            images = _image_list(X)
            paths = [None] * len(images)
        if y is None:
            return [_Record(path=p, image=i) for p, i in zip(paths, images)]
        if isinstance(y, dict):
            raise TypeError("y must be a list of dicts, one per image; wrap one image's boxes "
                            f"in a list, [y]. Received: a dict with keys {sorted(y)}")
        if len(y) != len(images):
            raise ValueError("X and y must have the same length. "
                             f"Received: len(X)={len(images)}, len(y)={len(y)}")
        records = []
        for index, (path, image, target) in enumerate(zip(paths, images, y)):
            if not isinstance(target, dict) or not {"boxes", "labels"} <= set(target):
                raise ValueError("Each y entry must be a dict with 'boxes' and 'labels'. "
                                 f"Received: y[{index}]={target!r}")
            if image is None:
                image = read_image(path)
            boxes = convert_boxes(_box_array(target["boxes"], index), self.box_format, "xyxy",
                                  image_size=image.shape[:2])
            labels = _plain(target["labels"])
            check_labels(labels)
            records.append(_Record(path=path, image=image, boxes=boxes, labels=labels,
                                   name=str(path or f"image {index}")))
        return records

    # ------------------------------------------------------------- encoding

    def _check_params(self) -> None:
        self._image_size()
        self._check_thresholds()
        self._check_settings(choices={"fine_tuning": FINE_TUNING_MODES},
                             positive_ints=("pyramid_channels", "head_convs"))
        if self.classes is not None and len(set(self._known_classes())) < len(self.classes):
            raise ValueError(f"classes names a class twice. Received: classes={self.classes!r}")

    def _check_targets(self, examples: Examples) -> None:
        if not any(len(target["labels"]) for target in examples.y):
            raise ValueError("No boxes to learn from: every training image has no (valid) box.")

    def _fit_preprocessing(self, examples: Examples) -> None:
        labels = sorted({label for target in examples.y for label in target["labels"]}, key=str)
        self.classes_ = list(self.classes) if self.classes is not None else labels
        self.image_size_ = self._image_size()

    def _encode(self, examples: Examples):
        images = np.stack([item["image"] for item in examples.x])
        if examples.y is None:
            return images, None
        index = {name: i for i, name in enumerate(self.classes_)}
        boxes = [resize_boxes(t["boxes"], item["size"], self.image_size_)
                 for item, t in zip(examples.x, examples.y)]
        labels = [[index[label] for label in t["labels"]] for t in examples.y]
        padded, ids = pad_boxes(boxes, labels)
        return images, np.concatenate([padded, ids[..., None].astype("float32")], axis=-1)

    def _train(self, train, validation, stages):
        return super()._train(self._augmented(train), validation, stages)

    def _augmented(self, train: Examples) -> Examples:
        """``train`` plus ``augment_copies`` box-aware augmented copies of it."""
        layers = box_augmentation_layers(self.augment, seed=self.seed)
        copies = self._check_non_negative_int("augment_copies", self.augment_copies)
        if not layers or copies == 0:
            return train
        images, targets = self._encode(train)
        x, y = list(train.x), list(train.y)
        for _ in range(copies):
            new_images, boxes, ids = augment_with_boxes(
                images, targets[..., :4], targets[..., 4].astype("int32"), layers)
            for image, image_boxes, image_ids in zip(new_images, boxes, ids):
                keep = image_ids >= 0
                x.append({"image": image, "size": self.image_size_})
                y.append({"boxes": image_boxes[keep],
                          "labels": np.array([self.classes_[i] for i in image_ids[keep]], object)})
        return Examples(x, y)

    # ------------------------------------------------------------- model

    def _build_model(self) -> keras.Model:
        spec = get_backbone_spec(self.backbone, kind="vision")
        channels = self._check_positive_int("pyramid_channels", self.pyramid_channels)
        convs = self._check_positive_int("head_convs", self.head_convs)
        shape = (*self.image_size_, 3)
        stages = stage_model(spec.builder(input_shape=shape, weights=self._pretrained("weights")))
        images = keras.Input(shape=shape, name="images")
        x = ImageNormalization(spec.normalization, name="normalization")(images)
        # A pretrained body keeps any BatchNorm in inference mode (small datasets).
        features = stages(x, training=False) if self.weights is not None else stages(x)
        features = list(features) if isinstance(features, (list, tuple)) else [features]
        levels, strides = feature_pyramid(features, stages.strides, channels)
        outputs = fcos_head(levels, len(self.classes_), channels, convs)
        self.levels_ = [[int(level.shape[1]), int(level.shape[2]), int(stride)]
                        for level, stride in zip(levels, strides)]
        return keras.Model(images, outputs, name=self.task_name)

    def _loss(self):
        return DetectionLoss(len(self.classes_), self.levels_, self.image_size_)

    def _recurrent(self) -> bool:
        return True  # gradient clipping: FCOS's early GIoU/focal gradients can spike

    def _learning_rate(self) -> float:
        if self.learning_rate == "auto":
            return AUTO_LR
        return super()._learning_rate()

    def _pretrained_layer_groups(self) -> list | None:
        return (None if self.weights is None
                else get_backbone_spec(self.backbone, kind="vision").extra["layer_groups"])

    # ------------------------------------------------------------- prediction

    def predict(self, X) -> list[dict]:
        """Detect objects in images: an array, a list of arrays or image paths, or a folder.

        Returns
        -------
        list of dict
            Per image ``{"boxes": (k, 4) float32 xyxy in that image's pixels,
            "scores": (k,), "labels": (k,) class names}``, best score first.
        """
        examples = self._read(X, training=False)
        return self._detections(examples, self._outputs(examples))

    def _check_thresholds(self) -> None:
        """The settings of prediction, checked at fit too so that a bad one fails early."""
        for name in ("score_threshold", "iou_threshold"):
            self._check_fraction(name, getattr(self, name), one_allowed=True)
        self._check_positive_int("max_detections", self.max_detections)

    def _detections(self, examples: Examples, outputs, *, model_pixels: bool = False) -> list[dict]:
        self._check_thresholds()
        boxes, scores = decode_outputs(outputs, self.levels_, self.image_size_, len(self.classes_))
        found = non_max_suppression(
            boxes, scores, iou_threshold=self.iou_threshold, score_threshold=self.score_threshold,
            max_detections=int(self.max_detections),
            image_size=self.image_size_)
        classes = np.asarray(self.classes_, dtype=object)
        for item, detection in zip(examples.x, found):
            if not model_pixels:
                detection["boxes"] = resize_boxes(detection["boxes"], self.image_size_, item["size"])
            detection["labels"] = classes[detection["labels"]]
        return found

    def _decode(self, outputs):
        raise NotImplementedError("DetectionTask.predict decodes with each image's size.")

    def plot_predictions(self, X, *, min_score: float = 0.3, max_images: int = 8,
                         columns: int = 4):
        """Draw the boxes scoring at least ``min_score`` on (up to ``max_images`` of) ``X``.

        Images are drawn at the model's ``image_size``. Returns a matplotlib ``Figure``.
        """
        self._check_positive_int("max_images", max_images)
        examples = self._read(X, training=False)
        examples = examples.subset(np.arange(min(len(examples), max_images)))
        found = self._detections(examples, self._outputs(examples), model_pixels=True)
        found = [{key: value[detection["scores"] >= min_score] for key, value in detection.items()}
                 for detection in found]
        return detection_grid([item["image"] for item in examples.x], found, self.classes_,
                              columns=columns)

    # ------------------------------------------------------------- evaluation

    def _report(self, examples: Examples, outputs) -> DetectionReport:
        if not any(len(target["boxes"]) for target in examples.y):
            raise ValueError("The evaluation data holds no boxes (after dropping malformed "
                             "ones), so mAP is undefined. Received: "
                             f"{len(examples)} images without boxes")
        found = self._detections(examples, outputs)
        index = {name: i for i, name in enumerate(self.classes_)}
        truths = [{"boxes": t["boxes"], "labels": np.array([index[n] for n in t["labels"]], int),
                   "ignored_boxes": t.get("ignored_boxes", np.zeros((0, 4))),
                   "ignored_labels": np.array([index[n] for n in t.get("ignored_labels", [])
                                               if n in index], int)}
                  for t in examples.y]
        ids = [{**f, "labels": np.array([index[n] for n in f["labels"]], int)} for f in found]
        metrics = coco_metrics(truths, ids, self.classes_)
        # The figure draws the model-size images, so boxes go back to model pixels.
        images, drawn, drawn_truths = [], [], []
        for item, detection, truth in list(zip(examples.x, found, examples.y))[:REPORT_IMAGES]:
            images.append(item["image"])
            drawn.append({**detection,
                          "boxes": resize_boxes(detection["boxes"], item["size"], self.image_size_)})
            drawn_truths.append({"boxes": resize_boxes(truth["boxes"], item["size"], self.image_size_)})
        figure_data = (images, drawn, drawn_truths, self.classes_)
        return DetectionReport(self.task_name, metrics, examples=figure_data)

    def _headline_metric(self, report) -> float:
        return report.metrics["map"]

    # ------------------------------------------------------------- state

    def _fitted_state(self) -> dict:
        return {"classes": [plain_label(c) for c in self.classes_],
                "image_size": list(self.image_size_), "levels": self.levels_}

    def _restore_state(self, state: dict) -> None:
        self.classes_ = list(state["classes"])
        check_labels(self.classes_)
        if len(set(self.classes_)) < len(self.classes_) or (
                self.classes is not None and self.classes_ != list(self.classes)):
            raise ValueError("classes must be distinct, and equal the classes parameter when "
                             f"it is set. Received: classes={self.classes_!r:.80}")
        self.image_size_ = tuple(int(v) for v in state["image_size"])
        self.levels_ = [[int(v) for v in level] for level in state["levels"]]


class _Record:
    """One input image before resizing: a file or an array, with boxes when labelled."""

    def __init__(self, path=None, image=None, boxes=None, labels=None, name=None,
                 ignored_boxes=None, ignored_labels=()):
        self.path, self.image, self.boxes, self.labels = path, image, boxes, labels
        self.name = name or (str(path) if path is not None else "")
        self.ignored_boxes, self.ignored_labels = ignored_boxes, list(ignored_labels)

    @classmethod
    def from_file(cls, record: AnnotatedImage) -> _Record:
        return cls(path=record.path, boxes=record.boxes, labels=_plain(record.labels),
                   name=str(record.path), ignored_boxes=record.ignored_boxes,
                   ignored_labels=_plain(record.ignored_labels))


def _ignored_regions(record: _Record, size: tuple[int, int]) -> dict:
    """A record's ignored regions (difficult objects, crowds) as target keys, clipped to
    the image and dropped when malformed: they only ever excuse detections."""
    if not record.ignored_labels:
        return {}
    boxes, labels = check_boxes(record.ignored_boxes, record.ignored_labels, size,
                                on_bad="drop")
    return {"ignored_boxes": boxes, "ignored_labels": labels}


def _has_xml(folder: Path) -> bool:
    return any(folder.glob("*.xml")) or any(
        (folder / name).is_dir() for name in ("annotations", "Annotations"))


def _image_list(X) -> list[np.ndarray]:
    """Arrays ``(n, h, w[, c])`` or a list of ``(h, w[, c])`` arrays of any sizes, as RGB."""
    if isinstance(X, (list, tuple, np.ndarray)) and len(X) == 0:
        raise ValueError("No images. Received: an empty X")
    if isinstance(X, np.ndarray) and X.dtype != object:
        images = list(check_images(X))
    elif isinstance(X, (list, tuple)) and X:
        images = [check_images(np.asarray(item)[np.newaxis])[0] for item in X]
    else:
        raise TypeError("Detection inputs must be images (an array (n, h, w, c), a list of "
                        "arrays or image paths), a folder, or a VOC/COCO annotation file. "
                        f"Received: {type(X).__name__}")
    return [np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image for image in images]


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if tuple(image.shape[:2]) != tuple(size):
        image = keras.ops.convert_to_numpy(
            keras.ops.image.resize(image.astype("float32"), size, interpolation="bilinear"))
    return np.clip(np.round(image), 0, 255).astype("uint8")


def _box_array(boxes, index: int) -> np.ndarray:
    """``y[index]["boxes"]`` as ``(n, 4)`` float32; an empty list is no boxes."""
    try:
        array = np.asarray(boxes, dtype="float32")
    except (TypeError, ValueError):
        array = None
    if array is not None and (array.size == 0 or array.shape == (4,)):
        return array.reshape(-1, 4)  # no boxes, or a single box given flat
    if array is None or array.ndim != 2 or array.shape[1] != 4:
        raise ValueError("Boxes must be numbers, four per box: an (n, 4) array or list of "
                         f"[x1, y1, x2, y2] (in box_format). Received: y[{index}]['boxes']="
                         f"{boxes!r:.80}")
    return array


def _plain(labels) -> list:
    return [plain_label(label) for label in np.asarray(labels, dtype=object).ravel()]


__all__ = ["DetectionTask"]
