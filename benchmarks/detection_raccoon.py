"""Object detection: FCOS on SqueezeNet v1.1 (real ImageNet weights) on the raccoon dataset.

Trains on a seeded 80% of the 200 annotated images (Pascal VOC XML) and scores
COCO mAP@[.5:.95] (``map``) and mAP@.5 (``map50``) with pycocotools on the other 20%.
Run from the repo root: ``python benchmarks/detection_raccoon.py [--quick] [--figure PNG]``
(``--figure`` also draws the predictions on eight test images).
"""

import argparse
import time

import numpy as np
from _common import Timer, emit, shared_dir

from toolkit import Task
from toolkit.data.annotations import read_voc

WEIGHTS = "squeezenet/squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"
TEST_FRACTION = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few-minute version")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", help="write a PNG of predictions on test images here")
    args = parser.parse_args()
    annotations = sorted((shared_dir("data") / "raccoon" / "annotations").glob("*.xml"))
    order = np.random.default_rng(args.seed).permutation(len(annotations))
    cut = int(round(len(annotations) * (1 - TEST_FRACTION)))
    train = [annotations[i] for i in order[:cut]]
    test = [annotations[i] for i in order[cut:]]
    settings = {"backbone": "squeezenet", "seed": args.seed,
                "epochs": 3 if args.quick else 8, "image_size": 192 if args.quick else 224,
                "augment_copies": 1}
    task = Task("detection", weights=str(shared_dir("weights") / WEIGHTS), verbose=2, **settings)
    with Timer() as timer:
        task.fit(train)
    start = time.perf_counter()
    report = task.evaluate(test)
    evaluate_seconds = time.perf_counter() - start
    if args.figure:
        images = [str(record.path) for record in read_voc(test[:8])]
        task.plot_predictions(images).savefig(args.figure, dpi=80)
    emit("detection_raccoon", map=report.metrics["map"], map50=report.metrics["map50"],
         map75=report.metrics["map75"], mar100=report.metrics["mar100"], seconds=timer.seconds,
         throughput=len(test) / evaluate_seconds, throughput_unit="test images/s (read+predict+NMS)",
         train_images=len(train), test_images=len(test), epochs_run=len(task.history_["loss"]),
         fine_tuning=task.fine_tuning, quick=args.quick, **settings)


if __name__ == "__main__":
    main()
