"""Segmentation masks: reading PNGs (class indices, palettes, instance ids), checking,
collapsing instances to classes, and nearest-neighbour resizing that keeps class ids.

A *mask* is a 2-D integer array the size of its image, one class index per pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

#: PIL modes whose pixel values are the class (or instance) indices themselves.
_INDEX_MODES = ("L", "P", "I", "I;16", "1")


def read_mask(path: str | Path, palette: list | dict | None = None) -> np.ndarray:
    """Read one mask file as a 2-D ``int32`` array of class (or instance) indices.

    Parameters
    ----------
    path : str or Path
        A PNG (or any lossless format PIL reads). Grey (``L``/``I``) and palette
        (``P``, as in Pascal VOC) images store the index in each pixel and are read
        as they are; RGB masks need ``palette``.
    palette : list or dict, optional
        For colour masks: a list of ``(r, g, b)`` colours, the class index being the
        position in the list (the VOC convention), or ``{(r, g, b): class_index}``. A
        colour missing from it is an error naming the colour.

    Raises
    ------
    ValueError
        If the file is missing or unreadable, or an RGB mask has no ``palette``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> path = tempfile.mkdtemp() + "/m.png"
    >>> Image.fromarray(np.array([[0, 1], [2, 0]], "uint8")).save(path)
    >>> read_mask(path).tolist()
    [[0, 1], [2, 0]]
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Mask file not found. Received: {str(path)!r}")
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            array = np.asarray(image)
    except Exception as error:  # PIL raises several types for unreadable files
        raise ValueError(f"Could not read mask {str(path)!r}: {error}") from error
    if mode in _INDEX_MODES:
        return array.astype("int32")
    if palette is None:
        raise ValueError(
            f"Mask {str(path)!r} is a colour ({mode}) image: expected class indices (a grey "
            "or palette PNG), or pass palette=[(r, g, b) of class 0, ...]. Received: palette=None"
        )
    return colors_to_classes(array[..., :3], palette, source=str(path))


def colors_to_classes(rgb: np.ndarray, palette, source: str = "mask") -> np.ndarray:
    """Map an ``(h, w, 3)`` colour mask to class indices through ``palette`` (see
    :func:`read_mask`)."""
    if not isinstance(palette, dict):
        palette = {tuple(colour): index for index, colour in enumerate(palette)}
    codes = (rgb[..., 0].astype("int64") << 16) | (rgb[..., 1].astype("int64") << 8) | rgb[..., 2]
    lookup = {(int(r) << 16) | (int(g) << 8) | int(b): int(index)
              for (r, g, b), index in palette.items()}
    unique, inverse = np.unique(codes, return_inverse=True)
    missing = [code for code in unique.tolist() if code not in lookup]
    if missing:
        colours = [((c >> 16) & 255, (c >> 8) & 255, c & 255) for c in missing[:5]]
        raise ValueError(
            f"{source} has colours that are not in the palette: {colours}. "
            f"Received: palette with colours {list(palette)[:10]}"
        )
    return np.asarray([lookup[code] for code in unique.tolist()], "int32")[inverse].reshape(
        codes.shape)


def check_palette(palette: list | dict | None) -> None:
    """Refuse a ``palette`` (see :func:`read_mask`) that is not ``None``, a list of
    distinct ``(r, g, b)`` colours or a ``{(r, g, b): class id}`` dict.

    Examples
    --------
    >>> check_palette([(0, 0, 0), (128, 0, 0)])
    >>> check_palette([(0, 0)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: palette must be a list of (r, g, b) colours... Received: a palette entry (0, 0)
    """
    if palette is None:
        return
    valid = ("a list of (r, g, b) colours, class 0's first, or a dict {(r, g, b): class id}, "
             "each channel an int in [0, 255]")
    if isinstance(palette, np.ndarray):
        palette = palette.tolist()
    if isinstance(palette, dict):
        colours, ids = list(palette), list(palette.values())
    elif isinstance(palette, (list, tuple)):
        colours, ids = list(palette), []
    else:
        raise ValueError(f"palette must be {valid}. Received: palette={palette!r}")
    for colour in colours:
        channels = list(colour) if isinstance(colour, (list, tuple, np.ndarray)) else None
        if channels is None or len(channels) != 3 or not all(
                isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c <= 255
                for c in channels):
            raise ValueError(f"palette must be {valid}. Received: a palette entry {colour!r}")
    for index in ids:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError(f"palette class ids must be integers >= 0. Received: {index!r}")
    if len({tuple(int(c) for c in colour) for colour in colours}) < len(colours):
        raise ValueError("palette lists a colour twice, so its class is ambiguous. "
                         f"Received: palette={palette!r}")


