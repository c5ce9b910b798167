"""Entity tag schemes (IOB1, IOB2/BIO, IOBES): detection, spans, conversion, repair.

A tag is ``"O"`` or ``"<prefix>-<TYPE>"``. Every conversion goes through entity spans
``(start, end, type)`` (``end`` exclusive), so an invalid sequence (``I-PER`` after
``O``, an ``E-`` without its ``B-``) is repaired the way conlleval reads it: a token
that cannot continue the current entity starts a new one.

Examples
--------
>>> to_spans(["B-PER", "I-PER", "O", "I-LOC"], "iob2")
[(0, 2, 'PER'), (3, 4, 'LOC')]
>>> convert(["B-PER", "I-PER", "O", "B-LOC"], "iob2", "iobes")
['B-PER', 'E-PER', 'O', 'S-LOC']
"""

from __future__ import annotations

from collections.abc import Sequence

TAG_SCHEMES = ("iob1", "iob2", "iobes")
_PREFIXES = {"iob1": "IB", "iob2": "IB", "iobes": "IBES"}

Span = tuple[int, int, str]


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", None)``; anything else fails."""
    if tag == "O":
        return "O", None
    prefix, dash, entity_type = tag.partition("-")
    if not dash or prefix not in "IBES" or len(prefix) != 1 or not entity_type:
        raise ValueError(
            "Tags must be 'O' or '<B|I|E|S>-<TYPE>' (e.g. 'B-PER'). "
            f"Received: tag={tag!r}"
        )
    return prefix, entity_type


def detect_scheme(sequences: Sequence[Sequence[str]]) -> str:
    """Guess the scheme of tag ``sequences``: ``"iobes"``, ``"iob2"`` or ``"iob1"``.

    ``E-``/``S-`` prefixes mean IOBES; an ``I-`` that starts an entity (after ``O`` or
    another type) means IOB1; otherwise IOB2.
    """
    scheme = "iob2"
    for tags in sequences:
        previous = None
        for tag in tags:
            prefix, entity_type = split_tag(tag)
            if prefix in "ES":
                return "iobes"
            if prefix == "I" and previous != entity_type:
                scheme = "iob1"
            previous = entity_type
    return scheme


def check_scheme(scheme: str) -> str:
    if scheme not in TAG_SCHEMES:
        raise ValueError(f"tag_scheme must be one of {TAG_SCHEMES} or 'auto'. "
                         f"Received: tag_scheme={scheme!r}")
    return scheme


def to_spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """Entity spans of ``tags`` read in ``scheme``, invalid sequences repaired."""
    check_scheme(scheme)
    spans: list[Span] = []
    start, current = None, None
    for index, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        continues = (current is not None and entity_type == current
                     and prefix in ("I", "E") and not (scheme == "iob1" and prefix == "E"))
        if scheme == "iob1" and prefix == "B":
            continues = False
        if current is not None and not continues:
            spans.append((start, index, current))
            current = None
        if entity_type is not None and current is None:
            start, current = index, entity_type
        if scheme == "iobes" and prefix in ("E", "S") and current is not None:
            spans.append((start, index + 1, current))
            current = None
    if current is not None:
        spans.append((start, len(tags), current))
    return spans


def from_spans(spans: Sequence[Span], length: int, scheme: str) -> list[str]:
    """Tags of ``length`` tokens in ``scheme`` for non-overlapping ``spans``."""
    check_scheme(scheme)
    tags = ["O"] * length
    previous_end, previous_type = None, None
    for start, end, entity_type in sorted(spans):
        inside = [f"I-{entity_type}"] * (end - start)
        if scheme == "iob2" or (
            scheme == "iob1" and previous_end == start and previous_type == entity_type
        ):
            inside[0] = f"B-{entity_type}"
        elif scheme == "iobes":
            inside[0] = f"B-{entity_type}"
            inside[-1] = f"E-{entity_type}" if end - start > 1 else f"S-{entity_type}"
        tags[start:end] = inside
        previous_end, previous_type = end, entity_type
    return tags


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Re-write ``tags`` from scheme ``source`` into scheme ``target``."""
    return from_spans(to_spans(tags, source), len(tags), target)


def tag_set(entity_types: Sequence[str], scheme: str) -> list[str]:
    """All tags of ``scheme`` over ``entity_types``, ``"O"`` first."""
    prefixes = _PREFIXES[check_scheme(scheme)]
    return ["O"] + [f"{p}-{t}" for t in sorted(entity_types) for p in prefixes]
