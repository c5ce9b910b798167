"""Small embedded datasets for ``toolkit demo`` and examples; no download, no shared files.

``load_sentiment_sample`` is a film-review sample written for this project:
templated sentences from hand-written positive and negative phrases;
``load_ner_sample`` is likewise templated news-style sentences with person, location
and organisation names. The digits sample is scikit-learn's bundled ``load_digits`` (real handwritten digits, 8x8).
"""

from __future__ import annotations

import numpy as np

_SUBJECTS = ["the film", "this movie", "the story", "the acting", "the script", "the cast",
             "the ending", "the soundtrack", "the director's work", "this sequel"]
_POSITIVE = ["is a joy to watch", "was wonderful from start to finish", "is moving and funny",
             "felt fresh and clever", "is beautifully shot", "kept me smiling",
             "is a real delight", "was brilliant", "is warm and charming",
             "deserves every award", "left me inspired", "is smart and gripping"]
_NEGATIVE = ["is a chore to sit through", "was dull from start to finish",
             "is flat and lifeless", "felt stale and lazy", "is badly shot", "bored me to tears",
             "is a total mess", "was awful", "is cold and tedious",
             "deserves to be forgotten", "left me annoyed", "is clumsy and predictable"]
_CODAS = ["", " .", " !", " , honestly .", " , as expected .", " , sadly .", " , truly ."]


def load_sentiment_sample(n: int = 600, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` short review sentences and their labels (``"positive"``/``"negative"``).

    Examples
    --------
    >>> texts, labels = load_sentiment_sample(4)
    >>> len(texts), sorted(set(labels))
    (4, ['negative', 'positive'])
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for index in range(n):
        label = "positive" if index % 2 == 0 else "negative"
        phrase = rng.choice(_POSITIVE if label == "positive" else _NEGATIVE)
        texts.append(f"{rng.choice(_SUBJECTS)} {phrase}{rng.choice(_CODAS)}")
        labels.append(label)
    return texts, labels


_PEOPLE = ["Alice Martin", "Bob", "Chen Wei", "Dana Scott", "Elena", "Farid Khan", "Grace",
           "Hugo Blanc", "Ines Costa", "Jonas"]
_PLACES = ["Paris", "Rome", "New York", "Lagos", "Oslo", "Lima", "Cairo", "San Diego"]
_ORGANISATIONS = ["Acme Corp", "the United Nations", "Globex", "Reuters", "Initech",
                  "the World Bank"]
_TEMPLATES = ["{PER} visited {LOC} .", "{PER} works for {ORG} in {LOC} .",
              "{ORG} opened an office in {LOC} .", "In {LOC} , {PER} met {PER} .",
              "{PER} left {ORG} last year .", "{ORG} said {PER} will speak in {LOC} ."]


def load_ner_sample(n: int = 400, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` tokenized sentences with IOB2 tags for ``PER``, ``LOC`` and ``ORG``.

    Examples
    --------
    >>> sentences, tags = load_ner_sample(1, seed=3)
    >>> len(sentences[0]) == len(tags[0])
    True
    """
    rng = np.random.default_rng(seed)
    names = {"PER": _PEOPLE, "LOC": _PLACES, "ORG": _ORGANISATIONS}
    sentences, tags = [], []
    for _ in range(n):
        tokens, labels = [], []
        for part in str(rng.choice(_TEMPLATES)).split():
            if part.startswith("{"):
                entity_type = part[1:-1]
                words = str(rng.choice(names[entity_type])).split()
                if words[0] == "the":  # "the" is not part of the name
                    tokens.append(words.pop(0))
                    labels.append("O")
                tokens.extend(words)
                labels.extend([f"B-{entity_type}"] + [f"I-{entity_type}"] * (len(words) - 1))
            else:
                tokens.append(part)
                labels.append("O")
        sentences.append(tokens)
        tags.append(labels)
    return sentences, tags


def load_digits_sample() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits as 0..255 ``uint8`` images ``(n, 8, 8)``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images * 255 / 16).round().astype("uint8"), digits.target
