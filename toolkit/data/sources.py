"""One entry point that turns any supported input form into ``(x, y)`` arrays.

Supported forms: Python lists, NumPy arrays, pandas Series/DataFrames (columns by
name), ``tf.data.Dataset`` of ``(x, y)`` pairs (batched or not), table files (CSV/TSV
with a header), ``"tfds:NAME[:SPLIT]"``, and folders (read by the task, e.g. a
class-per-subfolder image directory). A table's input column may hold file paths
(``input_paths=True``), and so may its label column (``label_paths=True``, segmentation
masks): relative ones are taken relative to the table file's folder, as dataset
manifests are written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import tensorflow as tf

from toolkit.data.audio import MAX_CHANNELS
from toolkit.data.tables import TABLE_SUFFIXES, read_table, split_columns
from toolkit.data.tfds_source import is_tfds_spec, load_tfds
from toolkit.preprocessing.labels import check_labels

FolderReader = Callable[[Path], tuple[Any, Any]]
#: Input column names looked for first: texts, or (``input_paths=True``) file paths.
TEXT_COLUMNS = ("text", "sentence")
PATH_COLUMNS = ("path", "file", "filename", "image", "audio")
#: Label column names looked for first when the labels are file paths (masks).
LABEL_PATH_COLUMNS = ("mask", "label")


def read_inputs(
    X: Any,
    y: Any = None,
    *,
    require_labels: bool,
    input_column: str | None = None,
    label_column: str | None = None,
    input_column_name: str = "input_column",
    data_dir: str | Path | None = None,
    read_folder: FolderReader | None = None,
    input_paths: bool = False,
    label_paths: bool = False,
    example_rank: int | None = None,
) -> tuple[Any, Any]:
    """Resolve ``X``/``y`` into an input array and a label array (or ``None``).

    Parameters
    ----------
    X : see module docstring
    y : array-like, optional
        Labels when ``X`` does not carry them.
    require_labels : bool
        Training/evaluation (labels needed) or prediction.
    input_column, label_column : str, optional
        Column names for DataFrames and table files. By default the label column is
        ``"label"`` (else the last column) and the input column the first of
        ``TEXT_COLUMNS`` (``PATH_COLUMNS`` with ``input_paths``) present, else the first
        other column.
    input_column_name : str
        What the caller calls ``input_column`` (e.g. ``"text_column"``), for errors.
    data_dir : path, optional
        tfds data directory.
    read_folder : callable, optional
        ``read_folder(path) -> (x, y)`` for directory inputs.
    input_paths : bool
        The inputs are file paths (images, audio): one such file alone is a list of one,
        a Series becomes a list, and a table file's relative paths are resolved against
        the table's folder.
    label_paths : bool
        The labels are file paths too (segmentation masks), resolved the same way and
        returned as a list; the label column is looked for as ``LABEL_PATH_COLUMNS``
        (``"mask"``, then ``"label"``) before falling back to the last column.
    example_rank : int, optional
        The rank of one input array (an image's 3), so that a ``tf.data.Dataset`` of
        batched inputs alone is unbatched (see :func:`dataset_to_arrays`).

    Returns
    -------
    (x, y)
    """
    if X is None:
        raise ValueError("No input data. Expected X to hold examples. Received: X=None")
    if is_tfds_spec(X):
        X = load_tfds(X, data_dir=data_dir)
    elif (input_paths and isinstance(X, (str, Path)) and Path(X).is_file()
          and Path(X).suffix.lower() not in TABLE_SUFFIXES):
        X = [str(X)]  # one input file (as `toolkit predict DIR photo.png` passes it)
    elif isinstance(X, (str, Path)) and Path(X).exists():
        return _read_path(Path(X), y, require_labels, read_folder, input_column=input_column,
                          label_column=label_column, input_name=input_column_name,
                          input_paths=input_paths, label_paths=label_paths)
    elif isinstance(X, (str, Path)) and (Path(X).suffix.lower() in TABLE_SUFFIXES
                                         or (require_labels and y is None)):
        # Labelled data in one string can only be a file or folder (or tfds:NAME).
        raise ValueError(f"No such file or folder. Received: X={str(X)!r}")
    if isinstance(X, tf.data.Dataset):
        x, y_from_data = dataset_to_arrays(X, input_column=input_column,
                                           label_column=label_column,
                                           input_name=input_column_name,
                                           example_rank=example_rank,
                                           default_input_names=(PATH_COLUMNS if input_paths
                                                                else TEXT_COLUMNS))
        if y_from_data is not None:
            check_no_extra_labels(y, "X, a dataset of (input, label) pairs,")
        return x, read_labels(y_from_data if y is None else y, require_labels)
    if isinstance(X, pd.DataFrame):
        return _read_frame(X, y, folder=None, require_labels=require_labels,
                           input_column=input_column, input_name=input_column_name,
                           label_column=label_column if y is None else None,
                           input_paths=input_paths, label_paths=label_paths)
    if input_paths and isinstance(X, pd.Series):
        X = X.tolist()  # file paths (or arrays), as a list of them is read
    return X, read_labels(y, require_labels)


def _flat_rows(raw) -> list:
    """The labels of ``raw`` as a list; a one-column table's rows become scalars."""
    rows = list(raw)
    if isinstance(raw, np.ndarray) and raw.ndim == 2 and raw.shape[1] == 1:
        rows = [row[0] for row in rows]
    return rows


def dataset_to_arrays(
    dataset: tf.data.Dataset, *, input_column: str | None = None,
    label_column: str | None = None, input_name: str = "input_column",
    example_rank: int | None = None, default_input_names: tuple[str, ...] = TEXT_COLUMNS,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Materialise a finite ``tf.data.Dataset`` of ``(x, y)``, dicts or ``x``.

    A dict element's input and label are its ``input_column`` and ``label_column`` keys
    (by default the first of ``default_input_names`` present, else the first other key,
    and ``"label"``, else the last key), as for a table's columns. Batched datasets are
    unbatched (see :func:`_batched`; ``example_rank`` is the rank of one input example:
    an image's 3, a waveform's 2 as ``tf.audio.decode_wav`` gives it). Inputs of
    different shapes come back as an object array of arrays.
    """
    if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
        raise ValueError("The dataset repeats forever (.repeat() without a count), so it "
                         "cannot be read to the end. Pass it without .repeat().")
    spec = dataset.element_spec
    if isinstance(spec, tuple) and len(spec) == 1:
        dataset, spec = dataset.map(lambda x: x), spec[0]  # (x,): inputs only
    if isinstance(spec, dict) and len(spec) == 1 and (label_column or "label") not in spec:
        (key,) = spec  # {"image": ...}: inputs only, as predict takes them
        dataset = dataset.map(lambda element: element[key])
        spec = dataset.element_spec
    if isinstance(spec, dict) and len(spec) < 2:
        raise ValueError("A dataset of dicts needs an input key and a label key (e.g. "
                         f"'text' and 'label'). Received: keys {list(spec)}")
    if isinstance(spec, tuple) and len(spec) > 2:
        raise ValueError("Expected a dataset of x or (x, y) elements. Received: elements of "
                         f"{len(spec)} parts")
    if isinstance(spec, dict):
        keys = list(spec)
        for name, value in ((input_name, input_column), ("label_column", label_column)):
            if value is not None and value not in keys:
                raise ValueError(f"Key not found. Expected {name} to be one of the dataset's "
                                 f"keys {keys}. Received: {name}={value!r}")
        label_key = label_column or ("label" if "label" in spec else keys[-1])
        named = [k for k in default_input_names if k in spec and k != label_key]
        input_key = input_column or (named[0] if named else next(
            k for k in keys if k != label_key))
        dataset = dataset.map(lambda e: (e[input_key], e[label_key]))
        spec = dataset.element_spec
    paired = isinstance(spec, tuple) and len(spec) == 2
    if _batched(spec, paired=paired, example_rank=example_rank):
        dataset = dataset.unbatch()
    xs, ys = [], []
    for element in dataset.as_numpy_iterator():
        x = element[0] if paired else element
        xs.append(x.decode("utf-8") if isinstance(x, bytes) else x)
        if paired:
            ys.append(element[1].decode("utf-8") if isinstance(element[1], bytes) else element[1])
    if xs and (isinstance(xs[0], str) or len({np.shape(x) for x in xs}) > 1):
        x_array = np.empty(len(xs), dtype=object)  # texts, or arrays of different shapes
        for index, x in enumerate(xs):
            x_array[index] = x
    else:
        x_array = np.asarray(xs)
    return x_array, (np.asarray(ys) if paired else None)


def _batched(spec, *, paired: bool, example_rank: int | None) -> bool:
    """Whether a dataset's elements are batches, not examples.

    Labels are one scalar per example, so labels of rank 1 whose length matches the
    inputs' first axis are a batch (``drop_remainder`` batches have a fixed size);
    one-hot rows, whose length is the class count, are left for :func:`read_labels` to
    refuse. Inputs alone are a batch when their rank exceeds ``example_rank`` (a text's
    is 0, as a text is one scalar string), or equals it with a last axis too wide to be
    channels: ``(None, 28, 28)`` is a batch of grey images, ``(None, 800)`` of mono
    waveforms (``(None, None)`` stays one clip of unknown channels).
    """
    if paired:
        x_spec, label_spec = spec
        if not hasattr(x_spec, "shape") or not label_spec.shape.rank:
            return False
        return bool(x_spec.shape.rank) and x_spec.shape[0] == label_spec.shape[0]
    if spec.dtype == tf.string:
        example_rank = 0
    if example_rank is None or spec.shape.rank is None:
        return False
    if spec.shape.rank == example_rank and example_rank:  # grey images, mono waveforms
        channels = spec.shape[-1]
        return channels is not None and channels > MAX_CHANNELS
    return spec.shape.rank > example_rank


def _read_path(path, y, require_labels, read_folder, **columns):
    """A folder through ``read_folder``, else a table file read by :func:`_read_frame`
    with ``columns`` (its column keywords)."""
    if path.is_dir():
        if read_folder is None:
            raise ValueError(
                "This task does not read folders; pass a table file or arrays. "
                f"Received: X={str(path)!r}"
            )
        x, y_from_folder = read_folder(path)
        if y_from_folder is not None:
            check_no_extra_labels(y, "X, a folder of class subfolders,")
        return x, read_labels(y_from_folder if y is None else y, require_labels)
    return _read_frame(read_table(path), y, folder=path.parent, require_labels=require_labels,
                       **columns)


def _read_frame(frame, y, *, folder, require_labels, input_column, label_column, input_name,
                input_paths, label_paths):
    """``(x, y)`` from a table's columns; path columns resolved against ``folder``."""
    x, y_from_table = split_columns(
        frame, input_column, label_column, require_labels=require_labels and y is None,
        input_name=input_name,
        default_input_names=PATH_COLUMNS if input_paths else TEXT_COLUMNS,
        default_label_names=LABEL_PATH_COLUMNS if label_paths else ("label",),
    )
    if input_paths:
        x = _file_paths(x, folder=folder, column_role="input")
    if label_paths:  # masks, not class labels: the table's paths, or y as given
        if y is None and y_from_table is not None:
            return x, _file_paths(y_from_table, folder=folder, column_role="label")
        return x, y
    return x, read_labels(y_from_table if y is None else y, require_labels)


def _file_paths(column, *, folder: Path | None, column_role: str) -> list[str]:
    """A table's column of file paths as strings, relative ones joined to ``folder``."""
    for row, entry in enumerate(column):
        if not isinstance(entry, (str, Path)) or not str(entry).strip():
            raise ValueError(f"Expected a file path in every row of the {column_role} column. "
                             f"Received: {entry!r} at row {row} (counting from 0)")
    return [str(entry if folder is None else folder / entry) for entry in column]


def check_no_extra_labels(y: Any, source: str, labels: str = "labels", hint: str = "") -> None:
    """Refuse ``y`` given beside data that carries its own labels, rather than drop one.

    Examples
    --------
    >>> check_no_extra_labels([["O"]], "X, a CoNLL file,", "tags")
    Traceback (most recent call last):
    ...
    ValueError: X, a CoNLL file, carries its own tags, so y must be None. Received: y of type list
    """
    if y is not None:
        raise ValueError(f"{source} carries its own {labels}, so y must be None{hint}. "
                         f"Received: y of type {type(y).__name__}")


def read_labels(y: Any, require_labels: bool) -> np.ndarray | None:
    """One label per example as a NumPy array (``None`` stays ``None`` unless required).

    Missing labels and a mix of text and numbers are refused before NumPy would turn
    them into the strings ``"nan"`` and ``"1"``.
    """
    if y is None:
        if require_labels:
            raise ValueError(
                "Labels are required. Pass y, or data that carries labels "
                "(a DataFrame/table with a label column, a (x, y) dataset, a folder). "
                "Received: y=None"
            )
        return None
    if isinstance(y, (str, bytes)):
        raise TypeError(f"y must be a sequence of labels, not a single string. Received: y={y!r}")
    raw = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y
    if isinstance(raw, (dict, set, frozenset)) or not hasattr(raw, "__len__"):
        raise TypeError("y must be a sequence of labels, one per example (list, array, "
                        f"Series). Received: y of type {type(y).__name__}")
    if not isinstance(raw, np.ndarray) or raw.dtype == object:
        # Before NumPy turns a missing label into the string "nan".
        check_labels(_flat_rows(raw))
    try:
        values = np.asarray(raw)
    except ValueError as error:  # ragged: some items are sequences
        raise ValueError("Expected one label per example. Received: labels of different "
                         f"shapes ({str(error).splitlines()[0]})") from None
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise ValueError("Expected one label per example: a 1-D sequence of class labels "
                         f"(not one-hot rows). Received: labels of shape {values.shape}")
    if values.dtype == object:
        # Re-infer: ints or strings boxed as objects (pandas, tf.data) become a typed
        # array, so scikit-learn's metrics see binary/multiclass targets.
        values = np.asarray(values.tolist())
    if values.dtype.kind == "S":  # bytes, as NumPy "S" arrays hold text: scikit-learn and
        values = np.char.decode(values, "utf-8")  # JSON take str
    return values
