"""Output folders (a saved task, a report, predicted masks): made, or refused clearly."""

from __future__ import annotations

import os
from pathlib import Path


def output_folder(path: str | os.PathLike, what: str) -> Path:
    """Create the folder ``path`` (and its parents) if missing and return it.

    Parameters
    ----------
    path : str or path-like
        The folder; it may exist already.
    what : str
        What goes there, for the error message (``"a task"``, ``"a report"``).

    Raises
    ------
    ValueError
        If ``path`` or one of its parents is a file, or the folder cannot be created.

    Examples
    --------
    >>> import tempfile
    >>> output_folder(Path(tempfile.mkdtemp()) / "report", "a report").is_dir()
    True
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{what.capitalize()} is saved to a folder, but {str(folder)!r} is a "
                         "file. Choose a new or existing folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"Cannot create the folder {str(folder)!r} for {what}: "
                         f"{error.strerror or error}") from error
    return folder
