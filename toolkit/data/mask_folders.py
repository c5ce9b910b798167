"""Image/mask folder pairs for segmentation: match each image file to its mask file.

A mask matches an image when its file stem is the image's stem, optionally followed
by ``_mask``, ``-mask`` or ``_masks`` (Penn-Fudan's ``FudanPed00001.png`` /
``FudanPed00001_mask.png``; VOC's ``2007_000032.jpg`` / ``2007_000032.png``).
"""

from __future__ import annotations

from pathlib import Path

from toolkit.preprocessing.image import IMAGE_SUFFIXES, list_images

#: Sub-folder names tried, in order, when a single root folder is given.
IMAGE_FOLDERS = ("images", "JPEGImages", "PNGImages", "img")
MASK_FOLDERS = ("masks", "SegmentationClass", "PedMasks", "annotations", "labels")
_MASK_STEM_SUFFIXES = ("", "_mask", "-mask", "_masks")


def pair_mask_files(image_dir: str | Path, mask_dir: str | Path) -> tuple[list[str], list[str]]:
    """Return ``(image_paths, mask_paths)`` for every image in ``image_dir``, sorted.

    Raises
    ------
    ValueError
        If a folder is missing, holds no images, or an image has no mask (the message
        names the first few).

    Examples
    --------
    >>> images, masks = pair_mask_files("PennFudanPed/PNGImages",
    ...                                 "PennFudanPed/PedMasks")  # doctest: +SKIP
    """
    image_dir, mask_dir = Path(image_dir), Path(mask_dir)
    for name, folder in (("image", image_dir), ("mask", mask_dir)):
        if not folder.is_dir():
            raise ValueError(f"The {name} folder does not exist. Received: {str(folder)!r}")
    images = list_images(image_dir)
    if not images:
        raise ValueError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) in {str(image_dir)!r}")
    by_stem = {p.stem: p for p in list_images(mask_dir)}
    masks, missing = [], []
    for image in images:
        match = next((by_stem[image.stem + suffix] for suffix in _MASK_STEM_SUFFIXES
                      if image.stem + suffix in by_stem), None)
        if match is None:
            missing.append(image.name)
        masks.append(match)
    if missing:
        raise ValueError(
            f"{len(missing)} image(s) have no mask file in {str(mask_dir)!r} (expected the "
            f"image's name, or name + '_mask', '-mask' or '_masks', with an image suffix). "
            f"Received: images without masks {missing[:5]}"
        )
    return [str(p) for p in images], [str(p) for p in masks]


def find_mask_folders(root: str | Path) -> tuple[Path, Path]:
    """The image and mask sub-folders of a dataset ``root`` (see ``IMAGE_FOLDERS``)."""
    root = Path(root)
    image_dir = next((root / n for n in IMAGE_FOLDERS if (root / n).is_dir()), None)
    mask_dir = next((root / n for n in MASK_FOLDERS if (root / n).is_dir()), None)
    if image_dir is None or mask_dir is None:
        raise ValueError(
            f"A segmentation folder needs an image sub-folder (one of {IMAGE_FOLDERS}) and a "
            f"mask sub-folder (one of {MASK_FOLDERS}), or pass X=image_folder, "
            f"y=mask_folder. Received: {str(root)!r}"
        )
    return image_dir, mask_dir


__all__ = ["pair_mask_files", "find_mask_folders"]
