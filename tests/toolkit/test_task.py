"""The Task factory and the scikit-learn estimator contract."""

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import toolkit
from tasks.image_classification import ImageClassificationTask
from tasks.sentiment import SentimentTask
from toolkit import Task


def test_factory_returns_registered_class_and_alias():
    assert type(Task("sentiment")) is SentimentTask
    assert type(Task("text_classification")) is SentimentTask
    assert type(Task("image_classification", backbone="lenet")) is ImageClassificationTask
    assert {"sentiment", "image_classification"} <= set(toolkit.list_tasks())


def test_unknown_task_lists_valid_names():
    with pytest.raises(ValueError, match="sentiment") as error:
        Task("sentimnet")
    assert "sentimnet" in str(error.value)


def test_task_without_name_is_a_clear_type_error():
    with pytest.raises(TypeError, match="task name"):
        Task()


def test_params_are_stored_verbatim_and_round_trip():
    task = Task("sentiment", backbone="gru", epochs=3)
    params = task.get_params()
    assert params["backbone"] == "gru" and params["epochs"] == 3
    copy = clone(task)
    assert type(copy) is SentimentTask and copy.get_params() == params
    copy.set_params(epochs=7)
    assert copy.epochs == 7 and task.epochs == 3


def test_init_does_not_validate():
    # scikit-learn convention: bad values are only reported by fit.
    task = Task("sentiment", backbone="nope")
    assert task.backbone == "nope"


def test_predict_before_fit_raises_not_fitted(tiny_texts):
    with pytest.raises(NotFittedError):
        Task("sentiment").predict(tiny_texts[0][:2])


def test_fitted_attributes_end_in_underscore(tiny_texts, fast_text_params):
    task = Task("sentiment", **fast_text_params).fit(*tiny_texts)
    learned = {k for k in vars(task) if k not in task.get_params()}
    assert learned and all(k.endswith("_") for k in learned)
    assert list(task.classes_) == ["negative", "positive"]


def test_pipeline_cross_val_score_and_grid_search(tiny_texts, fast_text_params):
    texts, labels = np.asarray(tiny_texts[0], dtype=object), np.asarray(tiny_texts[1])
    pipeline = make_pipeline(
        FunctionTransformer(lambda x: np.asarray([t.upper() for t in x], dtype=object)),
        Task("sentiment", **fast_text_params),
    )
    assert pipeline.fit(texts, labels).predict(texts[:3]).shape == (3,)
    scores = cross_val_score(Task("sentiment", **fast_text_params), texts, labels, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))
    search = GridSearchCV(Task("sentiment", **fast_text_params),
                          {"backbone": ["cnn", "gru"]}, cv=2).fit(texts, labels)
    assert search.best_params_["backbone"] in ("cnn", "gru")
    assert search.best_estimator_.predict(texts[:2]).shape == (2,)


def test_score_is_accuracy_also_on_data_that_carries_labels(tmp_path, tiny_texts,
                                                          fast_text_params):
    task = Task("sentiment", **fast_text_params).fit(*tiny_texts)
    report = task.evaluate(*tiny_texts)
    assert task.score(*tiny_texts) == report.metrics["accuracy"]
    frame = pd.DataFrame({"sentence": tiny_texts[0], "label": [int(l == "positive")
                                                                for l in tiny_texts[1]]})
    numeric = Task("sentiment", text_column="sentence", **fast_text_params).fit(frame)
    frame.to_csv(tmp_path / "numeric.tsv", sep="\t", index=False)
    assert numeric.score(str(tmp_path / "numeric.tsv")) == numeric.score(frame)
    table = tmp_path / "test.tsv"
    table.write_text("text\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in zip(*tiny_texts)))
    assert task.score(str(table)) == report.metrics["accuracy"]


def test_empty_validation_data_and_bad_callbacks_are_refused(tiny_texts, fast_text_params):
    texts, labels = tiny_texts
    with pytest.raises(ValueError, match="No validation examples"):
        Task("sentiment", **fast_text_params).fit(texts, labels, validation_data=([], []))
    with pytest.raises(ValueError, match="callbacks\\[0\\] is not a keras.callbacks.Callback"):
        Task("sentiment", **fast_text_params, callbacks=["abc"]).fit(texts, labels)


def test_failed_fine_tune_leaves_the_fitted_model_as_it_was(tiny_texts, fast_text_params):
    class Diverge(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            for weight in self.model.trainable_weights:
                weight.assign(weight * np.nan)
            raise RuntimeError("interrupted")

    task = Task("sentiment", **fast_text_params).fit(*tiny_texts)
    before = task.predict_proba(tiny_texts[0])
    with pytest.raises(ValueError, match="learning_rate"):
        task.fine_tune(*tiny_texts, learning_rate=float("inf"))
    task.set_params(callbacks=[Diverge()])
    with pytest.raises(RuntimeError, match="interrupted"):
        task.fine_tune(*tiny_texts)
    np.testing.assert_array_equal(task.predict_proba(tiny_texts[0]), before)


def test_fit_on_a_fitted_task_starts_over_from_the_new_data():
    """Nothing the first fit learned (image size, channels, classes) shapes the second."""
    rng = np.random.default_rng(0)
    task = Task("image_classification", backbone="lenet", epochs=1, verbose=0, seed=0)
    task.fit(rng.integers(0, 255, (8, 28, 28, 1), dtype="uint8"), [0, 1] * 4)
    colour = rng.integers(0, 255, (9, 20, 24, 3), dtype="uint8")
    task.fit(colour, ["a", "b", "c"] * 3)
    assert (task.image_size_, task.channels_) == ((20, 24), 3)
    assert list(task.classes_) == ["a", "b", "c"]
    assert task.predict(colour).shape == (9,)
    masks_of = {2: rng.integers(0, 2, (4, 16, 16)), 4: rng.integers(0, 4, (4, 16, 16))}
    images = rng.integers(0, 255, (4, 16, 16, 3), dtype="uint8")
    segmenter = Task("segmentation", epochs=1, verbose=0, seed=0)
    for num_classes in (2, 4):
        segmenter.fit(images, masks_of[num_classes])
        assert segmenter.num_classes_ == num_classes


def test_lr_find_reads_the_data_as_a_new_fit_and_keeps_the_fitted_state():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (4, 16, 16, 3), dtype="uint8")
    task = Task("segmentation", epochs=1, verbose=0, seed=0)
    task.fit(images, rng.integers(0, 2, (4, 16, 16)))
    task.lr_find(images, rng.integers(0, 4, (4, 16, 16)), steps=3)  # more classes: no error
    assert task.num_classes_ == 2
