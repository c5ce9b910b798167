"""Image classification: arrays, files or folders in, labels out; transfer learning built in."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit.backbones.registry import get_backbone_spec
from toolkit.classification import ClassificationTask
from toolkit.data.examples import Examples
from toolkit.data.sources import read_inputs
from toolkit.data.tfds_source import is_tfds_spec
from toolkit.heads.classification import classification_head
from toolkit.preprocessing.image import (
    ImageNormalization,
    as_image_size,
    augmentation_layers,
    check_images,
    is_image_path_list,
    list_images,
    match_channels_and_size,
    model_channels,
    read_image_files,
    read_image_folder,
)
from toolkit.task import register_task
from toolkit.training.fine_tuning import FINE_TUNING_MODES


AUTO_LR_SCRATCH, AUTO_LR_PRETRAINED = 2e-3, 1e-2


@register_task("image_classification")
class ImageClassificationTask(ClassificationTask):
    """Classify images with a CNN backbone, from scratch or from pretrained weights.

    Parameters
    ----------
    backbone : str
        A vision backbone (``toolkit.list_backbones("vision")``): small-image nets
        ``resnet`` (default), ``vgg`` (resnet's MNIST accuracy in half the time),
        ``lenet``, ``resnext``, ``densenet``; ImageNet nets ``squeezenet``,
        ``mobilenetv2``, ``resnet50``, ``densenet121``, ``convnext_tiny``,
        ``efficientnetb0``.
    weights : None, "imagenet" or path
        Pretrained weights for the backbone; with weights the model is trained with
        the ``fine_tuning`` schedule.
    image_size : int, (height, width) or None
        Input size; ``None`` keeps an array's own size (at least the backbone's
        minimum) and uses the backbone's native size for files and folders.
    augment : None, "light" or "flip"
        Train-time augmentation (see :func:`toolkit.preprocessing.image.augmentation_layers`).
    fine_tuning : "head", "gradual" or "full"
        Transfer schedule when ``weights`` is given (named so because ``fine_tune``
        is the method that continues training): see
        :func:`toolkit.training.fine_tuning.fine_tuning_stages`.
    dropout : float
        Dropout before the output layer.
    weight_decay : float
        AdamW's decoupled weight decay.
    learning_rate : float or "auto"
        Peak learning rate; ``"auto"`` is ``2e-3`` from scratch and ``1e-2`` with
        pretrained weights, where it is the new head's rate and the unfrozen body
        trains at 1/100 of it and less (with ``fine_tuning="full"`` the head, too,
        starts at 1/100; a fresh head on frozen features needs a
        high rate to converge in the few steps a small dataset gives).
    epochs, batch_size, schedule, validation_split, early_stopping, callbacks, verbose, seed :
        Training settings, as in :class:`tasks.sentiment.SentimentTask`.
    label_column : str, optional
        Label column of a table file (CSV/TSV) or DataFrame of image paths (default
        ``"label"``, else the last column), or label key of a ``tf.data``/tfds
        dictionary dataset. The paths are read from the column named ``path``,
        ``file``, ``filename`` or ``image`` (else the first other column of text); in a table
        file, relative paths are relative to the table's folder.
    data_dir : path, optional
        tensorflow-datasets folder for ``"tfds:NAME"`` inputs.

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
    >>> images = np.random.default_rng(0).integers(0, 255, (40, 16, 16, 1))
    >>> task = Task("image_classification", backbone="lenet", epochs=1, verbose=0)
    >>> task.fit(images, [0, 1] * 20).predict(images[:2]).shape
    (2,)
    """

    def __init__(
        self,
        backbone: str = "resnet",
        weights: str | None = None,
        image_size: int | tuple[int, int] | None = None,
        augment: str | None = "light",
        fine_tuning: str = "gradual",
        dropout: float = 0.3,
        weight_decay: float = 1e-4,
        epochs: int = 10,
        batch_size: int = 32,
        learning_rate: float | str = "auto",
        schedule: str = "cosine",
        validation_split: float = 0.1,
        early_stopping: int | None = 3,
        callbacks: list | None = None,
        verbose: int = 1,
        seed: int | None = None,
        distribute: str | tf.distribute.Strategy | None = None,
        precision: str = "float32",
        jit_compile: bool | str = "auto",
        steps_per_execution: int = 1,
        checkpoint_dir: str | None = None,
        label_column: str | None = None,
        data_dir: str | None = None,
    ):
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.augment = augment
        self.fine_tuning = fine_tuning
        self.dropout = dropout
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
        self.label_column = label_column
        self.data_dir = data_dir

    # ------------------------------------------------------------- reading

    def _spec(self):
        return get_backbone_spec(self.backbone, kind="vision")

    def _file_size(self) -> tuple[int, int]:
        """Size files and folders are read at: fitted, asked for, or the backbone's own."""
        if hasattr(self, "image_size_"):
            return self.image_size_
        if self.image_size is not None:
            return as_image_size(self.image_size)
        side = self._spec().default_image_size or 224
        return (side, side)

    def _read(self, X, y=None, *, training: bool) -> Examples:
        self._check_settings(column_names=("label_column",), paths=("data_dir",))
        channels = getattr(self, "channels_", 3)
        if isinstance(X, (str, Path)) and not is_tfds_spec(str(X)) and not Path(X).exists():
            raise ValueError("No such image folder, image or table file. Received: "
                             f"X={str(X)!r}")
        if (not training and isinstance(X, (str, Path)) and Path(X).is_dir()
                and not any(p.is_dir() for p in Path(X).iterdir())):
            X = [str(p) for p in list_images(X)] or X  # a flat folder of images to label
        x, y = read_inputs(
            X, y, require_labels=training, label_column=self.label_column,
            data_dir=self.data_dir, input_paths=True, example_rank=3,
            read_folder=lambda path: read_image_folder(path, self._file_size(), channels),
        )
        if isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "UO":
            x = x.tolist()  # paths given as an array (a table's column is a list already)
        if is_image_path_list(x):
            # Resized as a class folder is, so a model fitted on a folder sees files alike.
            x = read_image_files(x, self._file_size(), channels, interpolation="bilinear")
        return Examples(check_images(x), y)

    def _check_params(self) -> None:
        self._spec()
        self._check_settings(fractions=("dropout",), choices={"fine_tuning": FINE_TUNING_MODES})

    def _fit_preprocessing(self, examples: Examples) -> None:
        spec = self._spec()
        self._fit_labels(examples)
        height, width = examples.x.shape[1:3]
        if self.image_size is not None:
            height, width = as_image_size(self.image_size)
        side = spec.min_image_size
        self.image_size_ = (max(int(height), side), max(int(width), side))
        self.channels_ = model_channels(spec.normalization, self.weights is not None,
                                        examples.x.shape[-1])

    def _encode(self, examples: Examples):
        images = match_channels_and_size(examples.x, self.channels_, self.image_size_)
        return images, self._encode_targets(examples)

    # ------------------------------------------------------------- model

    def _build_model(self) -> keras.Model:
        spec = self._spec()
        shape = (*self.image_size_, self.channels_)
        backbone = spec.builder(input_shape=shape, weights=self._pretrained("weights"))
        images = keras.Input(shape=shape, name="images")
        x = images
        for layer in augmentation_layers(self.augment):
            x = layer(x)
        x = ImageNormalization(spec.normalization, name="normalization")(x)
        # A pretrained body keeps BatchNorm in inference mode, also once unfrozen
        # (the Keras transfer-learning recipe for small datasets).
        features = backbone(x, training=False) if self.weights is not None else backbone(x)
        probabilities = classification_head(features, len(self.classes_), dropout=self.dropout,
                                            normalize=self.weights is not None)
        return keras.Model(images, probabilities, name=self.task_name)

    def _pretrained_layer_groups(self) -> list | None:
        return None if self.weights is None else self._spec().extra["layer_groups"]

    def _learning_rate(self) -> float:
        if self.learning_rate == "auto":
            return AUTO_LR_PRETRAINED if self.weights is not None else AUTO_LR_SCRATCH
        return super()._learning_rate()

    # ------------------------------------------------------------- state

    def _fitted_state(self) -> dict:
        return {**self._labels_state(), "image_size": list(self.image_size_),
                "channels": self.channels_}

    def _restore_state(self, state: dict) -> None:
        self._restore_labels(state)
        self.image_size_ = tuple(state["image_size"])
        self.channels_ = int(state["channels"])


__all__ = ["ImageClassificationTask"]
