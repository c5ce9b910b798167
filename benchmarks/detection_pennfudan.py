"""Object detection: FCOS on SqueezeNet v1.1 (real ImageNet weights) on Penn-Fudan pedestrians.

Boxes come from the dataset's PASCAL v1.00 annotation files, every pedestrian labelled
``person``. Trains on the first 120 images (sorted by name) and scores COCO mAP@[.5:.95]
(``map``) and mAP@.5 (``map50``) on the last 50, the split of the torchvision tutorial.
Run from the repo root: ``python benchmarks/detection_pennfudan.py [--quick]``.
"""

import time

from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task
from toolkit.data.annotations import read_pascal_text

WEIGHTS = "squeezenet/squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"
TEST_IMAGES = 50


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    records = read_pascal_text(shared_dir("data") / "pennfudan" / "PennFudanPed" / "Annotation")
    paths = [str(record.path) for record in records]
    targets = [{"boxes": record.boxes, "labels": ["person"] * len(record.boxes)}
               for record in records]
    cut = len(records) - TEST_IMAGES
    settings = {"backbone": "squeezenet", "seed": args.seed,
                "epochs": 3 if args.quick else 8, "image_size": 192 if args.quick else 224,
                "augment_copies": 1}
    task = Task("detection", weights=str(shared_dir("weights") / WEIGHTS), verbose=2, **settings)
    with Timer() as timer:
        task.fit(paths[:cut], targets[:cut])
    start = time.perf_counter()
    report = task.evaluate(paths[cut:], targets[cut:])
    evaluate_seconds = time.perf_counter() - start
    emit("detection_pennfudan", map=report.metrics["map"], map50=report.metrics["map50"],
         map75=report.metrics["map75"], mar100=report.metrics["mar100"], seconds=timer.seconds,
         throughput=TEST_IMAGES / evaluate_seconds,
         throughput_unit="test images/s (read+predict+NMS)", train_images=cut,
         test_images=TEST_IMAGES, epochs_run=len(task.history_["loss"]),
         fine_tuning=task.fine_tuning, quick=args.quick, **settings)


if __name__ == "__main__":
    main()
