"""Image input: reading folders and files, checking arrays, normalising inside the model."""

from __future__ import annotations

from pathlib import Path
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from PIL import Image

from toolkit.backbones.registry import serializable

NORMALIZATIONS = ("none", "unit", "tf", "caffe", "torch", "raw")
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
AUGMENTATIONS = (None, "light", "flip")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
#: RGB to grey (ITU-R 601 luma), as PIL's "L" and ``tf.image.rgb_to_grayscale``.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
#: PIL modes of grey images wider than 8 bits (16-bit PNGs, 32-bit integer TIFFs).
_WIDE_GREY_MODES = ("I;16", "I;16B", "I;16L", "I")


@serializable
class ImageNormalization(keras.layers.Layer):
    """Map 0..255 pixels to what a backbone expects (see ``BackboneSpec.normalization``).

    ``"unit"``: ``x / 255``; ``"tf"``: to ``[-1, 1]``; ``"caffe"``: RGB->BGR minus the
    ImageNet means; ``"torch"``: ImageNet mean/std on ``x / 255``; ``"raw"``/``"none"``:
    unchanged (the backbone normalises itself).
    """

    def __init__(self, mode: str = "unit", **kwargs):
        super().__init__(**kwargs)
        if mode not in NORMALIZATIONS:
            raise ValueError(f"mode must be one of {NORMALIZATIONS}. Received: mode={mode!r}")
        self.mode = mode

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)
        if self.mode == "unit":
            return images / 255.0
        if self.mode == "tf":
            return images / 127.5 - 1.0
        if self.mode == "caffe":
            return ops.flip(images, axis=-1) - ops.convert_to_tensor(_CAFFE_MEAN_BGR, images.dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_IMAGENET_MEAN, images.dtype)
            std = ops.convert_to_tensor(_IMAGENET_STD, images.dtype)
            return (images / 255.0 - mean) / std
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def augmentation_layers(augment: str | None) -> list[keras.layers.Layer]:
    """Random train-time transforms (inactive at inference).

    ``"light"``: small shifts, zooms and rotations, safe for digits and text;
    ``"flip"``: ``"light"`` plus horizontal flips, for natural photos.
    """
    if augment not in AUGMENTATIONS:
        raise ValueError(f"augment must be one of {AUGMENTATIONS}. Received: augment={augment!r}")
    if augment is None:
        return []
    layers = [
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", name="random_shift"),
        keras.layers.RandomZoom(0.1, fill_mode="constant", name="random_zoom"),
        keras.layers.RandomRotation(0.04, fill_mode="constant", name="random_rotation"),
    ]
    if augment == "flip":
        layers.insert(0, keras.layers.RandomFlip("horizontal", name="random_flip"))
    return layers


def as_image_size(image_size) -> tuple[int, int]:
    """``image_size`` (an int, or (height, width)) as a pair of positive ints.

    Examples
    --------
    >>> as_image_size(32), as_image_size([24, 48])
    ((32, 32), (24, 48))
    """
    sides = [image_size] * 2 if not isinstance(image_size, (tuple, list)) else list(image_size)
    if len(sides) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                               and v > 0 for v in sides):
        return (int(sides[0]), int(sides[1]))
    raise ValueError("image_size must be a positive int or (height, width) of positive ints. "
                     f"Received: image_size={image_size!r}")


def check_images(images) -> np.ndarray:
    """Return images as ``(n, h, w, c)``; grey ``(n, h, w)`` gains a channel axis.

    Raises a clear error for the wrong rank, non-numeric data, NaN/inf, or no images;
    warns when float images lie within [0, 1], as pixels are taken to be 0-255.
    """
    try:
        array = np.asarray(images)
    except ValueError:  # a list of arrays of different shapes
        raise ValueError("Images given as arrays must all have one shape (resize them, or "
                         "pass image paths, which are resized on reading).") from None
    if array.ndim == 1 and array.size == 0:
        raise ValueError("No images. Received: an empty X")
    if array.ndim == 1 and array.size and all(isinstance(v, (str, Path)) for v in array):
        other = next((str(v) for v in array if not str(v).lower().endswith(IMAGE_SUFFIXES)),
                     str(array[0]))
        raise ValueError(f"Expected image file paths ending in one of {IMAGE_SUFFIXES}. "
                         f"Received: {other!r}")
    if (array.dtype == object or not np.issubdtype(array.dtype, np.number)
            or np.iscomplexobj(array)):
        raise TypeError(
            "Images must be a real numeric array (n, height, width[, channels]) or image "
            f"paths. Received: dtype={array.dtype}"
        )
    if array.ndim == 3 and array.shape[-1] in (1, 3, 4):
        raise ValueError(
            "This looks like a single (height, width, channels) image, not a batch of grey "
            f"images: pass images[None] or [image]. Received: shape={array.shape}"
        )
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "Images must have shape (n, height, width) or (n, height, width, channels) with "
            f"1, 3 or 4 channels. Received: shape={array.shape}"
        )
    if array.size == 0:
        raise ValueError("No images, or images with no pixels. Received: shape="
                         + str(array.shape))
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("Images contain NaN or infinite values.")
        if 0 < array.max() <= 1 and array.min() >= 0:
            warnings.warn("The images are floats within [0, 1], but pixels are read as 0-255 "
                          "(as image files give them): to the model these are nearly black. "
                          "Pass images * 255.", UserWarning, stacklevel=2)
    return array[..., :3] if array.shape[-1] == 4 else array


