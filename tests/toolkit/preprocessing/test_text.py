"""Text preprocessing: vocabulary state, word dropout."""

import unicodedata

import numpy as np
import pytest

from toolkit.preprocessing.text import OOV_ID, TextVectorizer, TokenDropout, load_word_vectors


def test_vectorizer_state_round_trips_and_marks_unknown_words():
    vectorizer = TextVectorizer(max_tokens=50).fit(["A good film!", "a bad film"])
    restored = TextVectorizer.from_state(vectorizer.get_state())
    ids = restored.transform(["a good film !", "a weird film"])
    np.testing.assert_array_equal(ids, vectorizer.transform(["a good film !", "a weird film"]))
    assert ids.shape == (2, 4) and ids[1, 1] == OOV_ID and ids[1, 3] == 0


def test_words_of_any_script_are_lower_cased_whole():
    vectorizer = TextVectorizer(max_tokens=100).fit(["Très BIEN, génial!", "ОТЛИЧНЫЙ фильм"])
    assert {"très", "bien", "génial", "отличный", "фильм", ",", "!"} <= set(vectorizer.vocabulary)
    decomposed = unicodedata.normalize("NFD", "génial")  # the accent typed apart
    np.testing.assert_array_equal(vectorizer.transform([decomposed]),
                                  vectorizer.transform(["génial"]))


def test_word_vectors_that_are_not_numbers_name_their_line(tmp_path):
    path = tmp_path / "vectors.txt"
    for bad in ("good x 0.1", "good nan 0.1"):
        path.write_text(f"film 0.1 0.2\n{bad}\n")
        with pytest.raises(ValueError, match=r"2 finite numbers.*line 2 of"):
            load_word_vectors(path, ["", "[UNK]", "film", "good"], dim=2)
    path.write_text("film 0.1 0.2\nother x y\n")  # a word not in the vocabulary: skipped
    matrix, found = load_word_vectors(path, ["", "[UNK]", "film"], dim=2)
    assert found == 1 and np.allclose(matrix[2], [0.1, 0.2])


def test_vectorizers_saved_before_unicode_words_keep_their_ascii_rule():
    old_state = {"max_tokens": 100, "max_length": 4,
                 "vocabulary": ["", "[UNK]", "caf", "é", "good"]}  # as the ASCII rule split it
    vectorizer = TextVectorizer.from_state(old_state)
    assert vectorizer.standardize == "ascii"
    assert vectorizer.transform(["Café good"]).tolist() == [[2, 3, 4, 0]]
    assert TextVectorizer.from_state(vectorizer.get_state()).standardize == "ascii"
    with pytest.raises(ValueError, match="standardize must be one of"):
        TextVectorizer.from_state({**old_state, "standardize": ["unicode"]})


def test_texts_longer_than_max_length_are_cut_with_a_warning():
    vectorizer = TextVectorizer(max_tokens=100).fit(["good", "bad", "great film"])
    assert vectorizer.max_length == 2
    with pytest.warns(UserWarning, match="1 of 2 texts are longer than max_length=2 tokens"):
        ids = vectorizer.transform(["film film film good", "bad"])
    assert ids.shape == (2, 2)


def test_token_dropout_only_in_training_and_never_on_padding():
    layer = TokenDropout(0.5, seed=0)
    ids = np.array([[5, 6, 7, 8, 9, 10, 0, 0]] * 64, dtype="int32")
    np.testing.assert_array_equal(layer(ids, training=False), ids)
    dropped = np.asarray(layer(ids, training=True))
    assert (dropped[:, 6:] == 0).all()
    changed = dropped[:, :6] != ids[:, :6]
    assert (dropped[:, :6][changed] == OOV_ID).all()
    assert 0.35 < changed.mean() < 0.65
    assert TokenDropout.from_config(layer.get_config()).rate == pytest.approx(0.5)
