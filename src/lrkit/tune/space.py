"""The search space: the LR (log scale) and, optionally, schedule shape, warmup and weight decay.

A space is a small frozen dataclass. ``suggest(trial)`` draws one configuration from an
Optuna trial; ``grid()`` lists the log-scale grid practitioners use (1e-4, 3e-4, 1e-3, ...);
``around(lrs)`` narrows the LR range to a band around earlier suggestions (coarse to fine).

>>> space = SearchSpace(lr_min=1e-4, lr_max=1e-2)
>>> space.grid()["lr"]
[0.0001, 0.0003, 0.001, 0.003, 0.01]
>>> SearchSpace.around([0.01], factor=10).lr_min
0.001
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lrkit.errors import ConfigError
from lrkit.schedules import lr_parameters, parse_spec

__all__ = ["DEFAULT_LR_MAX", "DEFAULT_LR_MIN", "SearchSpace", "log_grid"]

DEFAULT_LR_MIN = 1e-5
DEFAULT_LR_MAX = 1.0
# sqrt(10): the 1-3-10 grid (1e-4, 3e-4, 1e-3, ...) that practitioners sweep by hand
_HALF_DECADE = math.sqrt(10.0)


def _round_mantissa(value: float) -> float:
    """Round to one significant digit, so a sqrt(10) grid reads 1, 3, 10, 30, ..."""
    exponent = math.floor(math.log10(value))
    return round(value / 10.0**exponent) * 10.0**exponent


def log_grid(low: float, high: float, factor: float = _HALF_DECADE,
             anchor: float | None = None) -> list[float]:
    """LRs ``anchor * factor**k`` that lie in ``[low, high]`` (ends included, 0.1% slack).

    Without an anchor the grid is the practitioners' one: powers of ten and their
    three-multiples when ``factor`` is about 3 (exactly sqrt(10)), powers of ``factor``
    from ``low`` otherwise. With an anchor (a calculator or range-test suggestion) the grid
    is centred on it.

    >>> log_grid(1e-3, 1e-1)
    [0.001, 0.003, 0.01, 0.03, 0.1]
    >>> [round(v, 6) for v in log_grid(0.01, 0.2, factor=3, anchor=0.02)]
    [0.02, 0.06, 0.18]
    """
    if not (math.isfinite(factor) and factor > 1):
        raise ConfigError(f"grid_factor = {factor!r}: must be > 1; pass e.g. 3")
    half_decade = abs(factor - _HALF_DECADE) < 1e-9
    base = anchor if anchor is not None else (10.0 ** math.floor(math.log10(low)))
    k_lo = math.floor(math.log(low / base, factor)) - 1
    k_hi = math.ceil(math.log(high / base, factor)) + 1
    out: list[float] = []
    for k in range(k_lo, k_hi + 1):
        value = base * factor**k
        if half_decade and anchor is None:
            value = _round_mantissa(value)
        if low * (1 - 1e-3) <= value <= high * (1 + 1e-3) and value not in out:
            out.append(float(f"{value:.12g}"))
    return out


def _range(name: str, pair: Any, *, positive: bool) -> tuple[float, float] | None:
    if pair is None:
        return None
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} = {pair!r}: must be a pair (min, max) of numbers; "
                          "pass e.g. 0,0.1") from None
    bad = not (math.isfinite(low) and math.isfinite(high)) or low > high or low < 0
    if bad or (positive and low <= 0):
        rule = "must be finite with 0 < min <= max" if positive else \
            "must be finite with 0 <= min <= max"
        raise ConfigError(f"{name} = {pair!r}: {rule}; pass e.g. "
                          f"{'1e-5,1e-2' if positive else '0,0.1'}")
    return (low, high)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """What a search varies: LR always; schedule shape, warmup, weight decay if given.

    Args:
        lr_min, lr_max: bounds of the peak LR, searched on a log scale.
        schedules: schedule *shapes* (``"cosine"``, ``"constant"``,
            ``"wsd(decay_steps=0.2)"``) to choose among; empty keeps the task's own.
        warmup: (min, max) warmup length as a fraction of the run; None keeps the task's.
        weight_decay: (min, max) weight decay, log scale (0 < min); None keeps the task's.

    Raises:
        ConfigError: a bound is invalid or a shape names a family without an LR parameter.
    """

    lr_min: float = DEFAULT_LR_MIN
    lr_max: float = DEFAULT_LR_MAX
    schedules: tuple[str, ...] = ()
    warmup: tuple[float, float] | None = None
    weight_decay: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        lr = _range("lr range", (self.lr_min, self.lr_max), positive=True)
        assert lr is not None  # a pair was passed, so _range returns one
        object.__setattr__(self, "lr_min", lr[0])
        object.__setattr__(self, "lr_max", lr[1])
        shapes = (self.schedules,) if isinstance(self.schedules, str) else self.schedules
        shapes = tuple(dict.fromkeys(s.strip() for s in shapes))
        for shape in shapes:
            family = parse_spec(shape).get("family")
            if family not in lr_parameters():
                raise ConfigError(f"schedule = {shape!r}: family {family!r} has no LR "
                                  "parameter to search; use one of "
                                  f"{', '.join(lr_parameters())}")
        object.__setattr__(self, "schedules", shapes)
        warm = _range("warmup", self.warmup, positive=False)
        if warm is not None and warm[1] >= 1:
            raise ConfigError(f"warmup = {self.warmup!r}: is a fraction of the run and must "
                              "be < 1; pass e.g. 0,0.1")
        object.__setattr__(self, "warmup", warm)
        object.__setattr__(self, "weight_decay",
                           _range("weight_decay", self.weight_decay, positive=True))

    @classmethod
    def around(cls, lrs: Iterable[float], factor: float = 10.0, **kwargs: Any) -> SearchSpace:
        """The space whose LR band runs from min(lrs)/factor to max(lrs)*factor.

        This is the "fine" step of coarse-to-fine: a calculator or range-test suggestion
        is rarely off by more than a factor of ten, so the search need not look further.
        """
        values = [float(v) for v in lrs if v is not None and math.isfinite(v) and v > 0]
        if not values:
            raise ConfigError(f"suggested lrs = {list(lrs)!r}: none is a positive number; "
                              "pass at least one LR suggestion or explicit --lr-min/--lr-max")
        if not factor > 1:
            raise ConfigError(f"narrow factor = {factor!r}: must be > 1; pass e.g. 10")
        return cls(lr_min=min(values) / factor, lr_max=max(values) * factor, **kwargs)

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Draw one configuration from an Optuna ``trial`` (names: lr, schedule, warmup, ...)."""
        params: dict[str, Any] = {
            "lr": trial.suggest_float("lr", self.lr_min, self.lr_max, log=True)}
        if self.schedules:
            # even a single shape is "suggested", so the trial records it with its params
            params["schedule"] = trial.suggest_categorical("schedule", list(self.schedules))
        if self.warmup is not None:
            params["warmup"] = trial.suggest_float("warmup", *self.warmup)
        if self.weight_decay is not None:
            params["weight_decay"] = trial.suggest_float("weight_decay", *self.weight_decay,
                                                         log=True)
        return params

    def grid(self, factor: float = _HALF_DECADE, anchor: float | None = None
             ) -> dict[str, list[Any]]:
        """The grid for Optuna's GridSampler: a log LR grid crossed with the other axes.

        Warmup takes its two ends and midpoint; weight decay a decade grid.
        """
        lrs = log_grid(self.lr_min, self.lr_max, factor, anchor)
        if not lrs:
            raise ConfigError(f"grid_factor = {factor!r}: leaves no grid point in "
                              f"[{self.lr_min:g}, {self.lr_max:g}]; widen the LR range")
        out: dict[str, list[Any]] = {"lr": lrs}
        if self.schedules:
            out["schedule"] = list(self.schedules)
        if self.warmup is not None:
            low, high = self.warmup
            out["warmup"] = sorted({low, (low + high) / 2, high})
        if self.weight_decay is not None:
            out["weight_decay"] = log_grid(*self.weight_decay, factor=10.0) or \
                [self.weight_decay[0]]
        return out

    def grid_size(self, factor: float = _HALF_DECADE, anchor: float | None = None) -> int:
        """Number of points of ``grid(factor, anchor)``."""
        return math.prod(len(v) for v in self.grid(factor, anchor).values())

    def contains(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` (e.g. an enqueued seed) lies inside this space."""
        lr = params.get("lr")
        if not isinstance(lr, int | float) or not self.lr_min <= lr <= self.lr_max:
            return False
        if "schedule" in params and self.schedules and params["schedule"] not in self.schedules:
            return False
        return all(key not in params or rng is None or rng[0] <= params[key] <= rng[1]
                   for key, rng in (("warmup", self.warmup),
                                    ("weight_decay", self.weight_decay)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (stored on the study so a resume can check it)."""
        return {"lr_min": self.lr_min, "lr_max": self.lr_max,
                "schedules": list(self.schedules),
                "warmup": list(self.warmup) if self.warmup else None,
                "weight_decay": list(self.weight_decay) if self.weight_decay else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        """Inverse of ``to_dict``."""
        return cls(lr_min=data["lr_min"], lr_max=data["lr_max"],
                   schedules=tuple(data.get("schedules") or ()),
                   warmup=_pair(data.get("warmup")), weight_decay=_pair(data.get("weight_decay")))


def _pair(value: Sequence[float] | None) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))
