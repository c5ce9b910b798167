"""Data adapters: every input form gives the same examples; bad input gives clear errors."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from toolkit.data.pipeline import make_dataset
from toolkit.data.sources import read_inputs
from toolkit.data.splits import train_validation_split
from toolkit.data.examples import Examples
from toolkit.data.tfds_source import load_tfds

TEXTS = ["good film", "bad film", "great", "awful"]
LABELS = [1, 0, 1, 0]


def _read(X, y=None, **kwargs):
    return read_inputs(X, y, require_labels=True, **kwargs)


@pytest.mark.parametrize("form", ["list", "numpy", "series"])
def test_lists_arrays_and_series(form):
    convert = {"list": list, "numpy": np.asarray, "series": pd.Series}[form]
    x, y = _read(convert(TEXTS), convert(LABELS))
    assert list(x) == TEXTS and list(y) == LABELS


def test_dataframe_columns_by_name():
    frame = pd.DataFrame({"review": TEXTS, "stars": LABELS, "other": 0})
    x, y = _read(frame, input_column="review", label_column="stars")
    assert list(x) == TEXTS and list(y) == LABELS and y.dtype.kind == "i"
    with pytest.raises(ValueError, match="Column not found.*'review'.*Received: input_column='txt'"):
        _read(frame, input_column="txt", label_column="stars")
    with pytest.raises(ValueError, match="Received: text_column='txt'"):
        _read(frame, input_column="txt", input_column_name="text_column")
    # Column labels that are not strings are named by their text, as in a file's header.
    numbered = pd.DataFrame({0: TEXTS, 1: LABELS})
    for columns in ({}, {"input_column": "0", "label_column": "1"}):
        x, y = _read(numbered, **columns)
        assert list(x) == TEXTS and list(y) == LABELS
    # With no input column named, the first column of text is the input, not an id.
    x, y = _read(pd.DataFrame({"id": [7, 8, 9, 10], "review": TEXTS, "stars": LABELS}))
    assert list(x) == TEXTS and list(y) == LABELS
    # A table to predict on need not hold the label column a task was fitted with.
    x, y = read_inputs(frame[["review"]], None, require_labels=False, input_column="review",
                       label_column="stars")
    assert list(x) == TEXTS and y is None


@pytest.mark.parametrize("batched", [False, True])
def test_tf_data_dataset(batched):
    dataset = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS))
    x, y = _read(dataset.batch(3) if batched else dataset)
    assert list(x) == TEXTS and list(y) == LABELS
    texts = tf.data.Dataset.from_tensor_slices(TEXTS)  # inputs only, as predict takes them
    x, _ = read_inputs(texts.batch(3) if batched else texts, None, require_labels=False)
    assert list(x) == TEXTS


def test_batched_datasets_of_arrays_are_unbatched_and_ragged_inputs_kept_apart():
    images = np.arange(6 * 4 * 4 * 1, dtype="float32").reshape(6, 4, 4, 1)
    labels = np.array([0, 1, 2, 0, 1, 2])
    pairs = tf.data.Dataset.from_tensor_slices((images, labels))
    for dataset in (pairs, pairs.batch(4), pairs.batch(4, drop_remainder=True)):
        x, y = _read(dataset, example_rank=3)
        count = len(x)
        assert count in (4, 6) and np.array_equal(x, images[:count])
        assert list(y) == list(labels[:count])
    for dataset in (tf.data.Dataset.from_tensor_slices(images).batch(4),
                    tf.data.Dataset.from_tensor_slices(images)):
        x, _ = read_inputs(dataset, None, require_labels=False, example_rank=3)
        assert np.array_equal(x, images)
    grey, mono = np.zeros((6, 16, 16), "float32"), np.zeros((6, 800), "float32")  # no channels
    for array, rank in ((grey, 3), (mono, 2)):
        x, _ = read_inputs(tf.data.Dataset.from_tensor_slices(array).batch(4), None,
                           require_labels=False, example_rank=rank)
        assert np.array_equal(x, array)
    floats = tf.data.Dataset.from_tensor_slices((images, labels.astype("float32")))
    x, y = _read(floats.batch(4, drop_remainder=True), example_rank=3)
    assert len(x) == 4 and y.tolist() == [0.0, 1.0, 2.0, 0.0]
    x, _ = read_inputs(tf.data.Dataset.from_tensor_slices({"image": images}), None,
                       require_labels=False, example_rank=3)  # one key: inputs alone
    assert np.array_equal(x, images)
    # One-hot rows are not a batch: they reach the one-label-per-example check.
    one_hot = tf.data.Dataset.from_tensor_slices((images, np.eye(3, dtype="float32")[labels]))
    with pytest.raises(ValueError, match="not one-hot rows"):
        _read(one_hot, example_rank=3)
    waveforms = [np.full(n, n, dtype="float32") for n in (5, 7, 6)]
    ragged = tf.data.Dataset.from_generator(
        lambda: iter(waveforms), output_signature=tf.TensorSpec([None], tf.float32))
    x, _ = read_inputs(ragged, None, require_labels=False, example_rank=2)
    assert x.dtype == object and [list(w) for w in x] == [list(w) for w in waveforms]


def test_bytes_labels_are_read_as_text():
    _, y = _read(TEXTS, np.array([b"pos", b"neg", b"pos", b"neg"]))
    assert y.dtype.kind == "U" and y.tolist() == ["pos", "neg", "pos", "neg"]


def test_labels_beside_a_labelled_dataset_are_refused():
    pairs = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS))
    with pytest.raises(ValueError, match="dataset of .input, label. pairs, carries its own"):
        _read(pairs, [5, 6, 7, 8])


def test_dict_datasets_are_read_by_column_name_and_endless_ones_refused():
    glue = tf.data.Dataset.from_tensor_slices({"idx": [0, 1, 2, 3], "label": LABELS,
                                               "sentence": TEXTS})
    x, y = _read(glue)  # "sentence" by default, not the first key
    assert list(x) == TEXTS and list(y) == LABELS
    news = tf.data.Dataset.from_tensor_slices({"title": ["t"] * 4, "description": TEXTS,
                                               "polarity": LABELS, "stars": [5, 1, 4, 2]})
    x, y = _read(news, input_column="description", label_column="polarity")
    assert list(x) == TEXTS and list(y) == LABELS
    with pytest.raises(ValueError, match="Expected text_column to be one of the dataset's keys"):
        _read(news, input_column="body", input_column_name="text_column")
    with pytest.raises(ValueError, match="repeats forever"):
        _read(tf.data.Dataset.from_tensor_slices((TEXTS, LABELS)).repeat())


def test_csv_and_tsv_files(tmp_path):
    pd.DataFrame({"sentence": TEXTS, "label": LABELS}).to_csv(tmp_path / "d.tsv", sep="\t",
                                                              index=False)
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(tmp_path / "d.csv", index=False)
    for name in ("d.tsv", "d.csv"):
        x, y = _read(str(tmp_path / name))
        assert list(x) == TEXTS and list(y) == LABELS  # same types as pandas.read_csv gives
    with pytest.raises(ValueError, match="No such file or folder"):
        _read(str(tmp_path / "missing.csv"))
    for missing in (tmp_path / "no_folder", tmp_path / "train.tsv.gz"):
        with pytest.raises(ValueError, match="No such file or folder"):  # not "Labels are required"
            _read(str(missing))


def test_a_file_without_a_header_row_is_refused_not_short_of_its_first_row(tmp_path):
    review = "the first review of this file is a sentence"
    for name, labels in (("words", ("pos", "neg", "pos")), ("numbers", (1, 0, 1))):
        rows = [f"{review}\t{labels[0]}", f"bad\t{labels[1]}", f"fine\t{labels[2]}"]
        (tmp_path / f"{name}.tsv").write_text("\n".join(rows) + "\n")
        with pytest.raises(ValueError, match="looks like data, not a header.*is a sentence"):
            _read(str(tmp_path / f"{name}.tsv"))
    (tmp_path / "paths.csv").write_text("a/0.png,zero\na/1.png,one\na/2.png,zero\n")
    (tmp_path / "pairs.csv").write_text("a/0.png,m/0.png\na/1.png,m/1.png\n")
    for name in ("paths", "pairs"):
        with pytest.raises(ValueError, match="looks like data.*a file path"):
            _read(str(tmp_path / f"{name}.csv"))
    # Either sign alone is a header: a descriptive name; a column named after a value.
    (tmp_path / "described.csv").write_text("Month,Sales of shampoo over a three year period\n"
                                            "1-01,266.0\n1-02,145.9\n")
    (tmp_path / "holiday.csv").write_text("text,holiday\nparade,holiday\noffice,workday\n")
    (tmp_path / "numbered.csv").write_text("0,1\ngood,1\nbad,0\n")  # to_csv of int labels
    for name in ("described", "holiday", "numbered"):
        assert len(_read(str(tmp_path / f"{name}.csv"))[0]) == 2


def test_quoted_csv_fields_keep_their_commas_and_quotes(tmp_path):
    texts = ["loved it, truly", 'he said "wow"', "plain", "a, b, and c"]
    pd.DataFrame({"text": texts, "label": [1, 1, 0, 0]}).to_csv(tmp_path / "q.csv", index=False)
    x, y = _read(str(tmp_path / "q.csv"))
    assert list(x) == texts and list(y) == [1, 1, 0, 0]
    # Tab-separated files keep quotes as text (GLUE's SST-2 has sentences starting with ").
    (tmp_path / "q.tsv").write_text('sentence\tlabel\n"quoted" start\t1\nplain\t0\n')
    x, _ = _read(str(tmp_path / "q.tsv"))
    assert list(x) == ['"quoted" start', "plain"]


def test_a_table_of_paths_is_read_relative_to_its_folder(tmp_path):
    (tmp_path / "set").mkdir()
    absolute = str(tmp_path / "elsewhere.wav")
    pd.DataFrame({"label": ["a", "b"], "path": ["clips/1.wav", absolute]}).to_csv(
        tmp_path / "set" / "manifest.csv", index=False)
    x, y = read_inputs(str(tmp_path / "set" / "manifest.csv"), require_labels=True,
                       input_paths=True)
    assert x == [str(tmp_path / "set" / "clips" / "1.wav"), absolute] and list(y) == ["a", "b"]
    # A DataFrame's paths stay as given (relative to the working directory); the path
    # column is found by name, wherever it is.
    frame = pd.DataFrame({"speaker": ["s1", "s2"], "file": ["1.wav", "2.wav"], "label": [0, 1]})
    x, y = read_inputs(frame, require_labels=True, input_paths=True)
    assert list(x) == ["1.wav", "2.wav"] and list(y) == [0, 1]
    # An empty cell is named, not read as some other kind of input.
    pd.DataFrame({"path": ["1.wav", None], "label": [0, 1]}).to_csv(tmp_path / "gap.csv",
                                                                    index=False)
    with pytest.raises(ValueError, match="file path in every row.*nan at row 1"):
        read_inputs(str(tmp_path / "gap.csv"), require_labels=True, input_paths=True)



def test_a_table_of_path_pairs_resolves_both_columns(tmp_path):
    (tmp_path / "set").mkdir()
    pd.DataFrame({"mask": ["m/1.png", "m/2.png"], "image": ["i/1.png", "i/2.png"],
                  "split": ["train", "train"]}).to_csv(tmp_path / "set" / "pairs.csv", index=False)
    table = str(tmp_path / "set" / "pairs.csv")
    x, y = read_inputs(table, require_labels=True, input_paths=True, label_paths=True)
    folder = tmp_path / "set"
    assert x == [str(folder / "i" / "1.png"), str(folder / "i" / "2.png")]
    assert y == [str(folder / "m" / "1.png"), str(folder / "m" / "2.png")]  # "mask", not last
    x, y = read_inputs(table, require_labels=False, input_paths=True, label_paths=True)
    assert len(x) == 2 and y is None
    pd.DataFrame({"image": ["1.png"], "mask": [None]}).to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(ValueError, match="file path in every row of the label column.*row 0"):
        read_inputs(str(tmp_path / "gap.csv"), require_labels=True, input_paths=True,
                    label_paths=True)

def test_missing_labels_and_length_mismatch_are_clear():
    with pytest.raises(ValueError, match="Labels are required"):
        _read(TEXTS)
    with pytest.raises(ValueError, match="same length"):
        Examples(np.asarray(TEXTS), np.asarray(LABELS[:2]))
    with pytest.raises(ValueError, match="X=None"):
        _read(None)


@pytest.mark.parametrize("y, error, match", [
    (["pos", np.nan, "neg", "pos"], ValueError, "missing"),   # NumPy would make it "nan"
    (pd.Series(["pos", None, "neg", "pos"]), ValueError, "missing"),
    ([1, "1", 0, 1], TypeError, "mix text and numbers"),
    (5, TypeError, "sequence of labels"),
    ({"a": 1}, TypeError, "sequence of labels"),
    (np.eye(4), ValueError, "one label per example"),
])
def test_labels_numpy_would_misread_are_refused(y, error, match):
    with pytest.raises(error, match=match):
        _read(TEXTS, y)


def test_tables_and_datasets_of_unexpected_shape_are_named(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.tsv"):
        _read(str(empty))
    # One column at prediction time is the input, not a label column.
    x, y = read_inputs(pd.DataFrame({"review": TEXTS}), require_labels=False)
    assert list(x) == TEXTS and y is None
    with pytest.raises(ValueError, match="label key"):
        _read(tf.data.Dataset.from_tensor_slices({"label": LABELS}))
    x, y = read_inputs(tf.data.Dataset.from_tensor_slices((TEXTS,)), require_labels=False)
    assert list(x) == TEXTS and y is None


def test_tfds_offline_error_says_where_and_how(tmp_path):
    with pytest.raises(ValueError, match="not in data_dir.*tfds build mnist"):
        load_tfds("tfds:mnist", data_dir=tmp_path, download=False)


def test_tfds_names_splits_and_unsupervised_datasets(tmp_path):
    import tensorflow_datasets as tfds

    with pytest.raises(ValueError, match="no dataset named 'mnisst'.*Did you mean.*'mnist'"):
        load_tfds("tfds:mnisst", data_dir=tmp_path, download=False)
    tfds.testing.DummyMnist(data_dir=tmp_path).download_and_prepare()  # offline, 20 + 20
    with pytest.raises(ValueError, match="split 'valid' of tfds dataset 'dummy_mnist'.*"
                                         r"one of \['train', 'test'\]"):
        load_tfds("tfds:dummy_mnist:valid", data_dir=tmp_path, download=False)
    # No supervised keys: dict elements, read by column name.
    x, y = _read("tfds:dummy_mnist:test[:5]", data_dir=tmp_path, input_paths=True)
    assert x.shape == (5, 28, 28, 1) and y.shape == (5,) and y.dtype.kind == "i"


def test_tfds_dataset_is_read_through_tensorflow_datasets(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        x, y = _read("tfds:mnist:test", data_dir=tmp_path)
    assert x.shape == (6, 28, 28, 1) and y.shape == (6,)


def test_split_is_seeded_stratified_and_disjoint():
    examples = Examples(np.arange(100), np.asarray([0, 1] * 50))
    train, val = train_validation_split(examples, 0.2, seed=3, stratify=True)
    again, _ = train_validation_split(examples, 0.2, seed=3, stratify=True)
    assert len(val) == 20 and set(train.x).isdisjoint(val.x)
    assert (val.y == 1).sum() == 10
    np.testing.assert_array_equal(train.x, again.x)
    with pytest.raises(ValueError, match="validation_split"):
        train_validation_split(examples, 1.5, seed=0)


@pytest.mark.parametrize("seed", range(8))
def test_a_class_with_one_example_is_always_trained_on(seed):
    labels = np.asarray(["a", "b"] * 19 + ["rare", "b"])
    train, val = train_validation_split(Examples(np.arange(40), labels), 0.2, seed=seed,
                                        stratify=True)
    assert "rare" in set(train.y) and "rare" not in set(val.y)
    assert len(train) + len(val) == 40 and set(train.x).isdisjoint(val.x)


def test_pipeline_batches_and_shuffles_with_seed():
    first = [b.numpy().tolist() for b, _ in make_dataset(np.arange(10), np.arange(10),
                                                          batch_size=4, shuffle=True, seed=1)]
    second = [b.numpy().tolist() for b, _ in make_dataset(np.arange(10), np.arange(10),
                                                           batch_size=4, shuffle=True, seed=1)]
    assert first == second and sorted(sum(first, [])) == list(range(10))
    assert [len(b) for b in first] == [4, 4, 2]


def test_labels_of_another_type_are_named_as_such():
    from toolkit.preprocessing.labels import encode_labels

    with pytest.raises(ValueError, match="The label 0 is of type int but the class '0' of type str"):
        encode_labels(np.array([0, 1]), np.array(["0", "1"]))


@pytest.mark.parametrize("seed", range(8))
def test_a_sentence_with_the_only_entity_of_a_type_is_trained_on(seed):
    tags = [["B-PER", "O"]] * 38 + [["B-PROD", "I-PROD"], ["O", "B-PER"]]
    types = lambda sentence: {tag[2:] for tag in sentence if tag != "O"}  # noqa: E731
    train, val = train_validation_split(Examples(np.arange(40), tags), 0.2, seed=seed,
                                        classes_of=types)
    assert 38 in train.x and len(train) + len(val) == 40  # the PROD sentence