def collapse_instances(mask: np.ndarray, object_class: int = 1) -> np.ndarray:
    """Turn an instance mask (0 background, k = object k) into a semantic mask.

    Every non-zero pixel becomes ``object_class``.

    Examples
    --------
    >>> collapse_instances(np.array([[0, 1], [2, 3]])).tolist()
    [[0, 1], [1, 1]]
    """
    return np.where(np.asarray(mask) > 0, object_class, 0).astype("int32")


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a 2-D mask to ``(height, width)``.

    Every output pixel copies the input pixel its centre falls in, so no new class
    id can appear (bilinear interpolation would invent ids between two classes).

    Examples
    --------
    >>> resize_mask(np.array([[0, 2], [5, 1]]), (4, 4)).tolist()[0]
    [0, 0, 2, 2]
    """
    mask = np.asarray(mask)
    height, width = int(size[0]), int(size[1])
    rows = np.minimum(((np.arange(height) + 0.5) * mask.shape[0] / height).astype(int),
                      mask.shape[0] - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * mask.shape[1] / width).astype(int),
                      mask.shape[1] - 1)
    return mask[rows[:, None], cols[None, :]]


def check_mask(mask, image_shape: tuple[int, ...], num_classes: int | None = None,
               ignore_index: int | None = None, name: str = "mask") -> np.ndarray:
    """Validate one mask against its image and the class range; return it as ``int32``.

    Parameters
    ----------
    mask : array-like
        ``(h, w)`` (or ``(h, w, 1)``) integer class indices.
    image_shape : tuple
        Shape of the image the mask belongs to; height and width must match.
    num_classes : int, optional
        Ids must lie in ``[0, num_classes)`` (``ignore_index`` excepted).
    ignore_index : int, optional
        An id marking pixels left out of loss and metrics (VOC's 255 borders).
    name : str
        What to call the mask in errors (its file name, or ``mask 3``).

    Raises
    ------
    ValueError
        Wrong rank, non-integer values, size differing from the image, or ids out of range.
    """
    array = np.asarray(mask)
    if array.dtype == bool:  # a binary mask, e.g. `labels == 1`: background 0, object 1
        array = array.astype("uint8")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(
            f"Each mask must be 2-D (height, width) class indices. Received: {name} with "
            f"shape={array.shape}"
        )
    if not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(array == np.round(array)):
            raise ValueError(
                f"Masks must hold integer class indices. Received: {name} with "
                f"dtype={array.dtype}"
            )
    if tuple(array.shape) != tuple(image_shape[:2]):
        raise ValueError(
            f"Each mask must have its image's height and width. Received: {name} with "
            f"shape={array.shape[:2]} for an image of shape={tuple(image_shape[:2])}"
        )
    limits = np.iinfo("int32")
    if array.size and (array.min() < limits.min or array.max() > limits.max):
        raise ValueError(
            f"Class ids must fit in int32 ([{limits.min}, {limits.max}]). Received: {name} "
            f"with ids from {array.min()} to {array.max()}"
        )
    array = array.astype("int32")
    valid = array if ignore_index is None else array[array != ignore_index]
    if valid.size and valid.min() < 0:
        raise ValueError(f"Class ids must be >= 0. Received: {name} has id {int(valid.min())}")
    if num_classes is not None and valid.size and valid.max() >= num_classes:
        raise ValueError(
            f"Class ids must be in [0, {num_classes}) for num_classes={num_classes}"
            f"{'' if ignore_index is None else f' (or ignore_index={ignore_index})'}. "
            f"Received: {name} has id {int(valid.max())}"
        )
    return array


__all__ = ["read_mask", "colors_to_classes", "collapse_instances", "resize_mask", "check_mask"]
