"""``distribute=``: which ``tf.distribute.Strategy`` a task builds and trains under.

Keras and TensorFlow do the work; this module only turns the parameter into a strategy.
Under any strategy, ``batch_size`` is the *global* batch: each of N replicas gets
``batch_size / N`` examples per step.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

DISTRIBUTE_OPTIONS = (None, "mirrored", "multi_worker")

_multi_worker: tf.distribute.Strategy | None = None


def resolve_strategy(distribute: str | tf.distribute.Strategy | None) -> tf.distribute.Strategy:
    """The strategy for ``distribute``.

    Parameters
    ----------
    distribute : None, "mirrored", "multi_worker" or tf.distribute.Strategy
        ``None``: the default (single-device) strategy. ``"mirrored"``:
        ``MirroredStrategy`` over the visible GPUs, or over the logical CPU devices
        when there is no GPU (create several with
        ``tf.config.set_logical_device_configuration`` before TensorFlow starts).
        ``"multi_worker"``: ``MultiWorkerMirroredStrategy`` configured from the
        ``TF_CONFIG`` environment variable (created once per process). A strategy
        instance is used as given.

    Examples
    --------
    >>> resolve_strategy(None).num_replicas_in_sync
    1
    """
    if distribute is None:
        return tf.distribute.get_strategy()
    if isinstance(distribute, tf.distribute.Strategy):
        return distribute
    if distribute == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        names = [device.name for device in devices]
        # NCCL all-reduce needs GPUs; CPU replicas reduce on one device.
        reduction = None if "GPU" in names[0] else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy(devices=names, cross_device_ops=reduction)
    if distribute == "multi_worker":
        return _multi_worker_strategy()
    raise ValueError(
        f"distribute must be one of {DISTRIBUTE_OPTIONS} or a tf.distribute.Strategy. "
        f"Received: distribute={distribute!r}"
    )


def _multi_worker_strategy() -> tf.distribute.Strategy:
    global _multi_worker
    if _multi_worker is None:
        config = os.environ.get("TF_CONFIG")
        if not config:
            raise ValueError(
                "distribute='multi_worker' reads the cluster from the TF_CONFIG environment "
                "variable, which is not set. Set it on every worker, e.g. "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}'
            )
        try:
            json.loads(config)
        except json.JSONDecodeError as error:
            raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from None
        _multi_worker = tf.distribute.MultiWorkerMirroredStrategy()
    return _multi_worker
