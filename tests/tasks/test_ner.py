"""NER task: fit/predict on token lists and raw strings, spans, masking, saving, transfer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolkit import Task
from toolkit.data.samples import load_ner_sample

FAST_NER = {"epochs": 6, "embedding_dim": 16, "char_embedding_dim": 8, "char_filters": 8,
            "units": 16, "batch_size": 16, "learning_rate": 1e-2, "dropout": 0.1,
            "verbose": 0, "seed": 0}


@pytest.fixture(scope="module")
def ner_data():
    return load_ner_sample(240, seed=0)


@pytest.fixture(scope="module")
def fitted(ner_data):
    sentences, tags = ner_data
    return Task("ner", **FAST_NER).fit(sentences, tags)


def test_learns_the_sample_and_scores_entity_f1(fitted):
    test_x, test_y = load_ner_sample(60, seed=1)
    report = fitted.evaluate(test_x, test_y)
    assert report.metrics["f1"] > 0.8
    assert set(report.metrics["per_type"]) == {"LOC", "ORG", "PER"}
    assert fitted.score(test_x, test_y) == pytest.approx(report.metrics["f1"])
    assert 0 < report.metrics["token_accuracy"] <= 1
    assert "entity_confusion" in report.figures()


def test_evaluate_refuses_entity_types_the_tagger_never_learned(fitted):
    with pytest.raises(ValueError, match=r"Unknown entity type\(s\) \['XYZ'\] in sentence 1"):
        fitted.evaluate([["Bob", "left"], ["EU", "rejects"]], [["B-PER", "O"], ["B-XYZ", "O"]])


def test_predict_answers_in_the_training_scheme(fitted):
    tags = fitted.predict([["Grace", "visited", "Oslo", "."], "Elena left Globex last year ."])
    assert fitted.scheme_ == "iob2"
    assert tags[0] == ["B-PER", "O", "B-LOC", "O"]
    assert len(tags[1]) == 6 and tags[1][0] == "B-PER"


def test_predict_decodes_without_computing_marginals(fitted, monkeypatch):
    import toolkit.heads.tagging as tagging

    expected = fitted.predict(["Grace visited Oslo ."])

    def refuse(*args):
        raise AssertionError("predict computed CRF marginals it does not return")

    assert [len(tags) for tags in fitted.predict([["Oslo"], ["Oslo", "."]])] == [1, 2]
    assert fitted.predict([["Oslo"]]) == fitted.predict(["Oslo"])  # one-token batches decode too
    monkeypatch.setattr(tagging, "_compiled_marginals", refuse)
    assert fitted.predict(["Grace visited Oslo ."]) == expected
    with pytest.raises(AssertionError, match="marginals"):
        fitted.predict_entities(["Grace visited Oslo ."])  # its scores are the marginals


def test_entity_offsets_slice_the_original_text(fitted):
    texts = ["  Dana Scott visited San Diego.", "In Lima,  Hugo Blanc met Bob!", "", "nothing here"]
    results = fitted.predict_entities(texts)
    assert len(results) == 4 and results[2] == []
    found = [(e["text"], e["label"]) for e in results[0]]
    assert ("Dana Scott", "PER") in found and ("San Diego", "LOC") in found
    for text, entities in zip(texts, results):
        for entity in entities:
            assert text[entity["start"]:entity["end"]] == entity["text"]
            assert 0 < entity["score"] <= 1
    assert fitted.predict_entities(text for text in texts) == results  # a generator too
    with pytest.raises(TypeError, match="Received: tuple of int, str"):
        fitted.predict_entities(("Alice", 3))


def test_padding_does_not_change_tags_or_scores(fitted):
    short = "Bob visited Rome ."
    long = "In New York , Alice Martin met Chen Wei and said Acme Corp will speak in Paris ."
    alone = fitted.predict_entities([short])[0]
    batched = fitted.predict_entities([long, short])[1]
    assert [(e["label"], e["start"]) for e in alone] == [(e["label"], e["start"]) for e in batched]
    np.testing.assert_allclose([e["score"] for e in alone], [e["score"] for e in batched],
                               rtol=1e-4)


def test_save_load_round_trip_on_raw_strings(fitted, tmp_path):
    texts = ["Grace works for Initech in Cairo .", "Globex opened an office in Lagos ."]
    fitted.save(tmp_path / "ner")
    loaded = Task.load(tmp_path / "ner")
    assert loaded.predict(texts) == fitted.predict(texts)
    assert loaded.predict_entities(texts) == fitted.predict_entities(texts)
    document = json.loads((tmp_path / "ner" / "task.json").read_text())
    document["params"]["head"] = "softmax"   # the model holds a CRF
    (tmp_path / "ner" / "task.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="no layer 'tag_probabilities'"):
        Task.load(tmp_path / "ner")


def test_softmax_head_and_other_backbones_train(ner_data):
    sentences, tags = ner_data
    for params in ({"head": "softmax"}, {"backbone": "cnn"}, {"backbone": "highway", "epochs": 1}):
        task = Task("ner", **{**FAST_NER, **params}).fit(sentences[:64], tags[:64])
        assert len(task.predict(sentences[:2])[1]) == len(sentences[1])


def test_iob1_and_iobes_input_is_answered_in_kind(ner_data):
    from toolkit.preprocessing.tags import convert

    sentences, tags = ner_data
    iobes = [convert(t, "iob2", "iobes") for t in tags]
    task = Task("ner", **{**FAST_NER, "epochs": 1}).fit(sentences[:64], iobes[:64])
    assert task.scheme_ == "iobes"
    assert all(tag[:1] in "OBIES" for tag in task.predict(sentences[:5])[0])


def test_fine_tune_keeps_vocabulary_and_embeddings(ner_data):
    sentences, tags = ner_data
    task = Task("ner", **FAST_NER).fit(sentences[:120], tags[:120])
    words = list(task.encoder_.words)
    before = task.model_.get_layer("bilstm").get_layer("embedding").get_weights()[0]
    task.fine_tune(sentences[120:], tags[120:], epochs=1)
    after = task.model_.get_layer("bilstm").get_layer("embedding").get_weights()[0]
    assert task.encoder_.words == words
    assert not np.array_equal(before, after)       # it trained ...
    assert np.abs(after - before).max() < 0.05      # ... from the learned vectors
    assert len(task.history_["loss"]) > 1


def test_new_tag_set_keeps_the_backbone(fitted, ner_data):
    from sklearn.base import clone

    sentences, tags = ner_data
    task = clone(fitted).fit(sentences, tags)
    backbone_before = [w.copy() for w in task.model_.get_layer("bilstm").get_weights()]
    chars_before = task.model_.get_layer("char_cnn").get_weights()[0].copy()
    only_people = [[t if t.endswith("PER") else "O" for t in s] for s in tags]
    with pytest.raises(ValueError, match="new_tags=True"):
        task.fine_tune(sentences, [[t.replace("PER", "HUMAN") for t in s] for s in tags])
    renamed = [[t.replace("PER", "HUMAN") for t in s] for s in only_people]
    for bad in ({"learning_rate": -0.5}, {"learning_rate": float("inf")}, {"epochs": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            task.fine_tune(sentences, renamed, new_tags=True, **bad)
    with pytest.raises(ValueError, match="new_tags must be True or False"):
        task.fine_tune(sentences, renamed, new_tags="yes")
    with pytest.raises(ValueError, match="every tag is 'O'"):  # as fit refuses it
        task.fine_tune(sentences, [["O"] * len(s) for s in sentences])
    assert "B-PER" in task.tags_   # the refused calls changed nothing
    task.fine_tune(sentences, renamed, epochs=2, new_tags=True)
    assert task.tags_ == ["O", "I-HUMAN", "B-HUMAN", "E-HUMAN", "S-HUMAN"]
    # The "gradual" schedule trains the new head alone first: after its first stage the
    # body is exactly as it was; the second stage moves it at 1/100 of the rate.
    after = task.model_.get_layer("bilstm").get_weights()
    assert all(np.abs(a - b).max() < 0.01 for a, b in zip(after, backbone_before))
    assert np.abs(task.model_.get_layer("char_cnn").get_weights()[0] - chars_before).max() < 0.05
    predicted = task.predict([["Grace", "visited", "Oslo", "."]])[0]
    assert predicted[0] == "B-HUMAN" and predicted[2] == "O"


def test_glove_vectors_start_the_word_embeddings(weights_dir, ner_data):
    path = weights_dir / "glove" / "glove.6B.50d.head2445.txt"
    if not path.is_file():
        pytest.skip(f"GloVe sample not found at {path}")
    sentences, tags = ner_data
    params = {**FAST_NER, "embedding_dim": 50, "learning_rate": 1e-9, "epochs": 1}
    task = Task("ner", embeddings=str(path), **params).fit(sentences[:32], tags[:32])
    vectors = {line.split(" ")[0]: np.asarray(line.split(" ")[1:], dtype="float32")
               for line in path.read_text(encoding="utf-8", errors="replace").splitlines()}
    matrix = task.model_.get_layer("bilstm").get_layer("embedding").get_weights()[0]
    word = "visited"  # lower-cased lookup: the sample writes it in lower case already
    np.testing.assert_allclose(matrix[task.encoder_.words.index(word)], vectors[word], atol=1e-3)


@pytest.mark.parametrize("X, y, error, match", [
    ("Alice visited Paris", None, ValueError, "wrap a single sentence"),
    ([["Alice", "visited"]], [["B-PER"]], ValueError, "2 tokens but 1 tags"),
    ([["Alice"]], [["B-PER"], ["O"]], ValueError, "same number of sentences"),
    ([["Alice", 3]], [["B-PER", "O"]], TypeError, "string tokens"),
    ([[]], [[]], ValueError, "must not be empty"),
    ([["Alice"]], [["PERSON"]], ValueError, "'PERSON'"),
    ([["Alice", " "]], [["B-PER", "O"]], ValueError, "blank token"),
    ([["Alice"]], None, ValueError, "Tags are required"),
    ([["Alice"]], [[1]], TypeError, "Tags must be strings"),
    ([["Alice"]], [None], TypeError, "list of tags"),
    ([["Alice", "left"]], [["O", "O"]], ValueError, "no entities"),
])
def test_bad_input_is_named(X, y, error, match):
    with pytest.raises(error, match=match):
        Task("ner", **FAST_NER).fit(X, y)


def test_tags_beside_a_conll_file_are_refused_not_dropped():
    sample = Path(__file__).parents[1] / "fixtures" / "conll_sample.txt"
    with pytest.raises(ValueError, match="a CoNLL file, carries its own tags, so y must be None"):
        Task("ner", **FAST_NER).fit(sample, [["O"]] * 3)


def test_unknown_settings_are_named(ner_data):
    sentences, tags = ner_data
    with pytest.raises(ValueError, match="head must be one of"):
        Task("ner", head="mlp").fit(sentences[:4], tags[:4])
    with pytest.raises(ValueError, match="tag_scheme must be one of"):
        Task("ner", tag_scheme="bilou").fit(sentences[:4], tags[:4])
    with pytest.raises(ValueError, match="max_words"):
        Task("ner", max_words=0).fit(sentences[:4], tags[:4])
    for params, match in [({"char_filters": 0}, "char_filters"),
                          ({"char_embedding_dim": 1.5}, "char_embedding_dim"),
                          ({"embedding_dim": -1}, "embedding_dim"),
                          ({"dropout": 1.5}, r"dropout must be a number in \[0, 1\)")]:
        with pytest.raises(ValueError, match=match):
            Task("ner", **params).fit(sentences[:4], tags[:4])
    with pytest.raises(TypeError, match="list of strings"):
        Task("ner").predict_entities("Alice")


def test_crf_model_tells_keras_it_cannot_be_xla_compiled(ner_data):
    # The CRF loss loops over a variable length, which XLA fails to compile. Keras's
    # jit_compile="auto" turns XLA on for GPUs; True is what "auto" means there.
    sentences, tags = ner_data
    with pytest.warns(UserWarning, match="jit_compile"):
        task = Task("ner", **{**FAST_NER, "jit_compile": True}).fit(sentences[:8], tags[:8])
    assert task.model_.jit_compile is False
    assert len(task.predict(sentences[:2])) == 2


@pytest.mark.slow
def test_conll2003_slice_reaches_a_quality_floor(data_dir):
    from toolkit.data.conll import read_conll

    train_x, train_y = read_conll(data_dir / "conll2003" / "train.txt")
    valid_x, valid_y = read_conll(data_dir / "conll2003" / "valid.txt")
    task = Task("ner", epochs=3, verbose=0, seed=0)
    task.fit(train_x[:3000], train_y[:3000], validation_data=(valid_x[:500], valid_y[:500]))
    # Always tagging "O" scores 0; three epochs on a fifth of the data reach about 0.58.
    assert task.score(valid_x[500:1500], valid_y[500:1500]) > 0.45
