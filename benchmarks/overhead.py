"""Overhead of toolkit over hand-written Keras: the same architecture, data and settings.

Trains a LeNet on MNIST digits and a Kim text CNN on SST-2 phrases, once through
``Task(...).fit`` (reading, encoding, the tf.data pipeline included) and once through a
hand-written ``keras.Model.fit`` on ready arrays, alternating, and reports the median
wall-time ratio (toolkit / plain) of each and their maximum as ``ratio``.
Run from the repo root: ``python benchmarks/overhead.py [--quick]``.
"""

import statistics

import keras
import pandas as pd
from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task
from toolkit.data.idx import read_idx
from toolkit.preprocessing.text import TextVectorizer

BATCH, LEARNING_RATE = 64, 1e-3
COMMON = {"batch_size": BATCH, "learning_rate": LEARNING_RATE, "validation_split": 0.0,
          "early_stopping": None, "schedule": "constant", "verbose": 0}


def plain_lenet(shape, classes):
    inputs = keras.Input(shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(6, 5, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(16, 5, activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(120, 5, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))


def plain_text_cnn(length, vocabulary, classes, dim=128, filters=100, dropout=0.4):
    inputs = keras.Input((length,), dtype="int32")
    x = keras.layers.Embedding(vocabulary, dim)(inputs)
    x = keras.layers.SpatialDropout1D(dropout)(x)
    branches = [keras.layers.GlobalMaxPooling1D()(
        keras.layers.Conv1D(filters, w, padding="same", activation="relu")(x)) for w in (3, 4, 5)]
    x = keras.layers.Dropout(dropout)(keras.layers.Concatenate()(branches))
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))


def time_plain(build, x, y, epochs, vectorize=None):
    with Timer() as timer:
        if vectorize is not None:  # a hand-written text pipeline vectorises too
            x = vectorize(x)
        model = build()
        model.compile(keras.optimizers.AdamW(LEARNING_RATE, weight_decay=1e-4),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
    return timer.seconds


def time_toolkit(name, x, y, epochs, **params):
    with Timer() as timer:
        Task(name, epochs=epochs, seed=0, **COMMON, **params).fit(x, y)
    return timer.seconds


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    data = shared_dir("data")
    repeats, epochs = (1, 2) if args.quick else (3, 3)
    images = read_idx(data / "mnist" / "t10k-images-idx3-ubyte.gz")[:6000]
    digits = read_idx(data / "mnist" / "t10k-labels-idx1-ubyte.gz")[:6000]
    sst2 = pd.read_csv(data / "sst2" / "train.tsv", sep="\t", quoting=3).sample(20000,
                                                                                 random_state=0)
    texts, sentiment = sst2["sentence"].to_numpy(dtype=object), sst2["label"].to_numpy()
    # The plain run builds the same vocabulary (same ids, same model size) inside its timing.
    def vectorize(x):
        vectorizer.fit(x)
        return vectorizer.transform(x)

    vectorizer = TextVectorizer(max_tokens=20000)
    vectorizer.fit(texts)

    ratios = {"image": [], "text": []}
    total = Timer().__enter__()
    for _ in range(repeats):
        ours = time_toolkit("image_classification", images, digits, epochs, backbone="lenet",
                            augment=None)
        plain = time_plain(lambda: plain_lenet((28, 28, 1), 10), images[..., None], digits, epochs)
        ratios["image"].append(ours / plain)
        ours = time_toolkit("sentiment", texts, sentiment, epochs, backbone="cnn", units=100,
                            token_dropout=0.0)
        plain = time_plain(lambda: plain_text_cnn(vectorizer.max_length,
                                                  len(vectorizer.vocabulary), 2),
                           texts, sentiment, epochs, vectorize=vectorize)
        ratios["text"].append(ours / plain)
    total.__exit__()
    image_ratio, text_ratio = (statistics.median(r) for r in ratios.values())
    emit("overhead", ratio=max(image_ratio, text_ratio), ratio_image=image_ratio,
         ratio_text=text_ratio, runs=ratios, epochs=epochs, repeats=repeats,
         image_examples=len(images), text_examples=len(texts), batch_size=BATCH,
         quick=args.quick, seconds=total.seconds)


if __name__ == "__main__":
    main()
