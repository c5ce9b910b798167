"""Sentiment task: bad input is named clearly; real SST-2 data clears a quality floor."""

import numpy as np
import pandas as pd
import pytest

from toolkit import Task


@pytest.mark.parametrize(
    "texts, labels, error, match",
    [
        ([], [], ValueError, "No training examples"),
        (["a", "b", "c"], [1, 0], ValueError, "same length"),
        (["a", "b", "c"], [1, 1, 1], ValueError, "at least two classes"),
        (["a", "b", "c"], [1, None, 0], ValueError, "missing"),
        (["a", "b", "c"], [1.0, np.nan, 0.0], ValueError, "missing"),
        (["a", 3, "c"], [1, 0, 1], TypeError, "must be a str"),
        ("just one text", [1], TypeError, "wrap a single text"),
        # NumPy would turn these into the classes "nan" and "1" without a word.
        (["a", "b", "c"], ["pos", np.nan, "neg"], ValueError, "missing"),
        (["a", "b", "c"], ["pos", None, "neg"], ValueError, "missing"),
        (["a", "b", "c"], [1, "1", 0], TypeError, "mix text and numbers"),
        (["", " ", "\t"], [1, 0, 1], ValueError, "no words"),
    ],
)
def test_bad_training_input_is_named(texts, labels, error, match, fast_text_params):
    with pytest.raises(error, match=match):
        Task("sentiment", **fast_text_params).fit(texts, labels)


def test_bad_parameters_are_named(tiny_texts, fast_text_params):
    for params, match in [({"backbone": "resnet"}, "backbone='resnet'"),
                          ({"epochs": 0}, "epochs"), ({"schedule": "step"}, "schedule"),
                          ({"validation_split": 2.0}, "validation_split"),
                          ({"units": "4"}, "units"), ({"dropout": 1.5}, "dropout"),
                          ({"token_dropout": -0.1}, "token_dropout"),
                          ({"max_length": 0}, "max_length"),
                          ({"weight_decay": -1}, "weight_decay"),
                          ({"steps_per_execution": 0}, "steps_per_execution"),
                          ({"backbone": ["cnn"]}, r"backbone=\['cnn'\]"),
                          ({"early_stopping": -1}, "early_stopping"),
                          ({"jit_compile": "yes"}, "jit_compile")]:
        with pytest.raises(ValueError, match=match):
            Task("sentiment", **{**fast_text_params, **params}).fit(*tiny_texts)
    with pytest.raises(TypeError, match="embeddings must be the path"):
        Task("sentiment", **fast_text_params, embeddings=300).fit(*tiny_texts)
    table = pd.DataFrame({"sentence": tiny_texts[0], "label": tiny_texts[1]})
    for params, match in [({"text_column": "review"}, "Received: text_column='review'"),
                          ({"text_column": ["sentence"]}, "text_column must be a column name"),
                          ({"label_column": 0}, "label_column must be a column name")]:
        with pytest.raises(ValueError, match=match):
            Task("sentiment", **{**fast_text_params, **params}).fit(table)


def test_bad_prediction_input_is_named(tiny_texts, fast_text_params):
    task = Task("sentiment", **fast_text_params).fit(*tiny_texts)
    for X, error, match in [([], ValueError, "No examples"),
                            ({"text": ["a fine film"]}, TypeError, "dict"),
                            ({"a fine film", "a dull film"}, TypeError, "set")]:
        with pytest.raises(error, match=match):
            task.predict(X)
    with pytest.raises(ValueError, match="No examples"):
        task.evaluate([], [])
    with pytest.raises(ValueError, match="batch_size"):
        task.set_params(batch_size=0).predict(["a fine film"])
    # A one-column table at prediction time is the input, not a label column.
    texts = pd.DataFrame({"review": ["a fine film", "a dull film"]})
    assert task.set_params(batch_size=8).predict(texts).shape == (2,)


def test_glove_embeddings_are_loaded(weights_dir, tiny_texts, fast_text_params):
    path = weights_dir / "glove" / "glove.6B.50d.head2445.txt"
    task = Task("sentiment", embeddings=str(path), **{**fast_text_params, "embedding_dim": 50,
                                                      "epochs": 1, "learning_rate": 1e-9})
    task.fit(*tiny_texts)
    vocabulary = task.vectorizer_.vocabulary
    row = task.model_.get_layer("cnn").get_layer("embedding").get_weights()[0][vocabulary.index("the")]
    first_line = path.read_text(encoding="utf-8", errors="replace").splitlines()[0].split(" ")
    assert first_line[0] == "the"
    np.testing.assert_allclose(row, np.asarray(first_line[1:], dtype="float32"), atol=1e-4)
    with pytest.raises(ValueError, match="embedding_dim"):
        Task("sentiment", embeddings=str(path), **fast_text_params).fit(*tiny_texts)


def test_sst2_slice_clears_a_quality_floor(data_dir):
    """Real data: 12k SST-2 training phrases, one epoch, scored on the 872 test sentences."""
    train = pd.read_csv(data_dir / "sst2" / "train.tsv", sep="\t", quoting=3).sample(
        12000, random_state=0)
    task = Task("sentiment", epochs=2, seed=0, verbose=0, text_column="sentence").fit(train)
    accuracy = task.score(str(data_dir / "sst2" / "test.tsv"))
    assert accuracy >= 0.72, accuracy  # chance is 0.51


@pytest.mark.parametrize("backbone, bucketed", [("bilstm", True), ("cnn", False)])
def test_recurrent_backbones_train_on_batches_cut_to_their_longest_text(
        backbone, bucketed, tiny_texts, fast_text_params):
    task = Task("sentiment", **{**fast_text_params, "backbone": backbone}).fit(*tiny_texts)
    token_ids = task.vectorizer_.transform(np.array(["good", "a truly good film"]))
    lengths = task._sequence_lengths(token_ids)
    if bucketed:  # masked padding: a batch may be as short as its longest text
        assert lengths.tolist() == [1, 4]
        short = task.model_.predict(token_ids[:, :4], verbose=0)
        assert np.allclose(short, task.model_.predict(token_ids, verbose=0), atol=1e-5)
    else:  # the convolutions see padding, so they train on the full width
        assert lengths is None
