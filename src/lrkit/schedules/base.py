"""The Schedule base class and the family registry.

A schedule is a small frozen dataclass whose ``__call__`` maps the 0-based update index
``t`` (the learning rate used by update ``t``) to a float64 learning rate. It accepts an
int or a numpy array of steps and returns a float or an array of the same shape. A family
writes its formula once, as ``expr(ops, t)`` against ``lrkit.schedules.ops.Ops``: numpy
evaluation and the jax/Keras adapters all run that one expression. Each family also
declares ``lr_parameter``, the field that sets its height (what lrkit fills with a chosen
LR), or None when its rates are fixed by several fields. Building from a JSON spec is in
``lrkit.schedules.spec``.

>>> from lrkit.schedules import Cosine
>>> s = Cosine(peak_lr=0.1, total_steps=100)
>>> s(0), s(100)
(0.1, 0.0)
>>> s.lr_parameter, families()["cosine"] is Cosine
('peak_lr', True)
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lrkit.errors import ConfigError, SpecError
from lrkit.schedules.ops import NUMPY, Array, Ops

__all__ = ["Schedule", "as_steps", "factories", "families", "has_array_form", "lr_parameters",
           "parameter_names", "register", "register_factory"]

# float64 in practice; typed loosely because numpy arithmetic is typed as floating[Any]
FloatArray = NDArray[np.floating[Any]]
S = TypeVar("S", bound="type[Schedule]")

# family name -> class; alias name -> factory taking the spec's keyword arguments
_FAMILIES: dict[str, type[Schedule]] = {}
_FACTORIES: dict[str, Callable[..., Schedule]] = {}
# alias name -> the factory argument that sets the height (None: no single one)
_FACTORY_LR: dict[str, str | None] = {}


def as_steps(step: ArrayLike) -> FloatArray:
    """Convert ``step`` to a float64 array, refusing negative or non-finite steps.

    >>> as_steps([0, 1, 2])
    array([0., 1., 2.])
    """
    try:
        t = np.asarray(step, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"step = {step!r}: must be a number or an array of numbers; "
                          "pass e.g. 10 or numpy.arange(100)") from None
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        value = float(t[bad].flat[0])
        raise ConfigError(
            f"step = {value!r}: steps count updates from 0 and must be finite; pass step >= 0"
        )
    return t


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Base class: a family implements ``expr(ops, t)`` and declares ``lr_parameter``.

    Subclasses are frozen dataclasses; they validate and normalise their fields in
    ``__post_init__`` so that an invalid schedule can never exist. A subclass of your own
    may implement ``_lr(t)`` on a float64 numpy array instead of ``expr``: it then works
    everywhere except the jax/Keras adapters, which need the array form.
    """

    family: ClassVar[str] = ""
    # the field lrkit sets to a chosen LR (None: the family fixes its rates itself)
    lr_parameter: ClassVar[str | None] = None
    # spec strings the shared tests run the family with, so a new family brings its own
    # test parameters: ``examples`` feed the contract and property tests (the first must
    # build this family itself), ``interop_examples`` (name -> spec) the adapter tests
    examples: ClassVar[tuple[str, ...]] = ()
    interop_examples: ClassVar[dict[str, str]] = {}

    @overload
    def __call__(self, step: int | float) -> float: ...
    @overload
    def __call__(self, step: NDArray[Any] | list[Any]) -> FloatArray: ...
    def __call__(self, step: ArrayLike) -> float | FloatArray:
        t = as_steps(step)
        # always evaluate a flat 1-d array: numpy's scalar and vector maths (pow, cos) can
        # differ in the last bit, and s(t) must equal s(array)[i] exactly
        flat = t.reshape(-1)
        out = np.asarray(self._lr(flat), dtype=np.float64)
        if out.shape != flat.shape:  # a constant piece may return a 0-d value
            out = np.broadcast_to(out, flat.shape).copy()
        return float(out[0]) if t.ndim == 0 else out.reshape(t.shape)

    def expr(self, ops: Ops, t: Array) -> Array:
        """The rates at float steps ``t``, from ``ops``' operations only: the one formula.

        No Python branching on the values of ``t`` (jax traces it); branching on the
        schedule's own fields is fine.
        """
        raise ConfigError(f"schedule = {type(self).__name__}: has no array form for "
                          "jax/keras; build it from lrkit's families, or use a lookup table "
                          "(to_optax(schedule, table_steps=N))")

    def _lr(self, t: FloatArray) -> FloatArray:
        # numpy evaluation binds the family's one formula
        return np.asarray(self.expr(NUMPY, t))

    def rate(self, ops: Ops, t: Array) -> Array:
        """The rates of this schedule as a part of another (a join's piece, a product's
        factor): with numpy its ``_lr`` (so a subclass of your own works inside a join),
        else its ``expr``."""
        return self._lr(t) if ops.eager else self.expr(ops, t)

    def values(self, total_steps: int) -> FloatArray:
        """The learning rates of updates ``0 .. total_steps - 1``.

        >>> from lrkit.schedules import Constant
        >>> Constant(0.5).values(3)
        array([0.5, 0.5, 0.5])
        """
        return np.asarray(self(np.arange(total_steps)), dtype=np.float64)

    def to_spec(self) -> dict[str, Any]:
        """This schedule as a JSON-ready dict: ``{"family": name, <parameters>}``."""
        spec: dict[str, Any] = {"family": self.family}
        for field in dataclasses.fields(self):
            spec[field.name] = _to_json(getattr(self, field.name), f"{self.family}.{field.name}")
        return spec

    def __mul__(self, other: object) -> Schedule:
        # through the registry: lrkit.schedules.compose builds on this module, not back
        if isinstance(other, Schedule):
            return _FAMILIES["product"](self, other)  # type: ignore[call-arg]
        if isinstance(other, int | float) and not isinstance(other, bool):
            return _FAMILIES["scaled"](self, float(other))  # type: ignore[call-arg]
        return NotImplemented

    __rmul__ = __mul__


