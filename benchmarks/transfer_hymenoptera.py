"""Transfer learning: SqueezeNet v1.1 with real ImageNet weights on hymenoptera (ants vs bees).

The default fine-tuning schedule (head with the body frozen, then the top third of the body
at lower, layer-dependent rates) against the same backbone from random initialisation.
Run from the repo root: ``python benchmarks/transfer_hymenoptera.py [--quick]``.
"""

from _common import Timer, emit, parse_args, shared_dir

from toolkit import Task

WEIGHTS = "squeezenet/squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    root = shared_dir("data") / "hymenoptera" / "hymenoptera_data"
    weights = shared_dir("weights") / WEIGHTS
    settings = {"backbone": "squeezenet", "augment": "flip", "seed": args.seed,
                "epochs": 4 if args.quick else 10, "image_size": 160 if args.quick else 224,
                "batch_size": 8}
    pretrained = Task("image_classification", weights=str(weights), verbose=2, **settings)
    with Timer() as timer:
        pretrained.fit(str(root / "train"))
    accuracy = pretrained.score(str(root / "val"))
    scratch = Task("image_classification", weights=None, verbose=0, **settings)
    with Timer() as scratch_timer:
        scratch.fit(str(root / "train"))
    emit("transfer_hymenoptera", accuracy=accuracy,
         accuracy_random_init=scratch.score(str(root / "val")), seconds=timer.seconds,
         seconds_random_init=scratch_timer.seconds, images_per_second=len(pretrained.history_[
             "loss"]) * 245 * 0.9 / timer.seconds, fine_tuning=pretrained.fine_tuning,
         train_images=245, val_images=153, quick=args.quick, **settings)


if __name__ == "__main__":
    main()
