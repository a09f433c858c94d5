"""The Schedule base class, the family registry and the JSON spec round trip.

A schedule is a small frozen dataclass whose ``__call__`` maps the 0-based update index
``t`` (the learning rate used by update ``t``) to a float64 learning rate. It accepts an
int or a numpy array of steps and returns a float or an array of the same shape.

>>> from lrkit.schedules import Cosine
>>> s = Cosine(peak_lr=0.1, total_steps=100)
>>> s(0), s(100)
(0.1, 0.0)
>>> from_spec(s.to_spec()) == s
True
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lrkit.errors import ConfigError, SpecError

__all__ = ["Schedule", "as_steps", "families", "from_spec", "register", "register_factory"]

# float64 in practice; typed loosely because numpy arithmetic is typed as floating[Any]
FloatArray = NDArray[np.floating[Any]]
S = TypeVar("S", bound="type[Schedule]")

# family name -> class; alias name -> factory taking the spec's keyword arguments
_FAMILIES: dict[str, type[Schedule]] = {}
_FACTORIES: dict[str, Callable[..., Schedule]] = {}


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
    """Base class: subclasses implement ``_lr(t)`` on a float64 array of steps.

    Subclasses are frozen dataclasses; they validate and normalise their fields in
    ``__post_init__`` so that an invalid schedule can never exist.
    """

    family: ClassVar[str] = ""

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

    def _lr(self, t: FloatArray) -> FloatArray:
        raise NotImplementedError

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
        from lrkit.schedules.compose import Product, Scaled

        if isinstance(other, Schedule):
            return Product(self, other)
        if isinstance(other, int | float) and not isinstance(other, bool):
            return Scaled(self, float(other))
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


def register_factory(name: str, factory: Callable[..., Schedule]) -> None:
    """Register a spec alias (e.g. ``linear``) built by ``factory(**params)``."""
    _FACTORIES[name] = factory


def families() -> dict[str, type[Schedule]]:
    """The registered families, by spec name (a copy)."""
    return dict(sorted(_FAMILIES.items()))


def _field_names(cls: type[Schedule]) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _from_json(value: Any) -> Any:
    if isinstance(value, Mapping) and "family" in value:
        return from_spec(value)
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value


def from_spec(spec: Mapping[str, Any]) -> Schedule:
    """Build a schedule from its JSON spec (the inverse of ``Schedule.to_spec``).

    Any family also accepts ``warmup_steps`` (and ``warmup_init_lr``, ``warmup_shape``):
    the schedule is then a linear (or exponential) warmup joined to the family, whose
    ``total_steps``, if it has one, counts the whole run including the warmup.

    >>> s = from_spec({"family": "cosine", "peak_lr": 0.1, "total_steps": 1000,
    ...                "warmup_steps": 100})
    >>> s(0), s(100), round(s(550), 6)
    (0.0, 0.1, 0.05)
    """
    if not isinstance(spec, Mapping):
        raise SpecError(f"spec = {spec!r}: must be a JSON object; pass e.g. "
                        '{"family": "constant", "base_lr": 0.1}')
    params = dict(spec)
    name = params.pop("family", None)
    if name is None:
        raise SpecError(f"spec = {dict(spec)!r}: has no 'family'; add e.g. \"family\": \"cosine\"")
    known = sorted(_FAMILIES) + sorted(_FACTORIES)
    if name == "reduce_on_plateau":
        raise SpecError("family = 'reduce_on_plateau': is driven by a metric, not by the step; "
                        "build it with lrkit.schedules.ReduceOnPlateau.from_spec(spec)")
    if name not in known:
        hint = difflib.get_close_matches(str(name), known, n=1)
        fix = f"did you mean {hint[0]!r}?" if hint else f"pick one of {', '.join(known)}"
        raise SpecError(f"family = {name!r}: unknown schedule family; {fix}")
    # a family that owns a field named warmup_steps (linear_warmup) keeps it as its own
    own = set(_field_names(_FAMILIES[name])) if name in _FAMILIES else set()
    warmup = {k: params.pop(k) for k in ("warmup_steps", "warmup_init_lr", "warmup_shape")
              if k in params and k not in own}
    if warmup and "warmup_steps" not in warmup:
        raise SpecError(f"{name}.warmup_steps: missing while {sorted(warmup)} was given; "
                        "add warmup_steps=<number of warmup updates>")
    params = {k: _from_json(v) for k, v in params.items()}
    if warmup:
        from lrkit.schedules.compose import warmup_prefixed

        return warmup_prefixed(name, params, **warmup)
    return build(name, params)


def build(name: str, params: Mapping[str, Any]) -> Schedule:
    """Construct family or alias ``name`` from keyword ``params``, checking their names."""
    maker: Callable[..., Schedule]
    if name in _FACTORIES:
        maker = _FACTORIES[name]
        sig = inspect.signature(maker).parameters.values()
        allowed = [p.name for p in sig]
        required = [p.name for p in sig if p.default is inspect.Parameter.empty]
    else:
        maker = _FAMILIES[name]
        allowed = _field_names(_FAMILIES[name])
        required = [f.name for f in dataclasses.fields(_FAMILIES[name])
                    if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING]
    for key, value in params.items():
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"valid names: {', '.join(allowed)}"
            raise SpecError(f"{name}.{key} = {value!r}: unknown parameter; {fix}")
    missing = [k for k in required if k not in params]
    if missing:
        raise SpecError(f"{name}.{missing[0]}: missing required parameter; "
                        f"add {', '.join(f'{k}=...' for k in missing)}")
    return maker(**params)
