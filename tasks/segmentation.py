"""Semantic segmentation: images in, one class id per pixel out, at the image's own size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from toolkit.backbones.registry import get_backbone_spec
from toolkit.backbones.stages import stage_model
from toolkit.data.examples import Examples
from toolkit.data.mask_folders import find_mask_folders, pair_mask_files
from toolkit.data.sources import read_inputs
from toolkit.data.tables import TABLE_SUFFIXES
from toolkit.evaluation.segmentation import (
    CrossEntropyDiceLoss,
    SegmentationReport,
    confusion_matrix,
    segmentation_metrics,
)
from toolkit.heads.segmentation import (
    DECODERS,
    FlipWhere,
    RandomFlipFlags,
    fpn_decoder,
    segmentation_head,
    unet_decoder,
)
from toolkit.preprocessing.image import (
    IMAGE_SUFFIXES,
    ImageNormalization,
    as_image_size,
    check_images,
    list_images,
    match_channels_and_size,
    model_channels,
    read_image,
)
from toolkit.preprocessing.masks import (
    check_mask,
    check_palette,
    collapse_instances,
    read_mask,
    resize_mask,
)
from toolkit.task import Task, register_task
from toolkit.training.fine_tuning import FINE_TUNING_MODES

AUGMENTATIONS = (None, "flip")
AUTO_LEARNING_RATE = 3e-3
#: Most classes inferred from mask ids without ``num_classes=`` (more is likely a
#: border value or instance ids read as classes).
MAX_INFERRED_CLASSES = 100
#: Images shown in the report's overlay figure.
OVERLAY_EXAMPLES = 4


@register_task("segmentation")
class SegmentationTask(Task):
    """Label every pixel: U-Net from scratch, or U-Net/FPN decoders on a pretrained encoder.

    Parameters
    ----------
    backbone : str
        Encoder, any vision backbone (``toolkit.list_backbones("vision")``): ``"unet"``
        (default, the U-Net contracting path, from scratch), or a pretrained one such
        as ``"mobilenetv2"``, ``"resnet50"``, ``"squeezenet"`` with ``weights``. Skip
        connections come from its stages (:mod:`toolkit.backbones.stages`).
    decoder : "unet" or "fpn"
        Expanding path (see :mod:`toolkit.heads.segmentation`).
    weights : None, "imagenet" or path
        Pretrained encoder weights; with weights the model is trained with the
        ``fine_tuning`` schedule (decoder first on the frozen encoder).
    num_classes : int, optional
        Number of classes, background included; by default the largest id in the
        training masks plus one (2 with ``instances=True``), up to
        ``MAX_INFERRED_CLASSES`` (100): more must be asked for.
    class_names : list of str, optional
        Names of classes ``0..num_classes-1`` for reports.
    instances : bool
        Masks hold instance ids (0 background, k = object k, as Penn-Fudan's
        ``PedMasks``): every object becomes class 1.
    palette : list of (r, g, b), optional
        For colour (RGB) mask files: the colour of each class, in class order (or a
        ``{(r, g, b): class id}`` dict). Checked on every fit.
    ignore_index : int, optional
        Mask value of pixels left out of loss and metrics (e.g. VOC's 255 borders).
    label_column : str, optional
        For a table (CSV/TSV file or DataFrame) of image/mask path pairs: the column of
        mask paths (default ``"mask"``, else ``"label"``, else the last column); the
        image column is ``"image"``/``"path"``/``"file"``/``"filename"`` or else the
        first other one of text. A table file's relative paths are taken from its folder.
    image_size : int, (height, width) or None
        Size the network sees; ``None`` keeps the training arrays' common size, or
        the backbone's default (160 for ``unet``, 227 for ``squeezenet``, 224 for the
        keras.applications nets, 32 for the small nets) when sizes vary. Predictions
        are resized back to each input image's size.
    augment : None or "flip"
        ``"flip"``: random horizontal flips (the mask flips with the image) and light
        brightness/contrast jitter while training.
    fine_tuning : "head", "gradual" or "full"
        Transfer schedule with ``weights``; see
        :func:`toolkit.training.fine_tuning.fine_tuning_stages`.
    dice_weight : float
        Weight of the Dice term added to cross-entropy (0 for cross-entropy alone).
    learning_rate : float or "auto"
        Peak learning rate; ``"auto"`` is ``3e-3`` (the decoder's rate with weights).
    epochs, batch_size, schedule, weight_decay, validation_split, early_stopping, callbacks, verbose, seed :
        Training settings, as in :class:`tasks.sentiment.SentimentTask`.
    distribute, precision, jit_compile, steps_per_execution, checkpoint_dir :
        Scale and fault settings every task shares (see ``docs/scaling.md``).
        ``jit_compile`` defaults to ``False`` here: on CPU, XLA made a U-Net step about
        twice as slow and took ~40 s to compile.

    Examples
    --------
    >>> import numpy as np
    >>> from toolkit import Task
    >>> images = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3))
    >>> masks = (images[..., 0] > 127).astype(int)
    >>> task = Task("segmentation", epochs=1, batch_size=4, verbose=0)
    >>> task.fit(images, masks).predict(images[:2]).shape
    (2, 32, 32)
    """

    def __init__(
        self,
        backbone: str = "unet",
        decoder: str = "unet",
        weights: str | None = None,
        num_classes: int | None = None,
        class_names: list[str] | None = None,
        instances: bool = False,
        palette: list | None = None,
        ignore_index: int | None = None,
        label_column: str | None = None,
        image_size: int | tuple[int, int] | None = None,
        augment: str | None = "flip",
        fine_tuning: str = "gradual",
        dice_weight: float = 1.0,
        weight_decay: float = 1e-4,
        epochs: int = 40,
        batch_size: int = 8,
        learning_rate: float | str = "auto",
        schedule: str = "cosine",
        validation_split: float = 0.1,
        early_stopping: int | None = 10,
        callbacks: list | None = None,
        verbose: int = 1,
        seed: int | None = None,
        distribute: str | tf.distribute.Strategy | None = None,
        precision: str = "float32",
        jit_compile: bool | str = False,
        steps_per_execution: int = 1,
        checkpoint_dir: str | None = None,
    ):
        self.backbone = backbone
        self.decoder = decoder
        self.weights = weights
        self.num_classes = num_classes
        self.class_names = class_names
        self.instances = instances
        self.palette = palette
        self.ignore_index = ignore_index
        self.label_column = label_column
        self.image_size = image_size
        self.augment = augment
        self.fine_tuning = fine_tuning
        self.dice_weight = dice_weight
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

    # ------------------------------------------------------------- reading

    def _spec(self):
        return get_backbone_spec(self.backbone, kind="vision")

    def _read(self, X, y=None, *, training: bool) -> Examples:
        """Images (and masks) at their own sizes: ``x``/``y`` are lists of arrays."""
        self._check_params()  # masks are checked against num_classes and ignore_index
        images, masks = _read_pairs(X, y, training=training, label_column=self.label_column)
        channels = getattr(self, "channels_", None)
        images = [read_image(image, 1 if channels == 1 else 3) if isinstance(image, (str, Path))
                  else check_images(np.asarray(image)[np.newaxis])[0] for image in images]
        if masks is None:
            if training:
                raise ValueError("Masks are required. Received: y=None")
            return Examples(images)
        if len(masks) != len(images):
            raise ValueError(
                "X and y must have the same number of images and masks. "
                f"Received: {len(images)} images, {len(masks)} masks"
            )
        num_classes = getattr(self, "num_classes_", None) or self.num_classes
        checked = []
        for index, (image, mask) in enumerate(zip(images, masks)):
            name = f"mask {str(mask)!r}" if isinstance(mask, (str, Path)) else f"mask {index}"
            if isinstance(mask, (str, Path)):
                mask = read_mask(mask, self.palette)
            mask = check_mask(mask, image.shape, None, self.ignore_index, name)
            if self.instances:
                mask = np.where(mask == self.ignore_index, mask, collapse_instances(mask))
            checked.append(check_mask(mask, image.shape, num_classes, self.ignore_index, name))
        return Examples(images, checked)

    def _fit_preprocessing(self, examples: Examples) -> None:
        spec = self._spec()  # the settings were checked by _read
        sizes = {image.shape[:2] for image in examples.x}
        if self.image_size is not None:
            size = as_image_size(self.image_size)
        elif len(sizes) == 1:
            size = next(iter(sizes))
        else:
            side = spec.default_image_size or 224
            size = (side, side)
        self.image_size_ = (max(int(size[0]), spec.min_image_size),
                            max(int(size[1]), spec.min_image_size))
        self.channels_ = model_channels(spec.normalization, self.weights is not None,
                                        examples.x[0].shape[-1])
        largest = max(int(np.max(_labelled(m, self.ignore_index), initial=0)) for m in examples.y)
        if self.num_classes is None and largest + 1 > MAX_INFERRED_CLASSES:
            raise ValueError(
                f"The masks hold class id {largest}, so {largest + 1} classes would be "
                f"inferred. Pass num_classes= if that is meant, or ignore_index= for a border "
                f"value such as VOC's 255 (or instances=True for instance ids)."
            )
        self.num_classes_ = int(self.num_classes) if self.num_classes is not None else max(
            2, largest + 1)
        if largest >= self.num_classes_:
            raise ValueError(
                f"Class ids must be in [0, {self.num_classes_}) for "
                f"num_classes={self.num_classes_}. Received: a mask with id {largest}"
            )
        names = self.class_names or (["background", "object"] if self.instances else
                                     [f"class_{i}" for i in range(self.num_classes_)])
        if len(names) != self.num_classes_:
            raise ValueError(
                f"class_names must name all {self.num_classes_} classes. "
                f"Received: class_names={self.class_names!r}"
            )
        self.class_names_ = [str(name) for name in names]

    def _check_params(self) -> None:
        self._check_settings(flags=("instances",), column_names=("label_column",),
                             choices={"decoder": DECODERS, "fine_tuning": FINE_TUNING_MODES})
        check_palette(self.palette)
        if self.augment not in AUGMENTATIONS:
            raise ValueError(
                f"augment must be one of {AUGMENTATIONS}. Received: augment={self.augment!r}")
        if self.num_classes is not None and (
                isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int)
                or self.num_classes < 2):
            raise ValueError(
                f"num_classes must be an int >= 2 (background included). "
                f"Received: num_classes={self.num_classes!r}")
        self._check_non_negative_float("dice_weight", self.dice_weight)
        if self.ignore_index is not None and (isinstance(self.ignore_index, bool)
                                              or not isinstance(self.ignore_index, int)):
            raise ValueError("ignore_index must be an int mask value (e.g. 255) or None. "
                             f"Received: ignore_index={self.ignore_index!r}")
        if self.class_names is not None and (
                not isinstance(self.class_names, (list, tuple))
                or not all(isinstance(name, str) for name in self.class_names)):
            raise ValueError("class_names must be a list of str, one per class. "
                             f"Received: class_names={self.class_names!r}")

    def _encode(self, examples: Examples):
        images = np.stack([match_channels_and_size(image, self.channels_, self.image_size_)
                           .astype("float32") for image in examples.x])
        if examples.y is None:
            return images, None
        masks = np.stack([resize_mask(mask, self.image_size_) for mask in examples.y])
        return images, masks.astype("int32")

    # ------------------------------------------------------------- model

    def _build_model(self) -> keras.Model:
        spec = self._spec()
        shape = (*self.image_size_, self.channels_)
        backbone = spec.builder(input_shape=shape, weights=self._pretrained("weights"))
        stages = stage_model(backbone)
        images = keras.Input(shape=shape, name="images")
        x = images
        if self.augment == "flip":
            flags = RandomFlipFlags(seed=self.seed, name="random_flip_flags")(images)
            x = FlipWhere(name="random_flip")([x, flags])
            x = keras.layers.RandomBrightness(0.15, value_range=(0, 255), seed=self.seed,
                                              name="random_brightness")(x)
            x = keras.layers.RandomContrast(0.15, value_range=(0, 255), seed=self.seed,
                                            name="random_contrast")(x)
        x = ImageNormalization(spec.normalization, name="normalization")(x)
        # A pretrained body keeps BatchNorm in inference mode, also once unfrozen.
        features = stages(x, training=False) if self.weights is not None else stages(x)
        if self.decoder == "unet":
            decoded = unet_decoder(features, self.image_size_)
        else:
            decoded = fpn_decoder(features, stages.strides, self.image_size_)
        probabilities = segmentation_head(decoded, self.num_classes_)
        if self.augment == "flip":  # back to the frame of the unflipped target mask
            probabilities = FlipWhere(name="unflip", dtype="float32")([probabilities, flags])
        return keras.Model(images, probabilities, name=self.task_name)

    def _loss(self):
        return CrossEntropyDiceLoss(self.num_classes_, dice_weight=self.dice_weight,
                                    ignore_index=self.ignore_index)

    def _metrics(self) -> list:
        if self.ignore_index is not None:
            return []
        return [keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy")]

    def _pretrained_layer_groups(self) -> list | None:
        return None if self.weights is None else self._spec().extra["layer_groups"]

    def _learning_rate(self) -> float:
        if self.learning_rate == "auto":
            return AUTO_LEARNING_RATE
        return super()._learning_rate()

    # ------------------------------------------------------------- predictions

    def predict(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """Class-id masks at each input image's own size.

        Returns
        -------
        ndarray ``(n, h, w)`` when all images share one size, else a list of ``(h, w)``
        arrays.
        """
        examples = self._read(X, training=False)
        return _stack_if_same(self._masks(examples, self._outputs(examples)))

    def predict_proba(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """Class probabilities ``(h, w, num_classes)`` per image, at its own size."""
        examples = self._read(X, training=False)
        return _stack_if_same([p for p in self._probabilities(examples, self._outputs(examples))])

    def _probabilities(self, examples: Examples, outputs: np.ndarray):
        """Model outputs bilinearly resized back to each image's size (then argmax'd:
        smoother edges than resizing the class ids)."""
        for image, output in zip(examples.x, outputs):
            if tuple(image.shape[:2]) != tuple(output.shape[:2]):
                output = tf.image.resize(output, image.shape[:2]).numpy()
            yield output

    def _masks(self, examples: Examples, outputs: np.ndarray) -> list[np.ndarray]:
        return [p.argmax(axis=-1).astype("int32") for p in self._probabilities(examples, outputs)]

    def _decode(self, outputs: np.ndarray):
        return outputs.argmax(axis=-1).astype("int32")

    def _report(self, examples: Examples, outputs: np.ndarray) -> SegmentationReport:
        predictions = self._masks(examples, outputs)
        matrix = confusion_matrix(examples.y, predictions, self.num_classes_, self.ignore_index)
        shown = slice(0, OVERLAY_EXAMPLES)
        return SegmentationReport(
            self.task_name, segmentation_metrics(matrix, self.class_names_),
            examples=(examples.x[shown], examples.y[shown], predictions[shown]),
        )

    def _headline_metric(self, report: SegmentationReport) -> float:
        return report.metrics["mean_iou"]

    # ------------------------------------------------------------- state

    def _fitted_state(self) -> dict:
        return {"image_size": list(self.image_size_), "channels": self.channels_,
                "num_classes": self.num_classes_, "class_names": self.class_names_}

    def _restore_state(self, state: dict) -> None:
        self.image_size_ = tuple(int(v) for v in state["image_size"])
        self.channels_ = int(state["channels"])
        self.num_classes_ = int(state["num_classes"])
        self.class_names_ = [str(name) for name in state["class_names"]]
        if len(self.class_names_) != self.num_classes_ or self.num_classes not in (
                None, self.num_classes_):
            raise ValueError(f"num_classes={self.num_classes_} must count the class_names "
                             f"{self.class_names_!r:.80} and equal the num_classes parameter "
                             "when it is set")


def _read_pairs(X, y, *, training: bool, label_column: str | None):
    """Normalise the accepted input forms to ``(images, masks or None)`` lists whose items
    are paths or arrays."""
    if isinstance(X, pd.DataFrame) or (isinstance(X, (str, Path))
                                       and Path(X).suffix.lower() in TABLE_SUFFIXES):
        images, masks = read_inputs(X, y, require_labels=training, label_column=label_column,
                                    input_paths=True, label_paths=True)
        return _read_pairs(images, masks, training=training, label_column=None)
    if isinstance(X, (str, Path)) and Path(X).is_file() and str(X).lower().endswith(
            IMAGE_SUFFIXES):  # one image (as `toolkit predict DIR photo.png` passes it)
        return _read_pairs([X], [y] if isinstance(y, (str, Path)) else y, training=training,
                           label_column=label_column)
    if isinstance(X, (str, Path)):
        if not Path(X).is_dir():
            raise ValueError(
                "X must be a folder, a table of image/mask paths (CSV/TSV), image paths or an "
                f"image array. Received: X={str(X)!r}")
        if y is not None:
            return pair_mask_files(X, y)
        if not training:
            return [str(p) for p in list_images(X)], None
        return pair_mask_files(*find_mask_folders(X))
    if isinstance(X, np.ndarray):
        images = list(check_images(X))
    elif isinstance(X, (list, tuple)) and len(X) > 0:
        images = list(X)
        for item in images:
            if isinstance(item, (str, Path)) and not str(item).lower().endswith(IMAGE_SUFFIXES):
                raise ValueError(
                    f"Image paths must end in one of {IMAGE_SUFFIXES}. Received: {str(item)!r}")
    else:
        raise ValueError(
            "X must be an image array (n, h, w[, c]), a list of images or image paths, a "
            f"folder, or a table of image/mask paths. Received: X of type {type(X).__name__}"
        )
    if y is None:
        return images, None
    masks = list(y) if isinstance(y, (list, tuple, np.ndarray)) else None
    if masks is None:
        raise ValueError(
            "y must be masks (n, h, w), a list of masks or mask paths, or a mask folder. "
            f"Received: y of type {type(y).__name__}"
        )
    return images, masks


def _labelled(mask: np.ndarray, ignore_index: int | None) -> np.ndarray:
    return mask if ignore_index is None else mask[mask != ignore_index]


def _stack_if_same(arrays: list[np.ndarray]):
    return np.stack(arrays) if len({a.shape for a in arrays}) == 1 else arrays


__all__ = ["SegmentationTask"]