def read_image_folder(path: Path, image_size: tuple[int, int], channels: int):
    """Read a class-per-subfolder directory with ``keras.utils.image_dataset_from_directory``.

    Returns ``(images uint8 (n, h, w, c), labels as folder names)``.
    """
    dataset = keras.utils.image_dataset_from_directory(
        path, labels="inferred", label_mode="int", image_size=tuple(image_size),
        color_mode="grayscale" if channels == 1 else "rgb", shuffle=False, batch_size=64,
        verbose=False,
    )
    images, labels = [], []
    for batch_images, batch_labels in dataset:
        images.append(np.clip(np.round(batch_images.numpy()), 0, 255).astype("uint8"))
        labels.append(batch_labels.numpy())
    if not images:
        raise ValueError(f"No images found in class subfolders of {str(path)!r}")
    names = np.asarray(dataset.class_names, dtype=object)
    return np.concatenate(images), names[np.concatenate(labels)]


def read_image(path: str | Path, channels: int = 3,
               image_size: tuple[int, int] | None = None, *,
               interpolation: str = "nearest") -> np.ndarray:
    """Load one image file as a uint8 ``(h, w, channels)`` array (1: grey, 3: RGB),
    resized to ``image_size`` when given: ``"nearest"`` neighbour (as Keras's
    ``load_img``; masks need it), or ``"bilinear"`` as :func:`read_image_folder` resizes
    (``tf.image.resize``, rounded), so files and folders of the same photos agree.

    16-bit grey images are scaled to 0..255 (``value / 257``), as TensorFlow's PNG
    decoder does for folders, rather than wrapped or clipped.

    Raises
    ------
    ValueError
        If the file is missing or not an image PIL can read.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> path = tempfile.mkdtemp() + "/grey.png"
    >>> Image.fromarray(np.zeros((4, 6), "uint8")).save(path)
    >>> read_image(path).shape, read_image(path, channels=1, image_size=(2, 3)).shape
    ((4, 6, 3), (2, 3, 1))
    """
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError("interpolation must be 'nearest' or 'bilinear'. "
                         f"Received: interpolation={interpolation!r}")
    if not Path(path).is_file():
        raise ValueError(f"Image file not found. Received: {str(path)!r}")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in _WIDE_GREY_MODES:
                wide = np.asarray(image, dtype="float64")
                image = Image.fromarray(np.round(wide / 257).clip(0, 255).astype("uint8")
                                        if wide.max(initial=0) > 255 else wide.astype("uint8"))
            image = image.convert("L" if channels == 1 else "RGB")
            resize = image_size is not None and image.size != (image_size[1], image_size[0])
            if resize and interpolation == "nearest":
                image = image.resize((image_size[1], image_size[0]), Image.NEAREST)
            array = np.asarray(image, dtype="uint8")
    except Exception as error:  # PIL raises several types for unreadable files
        raise ValueError(f"Could not read image {str(path)!r}: {error}") from error
    array = array[..., np.newaxis] if array.ndim == 2 else array
    if resize and interpolation == "bilinear":
        resized = tf.image.resize(array, image_size, method="bilinear").numpy()
        array = np.clip(np.round(resized), 0, 255).astype("uint8")
    return array


def read_image_files(paths, image_size: tuple[int, int], channels: int, *,
                     interpolation: str = "nearest") -> np.ndarray:
    """Load image files, resized to ``image_size`` (see :func:`read_image`), as a uint8
    array."""
    return np.stack([read_image(path, channels, image_size, interpolation=interpolation)
                     for path in paths])


#: Normalisations with one mean (and deviation) per RGB channel: grey input becomes RGB.
PER_CHANNEL_NORMALIZATIONS = ("caffe", "torch")


def model_channels(normalization: str, pretrained: bool, data_channels: int) -> int:
    """The channels a vision model takes: 3 for pretrained weights (ImageNet is RGB) or
    a per-RGB-channel normalisation (``"caffe"``, ``"torch"``), else the data's.

    Examples
    --------
    >>> model_channels("caffe", False, 1), model_channels("unit", False, 1)
    (3, 1)
    """
    if pretrained or normalization in PER_CHANNEL_NORMALIZATIONS:
        return 3
    return int(data_channels)


def match_channels_and_size(images: np.ndarray, channels: int,
                            image_size: tuple[int, int]) -> np.ndarray:
    """Images ``(..., h, w, c)`` with ``channels`` channels (grey repeated to RGB, RGB
    made grey by ITU-R 601 luma, as PIL and ``tf.image.rgb_to_grayscale`` do, so arrays,
    files and folders agree) at ``image_size`` (bilinear); unchanged where they already
    match.

    Examples
    --------
    >>> match_channels_and_size(np.zeros((2, 4, 4, 1), "uint8"), 3, (8, 6)).shape
    (2, 8, 6, 3)
    >>> match_channels_and_size(np.full((1, 2, 2, 3), [255, 0, 0]), 1, (2, 2))[0, 0, 0]
    array([76.245])
    """
    if images.shape[-1] != channels:
        images = (np.repeat(images, 3, axis=-1) if channels == 3
                  else (np.asarray(images, "float64") @ LUMA_WEIGHTS)[..., np.newaxis])
    if tuple(images.shape[-3:-1]) != tuple(image_size):
        images = tf.image.resize(images, image_size).numpy()
    return images


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def is_image_path_list(value) -> bool:
    """Whether ``value`` is a non-empty list of image file paths."""
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(v, (str, Path)) and str(v).lower().endswith(IMAGE_SUFFIXES) for v in value)
    )
