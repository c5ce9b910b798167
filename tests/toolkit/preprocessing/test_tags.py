"""Tag schemes: detection, conversion round trips, repair of invalid sequences."""

from __future__ import annotations

import pytest

from toolkit.preprocessing.tags import convert, detect_scheme, from_spans, tag_set, to_spans

IOB2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "O", "B-ORG"]
IOB1 = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "O", "I-ORG"]
IOBES = ["B-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC", "O", "S-ORG"]
SPANS = [(0, 2, "PER"), (3, 4, "LOC"), (4, 6, "LOC"), (7, 8, "ORG")]


@pytest.mark.parametrize("tags, scheme", [(IOB2, "iob2"), (IOB1, "iob1"), (IOBES, "iobes")])
def test_each_scheme_is_detected_and_read_to_the_same_spans(tags, scheme):
    assert detect_scheme([tags]) == scheme
    assert to_spans(tags, scheme) == SPANS
    assert from_spans(SPANS, len(tags), scheme) == tags


@pytest.mark.parametrize("source, target", [("iob1", "iobes"), ("iobes", "iob2"), ("iob2", "iob1")])
def test_conversions_round_trip(source, target):
    tags = {"iob1": IOB1, "iob2": IOB2, "iobes": IOBES}
    assert convert(convert(tags[source], source, target), target, source) == tags[source]


@pytest.mark.parametrize("tags, scheme, spans", [
    (["O", "I-PER", "I-PER"], "iob2", [(1, 3, "PER")]),          # I- opening an entity
    (["B-PER", "I-LOC"], "iob2", [(0, 1, "PER"), (1, 2, "LOC")]),  # type change inside
    (["O", "E-PER", "O"], "iobes", [(1, 2, "PER")]),              # E- without B-
    (["B-PER", "I-PER"], "iobes", [(0, 2, "PER")]),               # B- never closed
])
def test_invalid_sequences_are_repaired(tags, scheme, spans):
    assert to_spans(tags, scheme) == spans


def test_bad_tags_are_named():
    with pytest.raises(ValueError, match="'PERSON'"):
        detect_scheme([["O", "PERSON"]])
    with pytest.raises(ValueError, match="tag_scheme must be one of"):
        to_spans(["O"], "bilou")


def test_tag_set_lists_o_first():
    assert tag_set(["PER"], "iobes") == ["O", "I-PER", "B-PER", "E-PER", "S-PER"]
