"""Learning-rate schedules as pure functions of the update index.

``f(t)`` is the learning rate used by update ``t``, counting from 0. Every schedule takes
an int or a numpy array of steps, computes in float64, and round-trips through a JSON
spec (``to_spec`` / ``from_spec``) or a compact string (``parse``).

>>> from lrkit.schedules import parse
>>> s = parse("cosine(peak_lr=1.0, total_steps=10, warmup_steps=2)")
>>> s.values(11)[[0, 1, 2, 6, 10]].round(4).tolist()
[0.0, 0.5, 1.0, 0.5, 0.0]

A family is one class in one module: a frozen dataclass registered with ``@register``,
its formula written once as ``expr(ops, t)`` (numpy, jax and Keras all evaluate it) and
its height declared as ``lr_parameter`` and the parameters the shared tests run it with
declared as ``examples`` and ``interop_examples``; ``tests/schedules/test_contract.py``
fails when any of that is missing. Besides its module, a new family needs hand-computed
values in ``tests/schedules/test_values.py`` and a section in ``docs/schedules.md`` (tests
fail without either), and a new module must be imported here, which is what registers it.
"""

from lrkit.schedules.base import Schedule, as_steps, families, lr_parameters
from lrkit.schedules.basic import (
    Constant,
    Exponential,
    ExponentialWarmup,
    Interpolate,
    InverseTime,
    LinearWarmup,
    MultiStep,
    Piecewise,
    Polynomial,
    Step,
    linear,
    piecewise_factors,
)
from lrkit.schedules.compose import Join, Product, Scaled, join, warmup
from lrkit.schedules.cosine import Cosine, CosineRestarts
from lrkit.schedules.cyclic import Cyclic, OneCycle
from lrkit.schedules.fill import fill_schedule
from lrkit.schedules.horizon import horizon
from lrkit.schedules.parse import parse, parse_spec
from lrkit.schedules.plateau import ReduceOnPlateau
from lrkit.schedules.spec import from_spec
from lrkit.schedules.transformer import WSD, InverseSqrt, Noam, Tanh

__all__ = [
    "WSD",
    "Constant",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "ExponentialWarmup",
    "Interpolate",
    "InverseSqrt",
    "InverseTime",
    "Join",
    "LinearWarmup",
    "MultiStep",
    "Noam",
    "OneCycle",
    "Piecewise",
    "Polynomial",
    "Product",
    "ReduceOnPlateau",
    "Scaled",
    "Schedule",
    "Step",
    "Tanh",
    "as_steps",
    "families",
    "fill_schedule",
    "from_spec",
    "horizon",
    "join",
    "linear",
    "lr_parameters",
    "parse",
    "parse_spec",
    "piecewise_factors",
    "warmup",
]
