"""CSV/TSV files and pandas DataFrames."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.data.audio import AUDIO_SUFFIXES
from toolkit.preprocessing.image import IMAGE_SUFFIXES

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": "\t"}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (``,``) or TSV (``.tsv``/``.txt``, tab) file with a header row.

    CSV fields follow RFC 4180 quoting (a field holding a comma or a quote is quoted, as
    pandas and spreadsheets write it); tab-separated fields are read as they are, quotes
    being part of the text (GLUE's and CoNLL's convention).
    """
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(
            f"Expected a table file ending in one of {sorted(TABLE_SUFFIXES)}. "
            f"Received: path={str(path)!r}"
        )
    # Types are inferred as pandas.read_csv does, so labels read here equal labels the
    # user read with pandas (0/1 stay ints); only empty cells count as missing.
    try:
        separator = TABLE_SUFFIXES[path.suffix.lower()]
        frame = pd.read_csv(
            path, sep=separator, keep_default_na=False, na_values=[""],
            quoting=csv.QUOTE_MINIMAL if separator == "," else csv.QUOTE_NONE,
        )
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"Could not read {str(path)!r} as a table with a header row: "
                         f"{str(error).splitlines()[0]}") from None
    if frame.empty:
        raise ValueError(f"The table has no rows. Received: path={str(path)!r}")
    _check_header(frame, path)
    return frame


#: A header cell of this many words is a sentence, not a column name.
HEADER_MAX_WORDS = 6
#: A header cell ending so is a file path (an image, a clip, a mask), not a column name.
DATA_FILE_SUFFIXES = IMAGE_SUFFIXES + AUDIO_SUFFIXES


def _check_header(frame: pd.DataFrame, path: Path) -> None:
    """Refuse a first row that is data, which pandas would take as the header and drop:
    one cell a sentence or a file path while another is also a value of its column (a
    label), as in a headerless ``text<TAB>label`` or ``path,label`` file, or every cell
    a file path (image and mask). A sentence alone is a descriptive column name, and a
    column may be named after one of its values."""
    names = [str(name) for name in frame.columns]
    paths = [n for n in names if n.strip().lower().endswith(DATA_FILE_SUFFIXES)]
    datum = next((n for n in names if len(n.split()) >= HEADER_MAX_WORDS), None) or next(
        iter(paths), None)
    repeated = next((str(name) for name in frame.columns if str(name) != datum
                     and _holds_value(frame[name], name)), None)
    if datum is not None and (repeated is not None or len(paths) == len(names)):
        reason = (f"{repeated[:40]!r} is also a value of its column" if repeated is not None
                  else "every cell is a file path")
        raise ValueError(
            f"The first row of {str(path)!r} looks like data, not a header: {datum[:40]!r} "
            f"is a sentence or a file path and {reason}. Table files need a header row "
            "naming the columns; or read this one with pandas.read_csv(path, sep=..., "
            "header=None, names=[...]) and pass the DataFrame.")


def _holds_value(column: pd.Series, name) -> bool:
    """Whether ``column`` holds its own header ``name``, compared as the type pandas read
    the values as (a header is text; 1 and "1" differ, as in ``to_csv`` of int labels)."""
    if _is_text(column):
        return bool((column == str(name)).any())
    if pd.api.types.is_integer_dtype(column.dtype) and str(name).lstrip("-").isdigit():
        return bool((column == int(name)).any())
    return False


def _is_text(column: pd.Series) -> bool:
    """Whether pandas read ``column`` as text (object, or pandas 3's string dtype)."""
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)


def split_columns(
    frame: pd.DataFrame,
    input_column: str | None,
    label_column: str | None,
    *,
    require_labels: bool,
    default_input_names: tuple[str, ...] = ("text", "sentence"),
    default_label_names: tuple[str, ...] = ("label",),
    input_name: str = "input_column",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Pick the input and label columns of ``frame``.

    ``label_column=None`` means the first of ``default_label_names`` present, else
    (when labels are required) the last column;
    ``input_column=None`` means the first of ``default_input_names`` present, else the
    first column of text that is not the label column, else the first other column.
    ``input_name`` is what errors call ``input_column`` (the caller's parameter, such as
    ``"text_column"``).
    """
    columns = [str(c) for c in frame.columns]
    # Columns are named by text: a DataFrame's column 0 is "0" (as in a file's header).
    if len(set(columns)) < len(columns):
        raise ValueError(f"Column names must be distinct (as text). Received: columns={columns}")
    if list(frame.columns) != columns:  # relabel (a new frame) only when needed
        frame = frame.set_axis(columns, axis=1)
    if not require_labels and label_column not in columns:
        label_column = None  # a table to predict on need not hold the labels
    named = [name for name in default_label_names if name in columns]
    if label_column is None and (named or require_labels):
        label_column = named[0] if named else columns[-1]
    if input_column is None:
        present = [name for name in default_input_names if name in columns]
        others = [c for c in columns if c != label_column]
        if not (present or others):
            raise ValueError(
                "No input column left: the only column is the label column. Expected a "
                f"table with an input column and a label column. Received: columns={columns}"
            )
        # Texts and paths are strings: an integer id column before them is not the input.
        textual = [c for c in others if _is_text(frame[c])]
        input_column = present[0] if present else (textual or others)[0]
    for name, value in ((input_name, input_column), ("label_column", label_column)):
        if value is not None and value not in columns:
            raise ValueError(
                f"Column not found. Expected {name} to be one of {columns}. "
                f"Received: {name}={value!r}"
            )
    x = frame[input_column].to_numpy(dtype=object)
    has_labels = label_column is not None and label_column != input_column
    if require_labels and not has_labels:
        raise ValueError(
            f"No label column found. Expected label_column to name one of {columns}. "
            f"Received: label_column={label_column!r}"
        )
    y = frame[label_column].to_numpy() if require_labels else None
    return x, y