def _to_json(value: Any, where: str) -> Any:
    if isinstance(value, Schedule):
        return value.to_spec()
    if isinstance(value, tuple | list):
        return [_to_json(v, where) for v in value]
    if callable(value):
        raise SpecError(
            f"{where} = {value!r}: a Python callable has no JSON spec; "
            "use a built-in option instead to save or export this schedule"
        )
    return value


def register(name: str) -> Callable[[S], S]:
    """Class decorator: register a Schedule subclass under the spec family ``name``."""

    def deco(cls: S) -> S:
        cls.family = name
        _FAMILIES[name] = cls
        return cls

    return deco


def register_factory(name: str, factory: Callable[..., Schedule],
                     lr_parameter: str | None = None) -> None:
    """Register a spec alias (e.g. ``linear``) built by ``factory(**params)``; its
    ``lr_parameter`` is the argument that sets the height, as a family's is."""
    _FACTORIES[name] = factory
    _FACTORY_LR[name] = lr_parameter


def families() -> dict[str, type[Schedule]]:
    """The registered families, by spec name (a copy)."""
    return dict(sorted(_FAMILIES.items()))


def factories() -> dict[str, Callable[..., Schedule]]:
    """The registered spec aliases (``linear``, ``piecewise_factors``), by name (a copy)."""
    return dict(sorted(_FACTORIES.items()))


def lr_parameters() -> dict[str, str]:
    """Spec name -> the parameter that sets its height, for every family and alias that
    has a single one.

    >>> lr_parameters()["cosine"], lr_parameters()["linear"]
    ('peak_lr', 'init_lr')
    """
    out = {name: cls.lr_parameter for name, cls in _FAMILIES.items() if cls.lr_parameter}
    out.update({name: p for name, p in _FACTORY_LR.items() if p})
    return dict(sorted(out.items()))


def has_array_form(cls: type[Schedule]) -> bool:
    """Whether ``cls`` writes its formula as ``expr`` (what the jax/Keras adapters run)."""
    return cls.expr is not Schedule.expr


def parameter_names(name: str) -> tuple[list[str], list[str]]:
    """(allowed, required) keyword names of the family or alias ``name``.

    >>> parameter_names("linear")
    (['init_lr', 'end_lr', 'total_steps'], ['init_lr', 'total_steps'])
    """
    if name in _FACTORIES:
        sig = inspect.signature(_FACTORIES[name]).parameters.values()
        return ([p.name for p in sig],
                [p.name for p in sig if p.default is inspect.Parameter.empty])
    fields = dataclasses.fields(_FAMILIES[name])
    return ([f.name for f in fields],
            [f.name for f in fields if f.default is dataclasses.MISSING
             and f.default_factory is dataclasses.MISSING])
