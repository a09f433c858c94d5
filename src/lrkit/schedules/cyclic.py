"""Cyclical learning rates (Smith 2017) and the one-cycle policy (Smith & Topin 2019)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from lrkit._check import PART as check
from lrkit.errors import ConfigError
from lrkit.schedules._frozen import settle
from lrkit.schedules.base import FloatArray, Schedule, register
from lrkit.schedules.ops import Array, Ops

__all__ = ["Cyclic", "OneCycle"]

_MODES = ("triangular", "triangular2", "exp_range")


@register("cyclic")
@dataclasses.dataclass(frozen=True)
class Cyclic(Schedule):
    """Cyclical learning rate (Smith 2017, arXiv 1506.01186), as PyTorch ``CyclicLR``.

    With C = up + down, cycle = floor(1 + t / C), x = 1 + t / C - cycle and r = up / C:
    s = x / r if x <= r else (x - 1) / (r - 1), and
    f(t) = base_lr + (max_lr - base_lr) * s * g, where g = 1 (``triangular``),
    1 / 2 ** (cycle - 1) (``triangular2``) or gamma ** t (``exp_range``).
    A custom ``scale_fn`` (a Python callable; not JSON-serialisable) replaces g and receives
    the cycle number (1, 2, ...) or the step, per ``scale_mode`` (default ``cycle``, or
    ``iterations`` for ``exp_range``). ``gamma`` lies in (0, 1]: exp_range shrinks the
    amplitude. Spec:
    ``cyclic(base_lr=1e-4, max_lr=1e-2, step_size_up=2000, mode=triangular2)``.

    >>> Cyclic(0.0, 1.0, step_size_up=2, mode="triangular2").values(8)
    array([0.  , 0.5 , 1.  , 0.5 , 0.  , 0.25, 0.5 , 0.25])
    """

    lr_parameter = "max_lr"
    examples = (
        "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=200)",
        "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=100, step_size_down=300, "
        "mode=triangular2)",
        "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, mode=exp_range, gamma=0.999)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "cyclic": (
            "cyclic(base_lr=0.01, max_lr=0.1, step_size_up=6, step_size_down=9, "
            "mode=triangular2, scale_mode=cycle)"
        ),
        "cyclic_exp": (
            "cyclic(base_lr=0.01, max_lr=0.1, step_size_up=5, mode=exp_range, gamma=0.98, "
            "scale_mode=iterations)"
        ),
    }

    base_lr: float
    max_lr: float
    step_size_up: float = 2000
    step_size_down: float | None = None
    mode: str = "triangular"
    gamma: float = 1.0
    scale_fn: Callable[[FloatArray], FloatArray] | None = None
    scale_mode: str | None = None

    def __post_init__(self) -> None:
        mode = check.choice("cyclic.mode", self.mode, _MODES)
        default_scale = "iterations" if mode == "exp_range" else "cycle"
        if self.scale_fn is not None and not callable(self.scale_fn):
            raise check.fail("cyclic.scale_fn", self.scale_fn, "must be callable",
                             "pass a function of the cycle number or step, or None")
        settle(self, base_lr=check.learning_rate("cyclic.base_lr", self.base_lr),
               max_lr=check.learning_rate("cyclic.max_lr", self.max_lr),
               step_size_up=check.length("cyclic.step_size_up", self.step_size_up),
               step_size_down=None if self.step_size_down is None
               else check.length("cyclic.step_size_down", self.step_size_down),
               mode=mode, gamma=_gamma(self.gamma),
               scale_mode=check.choice("cyclic.scale_mode", self.scale_mode or default_scale,
                                       ("cycle", "iterations")))

    def _scale(self, ops: Ops, x: Array) -> Array:
        if self.scale_fn is not None:
            if not ops.eager:
                raise ConfigError("cyclic.scale_fn: a Python callable cannot be compiled to "
                                  "array code; use mode=triangular2 or exp_range, or a lookup "
                                  "table (to_optax(schedule, table_steps=N))")
            return np.asarray(self.scale_fn(x), dtype=np.float64)
        if self.mode == "triangular":
            return ops.zeros_like(x) + 1.0
        if self.mode == "triangular2":
            # not 1 / 2**(x - 1), which overflows after ~1000 cycles
            return ops.power(ops.const(0.5), x - 1.0)
        return ops.power(ops.const(self.gamma), x)

    def expr(self, ops: Ops, t: Array) -> Array:
        up = float(self.step_size_up)
        down = up if self.step_size_down is None else float(self.step_size_down)
        total = up + down
        ratio = up / total
        cycle = ops.floor(1.0 + t / total)
        x = 1.0 + t / total - cycle
        shape = ops.where(x <= ratio, x / ratio, (x - 1.0) / (ratio - 1.0))
        g = self._scale(ops, cycle if self.scale_mode == "cycle" else t)
        return self.base_lr + (self.max_lr - self.base_lr) * shape * g


def _gamma(value: object) -> float:
    gamma = check.positive("cyclic.gamma", value)
    if gamma > 1:  # gamma**t overflows, and 0 * inf is nan at every cycle start
        raise check.fail("cyclic.gamma", value, "must lie in (0, 1]",
                         "pass e.g. 0.99994 (exp_range shrinks the cycles)")
    return gamma


@register("onecycle")
@dataclasses.dataclass(frozen=True)
class OneCycle(Schedule):
    """The one-cycle policy (Smith & Topin 2019, arXiv 1708.07120), as PyTorch ``OneCycleLR``.

    init = peak_lr / div_factor and min = init / final_div_factor. Two phases end at
    e1 = pct_start * N - 1 (init -> peak) and e2 = N - 1 (peak -> min); with ``three_phase``
    they end at e1, e2 = 2 * pct_start * N - 2 (peak -> init) and e3 = N - 1 (init -> min).
    Within a phase p = (t - e_prev) / (e_k - e_prev) and the rate moves from its start a to
    its end b by b + (a - b) * (1 + cos(pi * p)) / 2 (``anneal="cos"``) or a + (b - a) * p
    (``"linear"``). After N - 1 the final value is held (PyTorch extrapolates the last phase
    at t = N and refuses to go further). Spec:
    ``onecycle(peak_lr=0.1, total_steps=1000, pct_start=0.25, three_phase=true)``.

    >>> OneCycle(peak_lr=1.0, total_steps=10).values(10).round(4)[[0, 2, 9]]
    array([0.04, 1.  , 0.  ])
    """

    lr_parameter = "peak_lr"
    examples = (
        "onecycle(peak_lr=0.1, total_steps=1000)",
        "onecycle(peak_lr=0.1, total_steps=1000, pct_start=0.25, three_phase=true, "
        "anneal=linear, div_factor=10, final_div_factor=100)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "onecycle": "onecycle(peak_lr=0.1, total_steps=100, pct_start=0.25, three_phase=true)",
        "onecycle_linear": "onecycle(peak_lr=0.1, total_steps=100, anneal=linear)",
    }

    peak_lr: float
    total_steps: int
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    anneal: str = "cos"

    def __post_init__(self) -> None:
        total = check.count("onecycle.total_steps", self.total_steps, minimum=2)
        pct = check.unit_interval("onecycle.pct_start", self.pct_start)
        settle(self, peak_lr=check.learning_rate("onecycle.peak_lr", self.peak_lr),
               total_steps=total, pct_start=pct,
               div_factor=check.positive("onecycle.div_factor", self.div_factor),
               final_div_factor=check.positive("onecycle.final_div_factor",
                                               self.final_div_factor),
               three_phase=check.flag("onecycle.three_phase", self.three_phase),
               anneal=check.choice("onecycle.anneal", self.anneal, ("cos", "linear")))
        ends = [e for e, _, _ in self.phases()]
        if any(b <= a for a, b in zip([0.0, *ends], ends, strict=False)):
            # phase ends must increase: pct * N - 1 > 0, and 2 pct N - 2 < N - 1 (three phases)
            high = f"{(total + 1) / (2 * total):.4g}" if self.three_phase else "1"
            raise check.fail("onecycle.pct_start", pct,
                             f"leaves an empty phase with total_steps={total}",
                             f"pass {1 / total:.4g} < pct_start < {high} or raise total_steps")

    def phases(self) -> list[tuple[float, float, float]]:
        """``(end_step, start_lr, end_lr)`` of each phase, exactly as PyTorch computes them."""
        init = self.peak_lr / self.div_factor
        low = init / self.final_div_factor
        n, pct = self.total_steps, self.pct_start
        if self.three_phase:
            return [(float(pct * n) - 1, init, self.peak_lr),
                    (float(2 * pct * n) - 2, self.peak_lr, init),
                    (n - 1.0, init, low)]
        return [(float(pct * n) - 1, init, self.peak_lr), (n - 1.0, self.peak_lr, low)]

    def expr(self, ops: Ops, t: Array) -> Array:
        t = ops.minimum(t, ops.const(self.total_steps - 1.0))
        out = ops.zeros_like(t)
        begin = 0.0
        for k, (end, a, b) in enumerate(self.phases()):
            p = (t - begin) / (end - begin)
            if self.anneal == "cos":
                value = b + (a - b) / 2.0 * (ops.cos(np.pi * p) + 1.0)
            else:
                value = (b - a) * p + a
            # PyTorch picks the first phase whose end is >= t, so phase k owns (e_{k-1}, e_k];
            # a later phase overrides the steps past e_k
            out = value if k == 0 else ops.where(t > begin, value, out)
            begin = end
        return out
