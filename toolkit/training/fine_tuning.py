"""Transfer-learning schedules: freeze the body, train the head, unfreeze with lower rates.

fastai's ``fine_tune`` done the Keras way: ``trainable`` flags set per stage, a
recompile between stages, and per-layer-group learning-rate multipliers through
:class:`~toolkit.training.optimizers.DiscriminativeAdamW`.
"""

from __future__ import annotations

import math

import keras

from toolkit.training.loop import Stage

FINE_TUNING_MODES = ("head", "gradual", "full")
#: Share of the backbone's layer groups (from the top) that ``"gradual"`` unfreezes.
UNFREEZE_FRACTION = 1 / 3
#: The unfrozen body trains at this fraction of the head's learning rate (Adam moves each
#: weight by about the rate per step, whatever its gradient, so pretrained filters need a
#: small one) ...
BODY_LR_FACTOR = 0.01
#: ... and the lowest unfrozen group at this fraction of the top group's.
LOWEST_GROUP_FACTOR = 0.1


def fine_tuning_stages(
    mode: str,
    *,
    backbone_name: str,
    layer_groups: list[str],
    epochs: int,
    learning_rate: float,
) -> list[Stage]:
    """Stages for ``mode`` (``"head"``, ``"gradual"`` or ``"full"``).

    ``"head"``: the backbone stays frozen. ``"gradual"``: the head trains for half the
    epochs with the backbone frozen, then the top third of the backbone's layer groups
    is unfrozen and trained with the rest at ``BODY_LR_FACTOR`` (1/100) of the rate,
    lower groups at geometrically smaller rates (with ``epochs=1``, the head's stage
    alone: the stages never add up to more than ``epochs``). ``"full"``: everything
    trains from the start, with discriminative rates over all groups.

    Parameters
    ----------
    mode : str
        One of ``FINE_TUNING_MODES``.
    backbone_name : str or tuple of str
        Name of the backbone layer inside the task's model, or the names of all the
        layers that make up the body (a tagger's character CNN, casing embedding and
        backbone); group prefixes are matched inside nested models.
    layer_groups : list of str or tuple of str
        Layer-name prefixes of the backbone, bottom to top (a tuple groups several).
    epochs : int
        Total epochs across stages.
    learning_rate : float
        Learning rate of the head in ``"head"`` and ``"gradual"``; ``"full"`` trains the
        head and the top group at ``BODY_LR_FACTOR`` of it and lower groups at less.
    """
    if mode not in FINE_TUNING_MODES:
        raise ValueError(
            f"fine_tuning must be one of {FINE_TUNING_MODES}. Received: fine_tuning={mode!r}"
        )
    if mode == "head":
        return [Stage("head", epochs, learning_rate, prepare=_freeze(backbone_name, []))]
    if mode == "full":
        return [Stage("full", epochs, learning_rate * BODY_LR_FACTOR,
                      prepare=_freeze(backbone_name, layer_groups),
                      lr_multipliers=_multipliers(layer_groups))]
    top = layer_groups[-max(1, math.ceil(len(layer_groups) * UNFREEZE_FRACTION)):]
    head_epochs = max(1, epochs // 2)
    head = Stage("head", head_epochs, learning_rate, prepare=_freeze(backbone_name, []))
    if epochs == head_epochs:  # one epoch: the head's; the body's turn needs a second
        return [head]
    return [head, Stage("unfreeze", epochs - head_epochs, learning_rate * BODY_LR_FACTOR,
                        prepare=_freeze(backbone_name, top), lr_multipliers=_multipliers(top))]


def transfer_weights(source: keras.Model, target: keras.Model, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Copy the weights of every layer of ``source`` into the same-named layer of ``target``.

    Layers named in ``skip`` (a new head) and layers whose weight shapes differ keep
    their fresh weights. Returns the names of the layers copied.
    """
    copied = []
    for layer in target.layers:
        if layer.name in skip or not layer.weights:
            continue
        try:
            weights = source.get_layer(layer.name).get_weights()
        except ValueError:  # no such layer in the source
            continue
        if [w.shape for w in weights] == [tuple(w.shape) for w in layer.weights]:
            layer.set_weights(weights)
            copied.append(layer.name)
    return copied


def _freeze(backbone_name: str | tuple[str, ...], trainable_groups: list[str]):
    """A ``prepare`` callback: only layers in ``trainable_groups`` of the body train."""
    names = (backbone_name,) if isinstance(backbone_name, str) else tuple(backbone_name)

    def in_groups(layer) -> bool:
        return any(layer.name.startswith(prefix) for prefix in trainable_groups)

    def prepare(model: keras.Model) -> None:
        for name in names:
            part = model.get_layer(name)
            if not isinstance(part, keras.Model):
                part.trainable = in_groups(part)
                continue
            part.trainable = True
            for layer in part.layers:
                layer.trainable = in_groups(layer)

    return prepare


def _multipliers(groups: list) -> dict[str, float]:
    """Geometric multipliers from ``LOWEST_GROUP_FACTOR`` (bottom) to 1 (top).

    A group is a prefix or a tuple of prefixes; the result maps each prefix (a plain
    string, so the optimizer's config stays JSON) to its group's multiplier.
    """
    if len(groups) == 1:
        return {}
    multipliers = {}
    for index, group in enumerate(groups):
        for prefix in (group,) if isinstance(group, str) else group:
            multipliers[prefix] = LOWEST_GROUP_FACTOR ** (1 - index / (len(groups) - 1))
    return multipliers
