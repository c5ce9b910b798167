"""Tokenizer offsets, word normalisation, casing classes and the token encoder."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from toolkit.preprocessing.tokens import CASINGS, MAX_WORD_CHARS, TokenEncoder, casing, tokenize


@pytest.mark.parametrize("text", ["EU rejects German call to boycott British lamb.",
                                  "  Jean-Pierre  said: \"don't\" (U.S. 1996-08-22) ",
                                  "Zoë visited São Paulo!", ""])
def test_tokens_slice_the_text_exactly(text):
    for token, start, end in tokenize(text):
        assert text[start:end] == token
        assert not token.isspace()


def test_accents_typed_apart_and_indic_vowel_signs_stay_in_their_word():
    decomposed = unicodedata.normalize("NFD", "José met Zoë")
    assert [token for token, _, _ in tokenize(decomposed)] == decomposed.split()
    assert [token for token, _, _ in tokenize("हिन्दी भाषा")] == ["हिन्दी", "भाषा"]
    encoder = TokenEncoder().fit([["José"]])
    typed_apart, composed = (encoder.transform([[word]]) for word in (decomposed.split()[0],
                                                                       "José"))
    for ids in ("word_ids", "char_ids", "casing_ids"):
        np.testing.assert_array_equal(typed_apart[ids], composed[ids])


def test_casing_classes():
    assert [CASINGS[casing(w)] for w in ["eu", "EU", "Paris", "1996", "A4", "McDonald", ","]] == [
        "lower", "upper", "title", "numeric", "has_digit", "mixed", "other"]


def test_encoder_normalises_words_and_pads():
    encoder = TokenEncoder().fit([["Paris", "in", "1996"], ["paris"]])
    arrays = encoder.transform([["PARIS", "2001", "Zzyzx"], ["in"]])
    words = arrays["word_ids"]
    assert words.shape == (2, 3)
    assert words[0, 0] == encoder.words.index("paris")       # lower-cased lookup
    assert words[0, 1] == encoder.words.index("0000")        # digits shared
    assert words[0, 2] == 1 and words[1, 1:].tolist() == [0, 0]  # [UNK], then padding
    assert arrays["casing_ids"][1, 1] == 0
    assert arrays["char_ids"].shape == (2, 3, 5)


def test_long_words_are_cut_and_state_round_trips():
    encoder = TokenEncoder(max_words=3).fit([["a" * 50, "b", "b"]])
    assert len(encoder.words) == 3
    assert encoder.transform([["a" * 50]])["char_ids"].shape[-1] == MAX_WORD_CHARS
    restored = TokenEncoder.from_state(encoder.get_state())
    sentence = [["b", "a" * 50, "c"]]
    for key, array in encoder.transform(sentence).items():
        np.testing.assert_array_equal(restored.transform(sentence)[key], array)
