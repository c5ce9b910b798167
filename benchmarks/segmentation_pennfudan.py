"""Semantic segmentation: person vs background on Penn-Fudan (first 120 sorted images train,
last 50 test), the default U-Net against a plain-Keras U-Net of the same architecture.

Penn-Fudan's masks hold one id per pedestrian; ``instances=True`` collapses them to
"person". Metrics are computed at each test image's own size (predictions resized back),
over all test pixels. The plain-Keras model is trained on the same 160x160 arrays with
Adam and cross-entropy, and timed over the same epochs (or ``--plain-epochs``): ``overhead_ratio`` is the
toolkit's training seconds per epoch over plain Keras's. ``--pretrained-only`` trains
instead a U-Net decoder on SqueezeNet with the real ImageNet weights in
``../shared/weights`` (decoder on the frozen encoder first, then the top of the encoder).
Run from the repo root: ``python benchmarks/segmentation_pennfudan.py [--quick]``.
"""

from __future__ import annotations

import argparse

import keras
from _common import Timer, emit, shared_dir

from toolkit import Task
from toolkit.data.mask_folders import pair_mask_files
from toolkit.evaluation.segmentation import confusion_matrix, segmentation_metrics

TRAIN_IMAGES = 120
SQUEEZENET = "squeezenet/squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"


def plain_keras_unet(image_size: int, base: int = 16, depth: int = 4) -> keras.Model:
    """The same U-Net as ``Task("segmentation")``'s default, written in plain Keras."""
    def block(x, filters):
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
            x = keras.layers.ReLU()(x)
        return x

    inputs = keras.Input((image_size, image_size, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    skips = []
    for level in range(depth + 1):
        if level:
            x = keras.layers.MaxPooling2D()(x)
        x = block(x, base * 2**level)
        skips.append(x)
    for level in range(depth - 1, -1, -1):
        x = keras.layers.UpSampling2D(interpolation="bilinear")(x)
        x = block(keras.layers.Concatenate()([x, skips[level]]), base * 2**level)
    return keras.Model(inputs, keras.layers.Conv2D(2, 1, activation="softmax")(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few-minute version")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the epochs (default: the task's 40, or 8 with --quick)")
    parser.add_argument("--plain-epochs", type=int, default=None,
                        help="epochs of the plain-Keras U-Net (default: as many as the toolkit ran)")
    parser.add_argument("--figure", default=None,
                        help="save the test overlays (true | predicted) to this PNG")
    parser.add_argument("--pretrained-only", action="store_true",
                        help="instead: a U-Net decoder on SqueezeNet with the real ImageNet weights")
    args = parser.parse_args()
    root = shared_dir("data") / "pennfudan" / "PennFudanPed"
    images, masks = pair_mask_files(root / "PNGImages", root / "PedMasks")
    train = (images[:TRAIN_IMAGES], masks[:TRAIN_IMAGES])
    test = (images[TRAIN_IMAGES:], masks[TRAIN_IMAGES:])
    settings = {"image_size": 160, "epochs": args.epochs or (8 if args.quick else 40), "seed": args.seed}
    common = {"instances": True, "class_names": ["background", "person"], "verbose": 2}

    if args.pretrained_only:
        task, results = _train_and_score(Task(
            "segmentation", backbone="squeezenet",
            weights=str(shared_dir("weights") / SQUEEZENET), **settings, **common), train, test)
    else:
        task, results = _train_and_score(Task("segmentation", **settings, **common), train, test,
                                         figure=args.figure)
        results.update(_plain_keras(task, train, test, args.plain_epochs or results["epochs_run"],
                                    results["seconds"] / results["epochs_run"], args.seed))
    emit("segmentation_pennfudan", **results, backbone=task.backbone, decoder=task.decoder,
         weights="imagenet (squeezenet)" if task.weights else None, augment=task.augment,
         batch_size=task.batch_size, train_images=len(train[0]), test_images=len(test[0]),
         quick=args.quick, **settings)


def _train_and_score(task, train, test, figure=None):
    with Timer() as timer:
        task.fit(*train)
    report = task.evaluate(*test)
    if figure:
        report.figures()["overlays"].savefig(figure, dpi=80)
    epochs_run = len(task.history_["loss"])
    with Timer() as predict_timer:
        task.predict(test[0])
    return task, {
        "miou": report.metrics["mean_iou"], "mean_iou": report.metrics["mean_iou"],
        "person_iou": report.metrics["per_class_iou"]["person"],
        "pixel_accuracy": report.metrics["pixel_accuracy"],
        "mean_dice": report.metrics["mean_dice"], "seconds": timer.seconds,
        "epochs_run": epochs_run,
        "train_images_per_second": epochs_run * len(train[0]) / timer.seconds,
        "predict_images_per_second": len(test[0]) / predict_timer.seconds,
        "params": task.model_.count_params(),
    }


def _plain_keras(task, train, test, epochs: int, task_seconds_per_epoch: float, seed: int) -> dict:
    """Plain Keras, same architecture and arrays (no augmentation, no validation)."""
    keras.utils.set_random_seed(seed)
    x_train, y_train = task._encode(task._read(*train, training=True))
    plain = plain_keras_unet(task.image_size_[0])
    plain.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  jit_compile=False)
    with Timer() as timer:
        plain.fit(x_train, y_train, batch_size=8, epochs=epochs, verbose=0)
    examples = task._read(*test, training=True)
    x_test, _ = task._encode(examples)
    masks = list(task._masks(examples, plain.predict(x_test, verbose=0)))
    metrics = segmentation_metrics(confusion_matrix(examples.y, masks, 2),
                                   ["background", "person"])
    return {"plain_keras_mean_iou": metrics["mean_iou"],
            "plain_keras_person_iou": metrics["per_class_iou"]["person"],
            "plain_keras_seconds": timer.seconds, "plain_keras_epochs": epochs,
            "overhead_ratio": task_seconds_per_epoch / (timer.seconds / epochs),
            "plain_keras_params": plain.count_params()}


if __name__ == "__main__":
    main()
