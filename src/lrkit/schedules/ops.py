"""The array operations a schedule formula is written against, and their numpy binding.

Each family writes its formula once, as ``expr(ops, t)`` over a float step array, using
only the elementwise operations of an ``Ops`` (``where``, ``floor``, ``cos``,
``searchsorted`` on constant tables, ...) and no Python branching on the values of ``t``.
``NUMPY`` binds them to numpy and is what ``schedule(t)`` evaluates; the jax and
``keras.ops`` bindings live in ``lrkit.interop`` (imported only there), so optax and Keras
run the very same expression, jit-compiled or on any Keras backend.

>>> import numpy as np
>>> mix(1.0, 0.0, NUMPY.const([1.0, 0.25]))
array([1.  , 0.25])
>>> half_cosine(NUMPY, NUMPY.const([0.0, 1.0]))
array([1., 0.])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["NUMPY", "Array", "Ops", "clip", "half_cosine", "mix"]

Array = Any  # an array of the bound library (numpy, jax, a Keras tensor)


@dataclasses.dataclass(frozen=True)
class Ops:
    """The array operations a schedule formula uses, bound to one library.

    ``const(values)`` makes a constant array in the working float dtype;
    ``searchsorted(table, x, side)`` and ``take(table, i)`` read constant tables;
    ``to_float`` / ``to_index`` convert between integer and float arrays; the rest are
    elementwise and broadcast. ``eager`` is True only for numpy evaluation, where the
    values are concrete: a formula may then call the user's Python code (``Cyclic``'s
    ``scale_fn``) or take a numpy-only shortcut that gives the same values
    (``CosineRestarts``' closed-form cycle index).
    """

    const: Callable[[Any], Array]
    where: Callable[[Array, Array, Array], Array]
    floor: Callable[[Array], Array]
    ceil: Callable[[Array], Array]
    cos: Callable[[Array], Array]
    tanh: Callable[[Array], Array]
    sqrt: Callable[[Array], Array]
    power: Callable[[Array, Array], Array]
    minimum: Callable[[Array, Array], Array]
    maximum: Callable[[Array, Array], Array]
    searchsorted: Callable[[Array, Array, str], Array]
    take: Callable[[Array, Array], Array]
    to_float: Callable[[Array], Array]
    to_index: Callable[[Array], Array]
    zeros_like: Callable[[Array], Array]
    eager: bool = False


NUMPY = Ops(
    const=lambda v: np.asarray(v, dtype=np.float64),
    where=np.where, floor=np.floor, ceil=np.ceil, cos=np.cos, tanh=np.tanh, sqrt=np.sqrt,
    power=np.power, minimum=np.minimum, maximum=np.maximum,
    searchsorted=lambda a, x, side: np.searchsorted(a, x, side=side),  # type: ignore[call-overload]
    take=lambda a, i: np.take(a, i),
    to_float=lambda x: np.asarray(x, dtype=np.float64),
    to_index=lambda x: np.asarray(x).astype(np.int64),
    zeros_like=np.zeros_like,
    eager=True,
)


def mix(high: float, low: float, weight: Array) -> Array:
    """high * w + low * (1 - w): exactly ``high`` at w = 1 and exactly ``low`` at w = 0.

    The textbook ``low + (high - low) * w`` can miss ``high`` by an ulp when ``low`` is
    much larger than ``high`` (a rising schedule), so f(0) would not equal its parameter.

    >>> mix(1e-8, 1.0, 1.0)
    1e-08
    """
    return high * weight + low * (1.0 - weight)


def half_cosine(ops: Ops, p: Array) -> Array:
    """(1 + cos(pi * p)) / 2: 1 at p = 0, 0 at p = 1."""
    return 0.5 * (1.0 + ops.cos(np.pi * p))


def clip(ops: Ops, x: Array, lo: float, hi: float) -> Array:
    """``x`` limited to [lo, hi] (numpy's ``clip``, from minimum and maximum).

    >>> clip(NUMPY, NUMPY.const([-1.0, 0.5, 2.0]), 0.0, 1.0)
    array([0. , 0.5, 1. ])
    """
    return ops.minimum(ops.maximum(x, ops.const(lo)), ops.const(hi))
