"""CoNLL column files: one token per line, columns split by tabs (when a line has them)
or whitespace, blank lines between sentences, ``-DOCSTART-`` lines between documents."""

from __future__ import annotations

from pathlib import Path


def read_conll(
    path: str | Path, *, token_column: int = 0, tag_column: int = -1
) -> tuple[list[list[str]], list[list[str]]]:
    """Read sentences and their tags from a CoNLL column file.

    Parameters
    ----------
    path : path
        The file (UTF-8).
    token_column, tag_column : int
        Column indices of the token and of the tag (negative counts from the end;
        CoNLL-2003's NER tag is the last column, ``-1``).

    Returns
    -------
    (sentences, tags)
        Lists of token lists and tag lists, one pair per sentence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.txt"
    >>> _ = path.write_text("-DOCSTART- -X- O\\n\\nEU NNP B-ORG\\nrejects VBZ O\\n")
    >>> read_conll(path)
    ([['EU', 'rejects']], [['B-ORG', 'O']])
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"CoNLL file not found. Received: path={str(path)!r}")
    check_column_positions(token_column=token_column, tag_column=tag_column)
    sentences, tags = [], []
    tokens, labels = [], []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a BOM is not a token
    except UnicodeDecodeError as error:
        raise ValueError(f"{str(path)!r} is not UTF-8 text, so not a CoNLL file: "
                         f"{error.reason} at byte {error.start}") from None
    for line_number, line in enumerate(lines, start=1):
        text = line.strip()
        # Tab-separated lines keep spaces inside a column ("New York"); others split on any.
        columns = [c.strip() for c in text.split("\t")] if "\t" in text else text.split()
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                sentences.append(tokens)
                tags.append(labels)
            tokens, labels = [], []
            continue
        try:
            token, label = columns[token_column], columns[tag_column]
        except IndexError:
            raise ValueError(
                f"Line {line_number} of {str(path)!r} has {len(columns)} column(s); "
                f"token_column={token_column} and tag_column={tag_column} need more. "
                f"Received: {line.rstrip()!r}"
            ) from None
        tokens.append(token)
        labels.append(label)
    if tokens:
        sentences.append(tokens)
        tags.append(labels)
    if not sentences:
        raise ValueError(f"No sentences in CoNLL file {str(path)!r}")
    return sentences, tags


def check_column_positions(**positions: int) -> None:
    """Refuse a column position that is not an int (``token_column=0``, ``tag_column=-1``).

    Examples
    --------
    >>> check_column_positions(token_column=0, tag_column=-1)
    >>> check_column_positions(tag_column="ner")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: tag_column must be a column position ... Received: tag_column='ner'
    """
    for name, value in positions.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a column position (an int, -1 for the last). "
                             f"Received: {name}={value!r}")
