"""Per-token features for taggers: word ids, character ids and a casing class.

Words are looked up lower-cased with digits mapped to ``0`` (so "1996" and "2001" share
a vector), and the case information lowercasing removes comes back as a small casing
feature (Lample et al., 2016); characters keep everything, so a character CNN sees
capitals, digits and affixes. The vocabularies are plain JSON state for ``task.json``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

from toolkit.data.checks import check_string_list
from toolkit.preprocessing.text import OOV_ID, PAD_ID

#: Characters kept per token; longer tokens are cut (their start carries the most).
MAX_WORD_CHARS = 20
#: Casing classes, index 0 is padding.
CASINGS = ("pad", "lower", "upper", "title", "numeric", "has_digit", "mixed", "other")


def _mark_ranges() -> str:
    """A regex class body of the Basic Multilingual Plane's combining marks (Unicode
    category M: accents typed apart, Indic vowel signs), which ``\\w`` leaves out."""
    marks = [code for code in range(0x10000) if unicodedata.category(chr(code)).startswith("M")]
    ranges, start = [], marks[0]
    for previous, code in zip(marks, marks[1:] + [None]):
        if code != previous + 1:
            ranges.append(f"\\u{start:04x}-\\u{previous:04x}")
            start = code
    return "".join(ranges)


_WORD_CHAR = rf"[\w{_mark_ranges()}]"
_TOKEN = re.compile(rf"{_WORD_CHAR}+(?:[-'.]{_WORD_CHAR}+)*|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Split ``text`` into ``(token, start, end)`` with character offsets.

    Words (letters, digits, underscores and combining marks, joined by inner ``-``,
    ``'`` or ``.`` as in "U.S", "Jean-Pierre", "don't") and single punctuation marks are
    tokens;
    whitespace separates. ``text[start:end] == token`` always holds.

    Examples
    --------
    >>> tokenize("EU rejects German call.")
    [('EU', 0, 2), ('rejects', 3, 10), ('German', 11, 17), ('call', 18, 22), ('.', 22, 23)]
    """
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def normalize_word(word: str) -> str:
    """The form a word is looked up by: Unicode NFC (an accent typed apart joins its
    letter), lower-cased, every digit replaced by ``0``."""
    return re.sub(r"\d", "0", _composed(word).lower())


def _composed(word: str) -> str:
    return unicodedata.normalize("NFC", word)


def casing(word: str) -> int:
    """Index into :data:`CASINGS` of ``word``'s shape."""
    if word.isdigit():
        return CASINGS.index("numeric")
    if any(ch.isdigit() for ch in word):
        return CASINGS.index("has_digit")
    if word.islower():
        return CASINGS.index("lower")
    if word.isupper():
        return CASINGS.index("upper")
    if word[:1].isupper() and word[1:].islower():
        return CASINGS.index("title")
    if any(ch.isalpha() for ch in word):
        return CASINGS.index("mixed")
    return CASINGS.index("other")


class TokenEncoder:
    """Vocabularies of words and characters, and the arrays a tagger reads.

    Parameters
    ----------
    max_words : int or None
        Word vocabulary size (most frequent first, padding and ``[UNK]`` included);
        ``None`` keeps every training word.

    Examples
    --------
    >>> encoder = TokenEncoder().fit([["EU", "rejects", "it"]])
    >>> arrays = encoder.transform([["EU", "rejects"]])
    >>> arrays["word_ids"].shape, arrays["char_ids"].shape, arrays["casing_ids"].tolist()
    ((1, 2), (1, 2, 7), [[2, 1]])
    """

    def __init__(self, max_words: int | None = None):
        self.max_words = max_words
        self.words: list[str] = []
        self.chars: list[str] = []
        self._word_index: dict[str, int] | None = None
        self._char_index: dict[str, int] | None = None

    def fit(self, sentences: Sequence[Sequence[str]]) -> TokenEncoder:
        word_counts = Counter(normalize_word(w) for s in sentences for w in s)
        char_counts = Counter(ch for s in sentences for w in s for ch in _composed(w))
        size = None if self.max_words is None else max(self.max_words - 2, 0)
        self.words = ["", "[UNK]"] + [w for w, _ in word_counts.most_common(size)]
        self.chars = ["", "[UNK]"] + sorted(char_counts)
        self._word_index = self._char_index = None
        return self

    def transform(self, sentences: Sequence[Sequence[str]]) -> dict[str, np.ndarray]:
        """``word_ids``/``casing_ids`` ``(n, steps)`` and ``char_ids`` ``(n, steps, chars)``.

        ``steps`` is the longest sentence given; padding is id 0 everywhere.
        """
        if self._word_index is None:
            self._word_index = {w: i for i, w in enumerate(self.words)}
            self._char_index = {c: i for i, c in enumerate(self.chars)}
        steps = max((len(s) for s in sentences), default=0) or 1
        sentences = [[_composed(word) for word in sentence] for sentence in sentences]
        width = min(max((len(w) for s in sentences for w in s), default=1), MAX_WORD_CHARS)
        word_ids = np.full((len(sentences), steps), PAD_ID, dtype="int32")
        casing_ids = np.zeros((len(sentences), steps), dtype="int32")
        char_ids = np.zeros((len(sentences), steps, width), dtype="int32")
        for i, sentence in enumerate(sentences):
            for j, word in enumerate(sentence):
                word_ids[i, j] = self._word_index.get(normalize_word(word), OOV_ID)
                casing_ids[i, j] = casing(word)
                for k, ch in enumerate(word[:width]):
                    char_ids[i, j, k] = self._char_index.get(ch, OOV_ID)
        return {"word_ids": word_ids, "char_ids": char_ids, "casing_ids": casing_ids}

    def get_state(self) -> dict:
        return {"max_words": self.max_words, "words": self.words, "chars": self.chars}

    @classmethod
    def from_state(cls, state: dict) -> TokenEncoder:
        encoder = cls(state["max_words"])
        encoder.words = check_string_list(state["words"], "words")
        encoder.chars = check_string_list(state["chars"], "chars")
        return encoder
