"""Reduce-on-plateau as an explicit, serialisable state machine driven by a metric."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from lrkit.schedules import _check as check
from lrkit.schedules.base import FloatArray

__all__ = ["ReduceOnPlateau"]


@dataclasses.dataclass
class ReduceOnPlateau:
    """Multiply the learning rate by ``factor`` when the metric stops improving.

    A metric improves when it beats the best so far by ``threshold`` (relative:
    ``m < best * (1 - threshold)``; absolute: ``m < best - threshold``; mirrored for
    ``mode="max"``). Each non-improving call adds a bad epoch; the rate is cut when the
    count exceeds ``patience`` (``patience_rule="gt"``, PyTorch) or reaches it (``"ge"``,
    Keras and optax), never below ``min_lr`` and not by less than ``eps``; then ``cooldown``
    calls are ignored. ``step(metric)`` returns the rate for the next epoch; the whole state
    is in ``to_spec()``, so a resumed run continues exactly.

    >>> p = ReduceOnPlateau(init_lr=1.0, factor=0.5, patience=2)
    >>> p.simulate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    """

    init_lr: float
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    threshold_mode: str = "rel"
    mode: str = "min"
    cooldown: int = 0
    min_lr: float = 0.0
    eps: float = 1e-8
    patience_rule: str = "gt"
    # state, advanced by step()
    lr: float = dataclasses.field(default=math.nan)
    best: float = dataclasses.field(default=math.nan)
    num_bad: int = 0
    cooldown_left: int = 0
    steps: int = 0

    def __post_init__(self) -> None:
        w = "reduce_on_plateau"
        self.init_lr = check.learning_rate(f"{w}.init_lr", self.init_lr)
        self.factor = check.real(f"{w}.factor", self.factor)
        if not 0.0 < self.factor < 1.0:
            raise check.fail(f"{w}.factor", self.factor, "must lie in (0, 1)",
                             "pass e.g. 0.1 or 0.5")
        self.patience = check.count(f"{w}.patience", self.patience, minimum=0)
        self.threshold = check.learning_rate(f"{w}.threshold", self.threshold)
        self.threshold_mode = check.choice(f"{w}.threshold_mode", self.threshold_mode,
                                           ("rel", "abs"))
        self.mode = check.choice(f"{w}.mode", self.mode, ("min", "max"))
        self.cooldown = check.count(f"{w}.cooldown", self.cooldown, minimum=0)
        self.min_lr = check.learning_rate(f"{w}.min_lr", self.min_lr)
        self.eps = check.learning_rate(f"{w}.eps", self.eps)
        self.patience_rule = check.choice(f"{w}.patience_rule", self.patience_rule, ("gt", "ge"))
        if math.isnan(self.lr):
            self.lr = self.init_lr
        if math.isnan(self.best):
            self.best = math.inf if self.mode == "min" else -math.inf

    def _improves(self, metric: float) -> bool:
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            bar = self.best * (1.0 - sign * self.threshold)
        else:
            bar = self.best - sign * self.threshold
        return metric < bar if self.mode == "min" else metric > bar

    def step(self, metric: float) -> float:
        """Record one epoch's metric and return the learning rate for the next epoch."""
        metric = float(metric)
        self.steps += 1
        if self._improves(metric):
            self.best, self.num_bad = metric, 0
        else:
            self.num_bad += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.num_bad = 0
        due = (self.num_bad > self.patience if self.patience_rule == "gt"
               else self.num_bad >= self.patience)
        if due:
            new = max(self.lr * self.factor, self.min_lr)
            if self.lr - new > self.eps:
                self.lr = new
            self.cooldown_left, self.num_bad = self.cooldown, 0
        return self.lr

    def simulate(self, metrics: Iterable[float]) -> FloatArray:
        """The rate used in each epoch when the epochs report ``metrics``; leaves ``self`` as is.

        Entry k is the rate used in epoch k, before that epoch's metric is seen.
        """
        clone = dataclasses.replace(self)
        lrs = [clone.lr]
        for m in metrics:
            lrs.append(clone.step(m))
        return np.asarray(lrs[:-1], dtype=np.float64)

    def to_spec(self) -> dict[str, Any]:
        """Configuration and state as JSON (``inf`` best values are written as strings)."""
        spec: dict[str, Any] = {"family": "reduce_on_plateau"}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            spec[f.name] = str(value) if isinstance(value, float) and math.isinf(value) else value
        return spec

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> ReduceOnPlateau:
        """Inverse of ``to_spec``.

        >>> p = ReduceOnPlateau(init_lr=0.1); _ = p.step(1.0)
        >>> ReduceOnPlateau.from_spec(p.to_spec()) == p
        True
        """
        params = {k: v for k, v in spec.items() if k != "family"}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - names)
        if unknown:
            raise check.fail(f"reduce_on_plateau.{unknown[0]}", params[unknown[0]],
                             "unknown parameter", f"valid names: {', '.join(sorted(names))}")
        if isinstance(params.get("best"), str):
            params["best"] = float(params["best"])
        return cls(**params)
