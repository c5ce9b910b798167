"""The CoNLL column reader on a small fixture file."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.data.conll import read_conll

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "conll_sample.txt"


def test_sentences_documents_and_columns():
    sentences, tags = read_conll(FIXTURE)
    assert sentences == [["Alice", "Martin", "visited", "Paris", "."],
                         ["Acme", "Corp", "hired", "Bob"], ["Rain", "fell"]]
    assert tags[0] == ["B-PER", "I-PER", "O", "B-LOC", "O"]
    _, chunks = read_conll(FIXTURE, tag_column=2)
    assert chunks[1] == ["B-NP", "I-NP", "B-VP", "B-NP"]


def test_a_byte_order_mark_is_not_read_as_a_token(tmp_path):
    marked = tmp_path / "bom.txt"
    marked.write_bytes(b"\xef\xbb\xbf" + FIXTURE.read_bytes())
    assert read_conll(marked) == read_conll(FIXTURE)


def test_tab_separated_columns_keep_spaces_inside_a_token(tmp_path):
    path = tmp_path / "tabs.tsv"
    path.write_text("New York\tB-LOC \nis\tO\n\nEU NNP B-ORG\n")
    assert read_conll(path) == ([["New York", "is"], ["EU"]], [["B-LOC", "O"], ["B-ORG"]])


def test_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_conll(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("EU B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Line 2 .*bad.txt"):
        read_conll(bad, tag_column=1)
    empty = tmp_path / "empty.txt"
    empty.write_text("-DOCSTART- -X- O\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="No sentences"):
        read_conll(empty)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(ValueError, match="binary.txt.*not UTF-8"):
        read_conll(binary)
    with pytest.raises(ValueError, match="token_column must be a column position"):
        read_conll(FIXTURE, token_column="a")
