"""``precision=``: Keras dtype policies for building a model, outputs kept in float32."""

from __future__ import annotations

from contextlib import contextmanager

import keras

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}. Received: precision={precision!r}")
    return precision


@contextmanager
def dtype_policy(precision: str):
    """Build layers under ``precision`` (a Keras dtype policy), then restore the global one.

    ``"mixed_float16"`` computes in float16 with float32 weights (Keras adds loss
    scaling when compiling); ``"mixed_bfloat16"`` in bfloat16 (TPUs, recent GPUs and
    CPUs). Heads and losses stay in float32.
    """
    check_precision(precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_outputs(model: keras.Model) -> keras.Model:
    """``model`` itself when every output is float32, else a model that casts them."""
    if all(keras.backend.standardize_dtype(out.dtype) == "float32" for out in model.outputs):
        return model
    outputs = [keras.layers.Activation("linear", dtype="float32", name=f"float32_{i}")(out)
               for i, out in enumerate(model.outputs)]
    return keras.Model(model.inputs, outputs[0] if len(outputs) == 1 else outputs,
                       name=model.name)
