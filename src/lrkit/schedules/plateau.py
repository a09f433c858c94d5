"""Reduce-on-plateau as an explicit, serialisable state machine driven by a metric."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from lrkit._check import PART as check
from lrkit.schedules.base import FloatArray

__all__ = ["ReduceOnPlateau"]


@dataclasses.dataclass
class ReduceOnPlateau:
    """Multiply the learning rate by ``factor`` when the metric stops improving.

    A metric improves when it beats the best so far by ``threshold`` (relative:
    ``m < best * (1 - threshold)``; absolute: ``m < best - threshold``; mirrored for
    ``mode="max"``: ``m > best * (1 + threshold)``, ``m > best + threshold``). Each call
    that does not improve adds a bad epoch, and every call made while ``cooldown_left > 0``
    resets the count (and uses up one cooldown call). The rate is cut to
    ``max(lr * factor, min_lr)`` when the count exceeds ``patience``
    (``patience_rule="gt"``, PyTorch ``ReduceLROnPlateau``) or reaches it (``"ge"``, Keras
    and optax), unless that lowers it by ``eps`` or less; the count then restarts and
    ``cooldown`` calls follow. A NaN metric never improves. ``step(metric)`` returns the
    rate for the next epoch; the whole state is in ``to_spec()``, so a resumed run
    continues exactly.

    PyTorch's defaults are this class's defaults. The Keras callback
    ``ReduceLROnPlateau(factor, patience, min_delta, cooldown=c, min_lr)`` is
    ``patience_rule="ge", threshold_mode="abs", threshold=min_delta, eps=0`` with
    ``cooldown=max(c - 1, 0)``: Keras counts down its cooldown before it tests the metric,
    so its last cooldown epoch already counts as bad. Not a ``Schedule`` (it depends on
    the metric, not the step); its spec family ``reduce_on_plateau`` is read by
    ``ReduceOnPlateau.from_spec``.

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
        self.threshold = check.non_negative(f"{w}.threshold", self.threshold)
        self.threshold_mode = check.choice(f"{w}.threshold_mode", self.threshold_mode,
                                           ("rel", "abs"))
        self.mode = check.choice(f"{w}.mode", self.mode, ("min", "max"))
        self.cooldown = check.count(f"{w}.cooldown", self.cooldown, minimum=0)
        self.min_lr = check.learning_rate(f"{w}.min_lr", self.min_lr)
        self.eps = check.non_negative(f"{w}.eps", self.eps)
        self.patience_rule = check.choice(f"{w}.patience_rule", self.patience_rule, ("gt", "ge"))
        # the state fields: NaN lr / best mean "not started"
        if isinstance(self.lr, float) and math.isnan(self.lr):
            self.lr = self.init_lr
        self.lr = check.learning_rate(f"{w}.lr", self.lr)
        if isinstance(self.best, float) and math.isnan(self.best):
            self.best = math.inf if self.mode == "min" else -math.inf
        if isinstance(self.best, bool) or not isinstance(self.best, int | float):
            raise check.fail(f"{w}.best", self.best, "must be a number or +-inf",
                             "pass the best metric so far, or leave it out")
        self.best = float(self.best)
        self.num_bad = check.count(f"{w}.num_bad", self.num_bad, minimum=0)
        self.cooldown_left = check.count(f"{w}.cooldown_left", self.cooldown_left, minimum=0)
        self.steps = check.count(f"{w}.steps", self.steps, minimum=0)

    def _improves(self, metric: float) -> bool:
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            bar = self.best * (1.0 - sign * self.threshold)
        else:
            bar = self.best - sign * self.threshold
        return metric < bar if self.mode == "min" else metric > bar

    def step(self, metric: float) -> float:
        """Record one epoch's metric and return the learning rate for the next epoch.

        Raises:
            ConfigError: ``metric`` is not a number.
        """
        if isinstance(metric, bool) or not isinstance(metric, int | float | np.number):
            raise check.fail("reduce_on_plateau.metric", metric, "must be a number",
                             "pass the validation metric of the epoch as a float")
        metric = float(metric)
        self.steps += 1
        if self._improves(metric):
            self.best, self.num_bad = metric, 0
        else:
            self.num_bad += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.num_bad = 0
        # "ge" with patience 0 reduces on every bad epoch (Keras), never after an improvement
        due = (self.num_bad > self.patience if self.patience_rule == "gt"
               else self.num_bad >= max(self.patience, 1))
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
        if not isinstance(spec, Mapping):
            raise check.fail("reduce_on_plateau", spec, "spec must be a JSON object",
                             'pass e.g. {"family": "reduce_on_plateau", "init_lr": 0.1}')
        if spec.get("family", "reduce_on_plateau") != "reduce_on_plateau":
            raise check.fail("family", spec["family"], "is not reduce_on_plateau",
                             "use lrkit.schedules.from_spec for step-driven schedules")
        params = {k: v for k, v in spec.items() if k != "family"}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - names)
        if unknown:
            raise check.fail(f"reduce_on_plateau.{unknown[0]}", params[unknown[0]],
                             "unknown parameter", f"valid names: {', '.join(sorted(names))}")
        if "init_lr" not in params:
            raise check.fail("reduce_on_plateau.init_lr", None, "missing required parameter",
                             "add init_lr=<the starting learning rate>")
        if isinstance(params.get("best"), str):
            if params["best"] not in ("inf", "-inf"):
                raise check.fail("reduce_on_plateau.best", params["best"],
                                 "must be a number, 'inf' or '-inf'", "pass the saved state")
            params["best"] = float(params["best"])
        return cls(**params)
