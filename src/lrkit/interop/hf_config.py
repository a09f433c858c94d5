"""``from_hf``: the lrkit schedule equal to ``transformers.get_scheduler(name, ...)``.

Hugging Face schedules are ``LambdaLR`` factors: the rate of update ``t`` is ``lr * λ(t)``.
No transformers import is needed. Their rules are kept: the linear warmup starts at 0
(λ(t) = t / W), ``cosine`` keeps following the cosine past ``num_training_steps`` (it rises
again), ``cosine_with_restarts`` drops to 0 there, ``polynomial`` holds ``lr_end`` after
the end, ``cosine_warmup_with_min_lr`` warms up from 1/W and reaches its floor one step
early, and ``polynomial`` / ``cosine_with_min_lr`` read their floors against the
optimizer's default lr (which is ``lr`` here).

>>> s = from_hf("cosine", 1.0, num_warmup_steps=2, num_training_steps=6)
>>> [round(float(x), 4) for x in s.values(9)]
[0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464, 0.5]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lrkit._check import PART as check
from lrkit.errors import ConfigError
from lrkit.interop._params import bind, lookup
from lrkit.interop.torch_config import from_torch
from lrkit.schedules import (
    WSD,
    Constant,
    Cosine,
    CosineRestarts,
    Interpolate,
    InverseSqrt,
    Join,
    LinearWarmup,
    Polynomial,
    ReduceOnPlateau,
    Schedule,
)

__all__ = ["HF_FUNCTIONS", "HF_SCHEDULERS", "from_hf"]


class _Run:
    """The arguments every name shares: ``lr`` and the warmup / training lengths."""

    def __init__(self, name: str, lr: float, warmup: int | None, total: int | None) -> None:
        self.name, self.lr = name, lr
        self._warmup, self._total = warmup, total

    @property
    def warmup(self) -> int:
        if self._warmup is None:
            raise ConfigError(f"hf:{self.name}.num_warmup_steps: missing; "
                              "add num_warmup_steps=<warmup updates> (0 for none)")
        return self._warmup

    @property
    def total(self) -> int:
        if self._total is None:
            raise ConfigError(f"hf:{self.name}.num_training_steps: missing; "
                              "add num_training_steps=<number of updates>")
        return self._total

    def ramp(self) -> LinearWarmup:
        """HF's warmup factor t / max(1, W): from 0 to lr over W updates."""
        return LinearWarmup(0.0, self.lr, self.warmup)

    def after_warmup(self, main: Schedule) -> Schedule:
        """``main`` on local time from W, behind HF's warmup."""
        if self.warmup == 0:
            return main
        return Join(pieces=[self.ramp(), main], boundaries=[self.warmup])

    def decay_length(self) -> int:
        """HF's max(1, N - W)."""
        return max(1, self.total - self.warmup)


def _constant(run: _Run) -> Schedule:
    return Constant(run.lr)


def _constant_with_warmup(run: _Run) -> Schedule:
    return run.ramp() if run.warmup else Constant(run.lr)


def _linear(run: _Run) -> Schedule:
    if run.total <= run.warmup:  # max(0, (N - t) / 1) is 0 from W on
        return run.after_warmup(Constant(0.0))
    return run.after_warmup(Polynomial(run.lr, total_steps=run.total - run.warmup))


def _cosine(run: _Run, *, num_cycles: float = 0.5) -> Schedule:
    cycles = abs(check.real(f"hf:{run.name}.num_cycles", num_cycles))
    if cycles == 0:
        return run.after_warmup(Constant(run.lr))
    # cos(2 pi c p) with p = (t - W) / L is a cosine of period L / c; HF does not clamp it
    return run.after_warmup(Cosine(run.lr, total_steps=run.decay_length() / (2 * cycles),
                                   after_end="periodic"))


def _cosine_with_restarts(run: _Run, *, num_cycles: int = 1) -> Schedule:
    cycles = check.positive(f"hf:{run.name}.num_cycles", num_cycles)
    length = run.decay_length()
    # hard restarts every L / c updates, and 0 once the progress reaches 1
    restarts = CosineRestarts(run.lr, cycle_steps=length / cycles)
    pieces: list[Schedule] = [restarts, Constant(0.0)]
    bounds = [run.warmup + length]
    if run.warmup:
        pieces.insert(0, run.ramp())
        bounds.insert(0, run.warmup)
    return Join(pieces=pieces, boundaries=bounds)


def _polynomial(run: _Run, *, lr_end: float = 1e-7, power: float = 1.0) -> Schedule:
    end = check.learning_rate(f"hf:{run.name}.lr_end", lr_end)
    if not run.lr > end:
        raise check.fail(f"hf:{run.name}.lr_end", lr_end, f"must be below lr={run.lr}",
                         "lower lr_end (transformers refuses it too)")
    power = check.positive(f"hf:{run.name}.power", power)
    if run.total < run.warmup:  # past N the factor is lr_end / lr
        return run.after_warmup(Constant(end))
    if run.total == run.warmup:
        raise check.fail(f"hf:{run.name}.num_training_steps", run.total,
                         "equals num_warmup_steps, which divides by zero in transformers",
                         "pass num_training_steps > num_warmup_steps")
    # (lr - end) * (1 - (t - W) / (N - W)) ** power + end, then lr_end after N
    return run.after_warmup(Polynomial(run.lr, total_steps=run.total - run.warmup, end_lr=end,
                                       power=power))


def _inverse_sqrt(run: _Run, *, timescale: int | None = None) -> Schedule:
    scale = (run.warmup or 10_000) if timescale is None else check.length(
        f"hf:{run.name}.timescale", timescale)
    # 1 / sqrt((t + timescale - W) / timescale): continuous at W, on local time t - W
    return run.after_warmup(InverseSqrt(run.lr, timescale=scale))


def _min_rate(run: _Run, min_lr: float | None, min_lr_rate: float | None) -> float:
    if min_lr is not None and min_lr_rate is not None:
        raise ConfigError(f"hf:{run.name}.min_lr = {min_lr!r}: only one of min_lr and "
                          "min_lr_rate may be set; drop one")
    if min_lr is not None:
        # transformers divides by optimizer.defaults["lr"], which is lr here
        return check.learning_rate(f"hf:{run.name}.min_lr", min_lr) / run.lr
    if min_lr_rate is None:
        raise ConfigError(f"hf:{run.name}.min_lr_rate: missing; set min_lr_rate=<fraction of "
                          "lr> or min_lr=<rate>")
    return check.non_negative(f"hf:{run.name}.min_lr_rate", min_lr_rate)


def _cosine_floor(run: _Run, cycles: float, rate: float) -> Schedule:
    """lr * (rate + (1 - rate) * cosf(2 c p)) over L = max(1, N - W) on local time."""
    if cycles == 0:
        return Constant(run.lr)
    return Cosine(run.lr, total_steps=run.decay_length() / (2 * cycles), end_lr=run.lr * rate,
                  after_end="periodic")


def _cosine_with_min_lr(run: _Run, *, num_cycles: float = 0.5, min_lr: float | None = None,
                        min_lr_rate: float | None = None) -> Schedule:
    rate = _min_rate(run, min_lr, min_lr_rate)
    cycles = abs(check.real(f"hf:{run.name}.num_cycles", num_cycles))
    return run.after_warmup(_cosine_floor(run, cycles, rate))


def _cosine_warmup_with_min_lr(run: _Run, *, num_cycles: float = 0.5,
                               min_lr: float | None = None, min_lr_rate: float | None = None,
                               warmup_lr_rate: float | None = None) -> Schedule:
    rate = _min_rate(run, min_lr, min_lr_rate)
    cycles = abs(check.real(f"hf:{run.name}.num_cycles", num_cycles))
    warm = run.warmup
    # the decay's progress is (t - W + 1) / L: on local time it starts at t = W - 1, where the
    # warmup has just reached lr, so the cosine joins one step early
    if warm == 0 or (warm == 1 and warmup_lr_rate is not None):
        raise check.fail(f"hf:{run.name}.num_warmup_steps", warm,
                         "starts the cosine one step into its cycle ((t + 1) / N at t = 0), "
                         "which lrkit's families cannot express",
                         "pass num_warmup_steps >= 1 (>= 2 with warmup_lr_rate)")
    decay = _cosine_floor(run, cycles, rate)
    if warm == 1:
        return decay
    if warmup_lr_rate is None:  # (t + 1) / W: from lr / W at t = 0 to lr at t = W - 1
        ramp: Schedule = LinearWarmup(run.lr / warm, run.lr, warm - 1)
    else:  # w + (1 - w) * t / (W - 1)
        w = check.non_negative(f"hf:{run.name}.warmup_lr_rate", warmup_lr_rate)
        ramp = LinearWarmup(run.lr * w, run.lr, warm - 1)
    return Join(pieces=[ramp, decay], boundaries=[warm - 1])


def _warmup_stable_decay(run: _Run, *, num_decay_steps: int,
                         num_stable_steps: int | None = None, warmup_type: str = "linear",
                         decay_type: str = "cosine", min_lr_ratio: float = 0,
                         num_cycles: float = 0.5) -> Schedule:
    where = f"hf:{run.name}"
    lr, warm = run.lr, run.warmup
    decay = check.count(f"{where}.num_decay_steps", num_decay_steps, minimum=0)
    if num_stable_steps is None:
        stable = run.total - warm - decay
        if stable < 0:
            raise check.fail(f"{where}.num_training_steps", run.total,
                             f"is below num_warmup_steps + num_decay_steps = {warm + decay}",
                             "raise num_training_steps or shorten the warmup or the decay")
    else:  # transformers uses num_stable_steps and ignores num_training_steps
        stable = check.count(f"{where}.num_stable_steps", num_stable_steps, minimum=0)
    kind_w = check.choice(f"{where}.warmup_type", warmup_type, ("linear", "cosine", "1-sqrt"))
    kind_d = check.choice(f"{where}.decay_type", decay_type, ("linear", "cosine", "1-sqrt"))
    m = check.unit_interval(f"{where}.min_lr_ratio", min_lr_ratio, closed=True)
    low = lr * m
    pieces: list[Schedule] = []
    bounds: list[int] = []

    def add(piece: Schedule, length: int) -> None:
        pieces.append(piece)
        bounds.append((bounds[-1] if bounds else 0) + length)

    if warm:  # from min_lr_ratio * lr up to lr, in the warmup's shape
        if kind_w == "linear":
            add(LinearWarmup(low, lr, warm), warm)
        elif kind_w == "cosine":  # (1 - cos(pi p)) / 2
            add(Interpolate(steps=[0, warm], lrs=[low, lr], kind="cosine"), warm)
        else:  # 1 - sqrt(1 - p): a power-1/2 polynomial from low to lr
            add(Polynomial(low, total_steps=warm, end_lr=lr, power=0.5), warm)
    if stable:
        add(Constant(lr), stable)
    if decay:
        if kind_d == "linear":
            add(Polynomial(lr, total_steps=decay, end_lr=low), decay)
        elif kind_d == "1-sqrt":
            add(WSD(lr, total_steps=decay, decay_steps=decay, end_lr=low, decay_shape="1-sqrt"),
                decay)
        else:
            cycles = abs(check.real(f"{where}.num_cycles", num_cycles))
            shape: Schedule = (Constant(lr) if cycles == 0 else
                               Cosine(lr, total_steps=decay / (2 * cycles), end_lr=low,
                                      after_end="periodic"))
            add(shape, decay)
    pieces.append(Constant(low))  # min_lr_ratio after the decay
    return pieces[0] if len(pieces) == 1 else Join(pieces=pieces, boundaries=bounds)


# name -> conversion; each takes the scheduler function's own extra keywords and defaults
HF_SCHEDULERS: dict[str, Callable[..., Schedule]] = {
    "constant": _constant,
    "constant_with_warmup": _constant_with_warmup,
    "cosine": _cosine,
    "cosine_warmup_with_min_lr": _cosine_warmup_with_min_lr,
    "cosine_with_min_lr": _cosine_with_min_lr,
    "cosine_with_restarts": _cosine_with_restarts,
    "inverse_sqrt": _inverse_sqrt,
    "linear": _linear,
    "polynomial": _polynomial,
    "warmup_stable_decay": _warmup_stable_decay,
}


# transformers' own function for each get_scheduler name: ``--from hf:<function>`` reads
# either spelling, and ``--export hf`` writes the function call (what HF's docs show)
HF_FUNCTIONS: dict[str, str] = {
    "get_constant_schedule": "constant",
    "get_constant_schedule_with_warmup": "constant_with_warmup",
    "get_cosine_schedule_with_warmup": "cosine",
    "get_cosine_with_hard_restarts_schedule_with_warmup": "cosine_with_restarts",
    "get_cosine_with_min_lr_schedule_with_warmup": "cosine_with_min_lr",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": "cosine_warmup_with_min_lr",
    "get_inverse_sqrt_schedule": "inverse_sqrt",
    "get_linear_schedule_with_warmup": "linear",
    "get_polynomial_decay_schedule_with_warmup": "polynomial",
    "get_reduce_on_plateau_schedule": "reduce_lr_on_plateau",
    "get_wsd_schedule": "warmup_stable_decay",
}


def _reduce_lr_on_plateau(*, mode: str = "min", factor: float = 0.1, patience: int = 10,
                          threshold: float = 1e-4, threshold_mode: str = "rel",
                          cooldown: int = 0, min_lr: float = 0, eps: float = 1e-8) -> None:
    """Signature of ``reduce_lr_on_plateau`` (PyTorch's ReduceLROnPlateau) for checking."""


def from_hf(name: str, /, lr: float, num_warmup_steps: int | None = None,
            num_training_steps: int | None = None, **kwargs: Any) -> Schedule | ReduceOnPlateau:
    """The lrkit schedule equal to ``transformers.get_scheduler(name, ...)`` on an optimizer
    whose learning rate is ``lr``.

    Args:
        name: a ``get_scheduler`` name: linear, cosine, cosine_with_restarts, polynomial,
            constant, constant_with_warmup, inverse_sqrt, cosine_with_min_lr,
            cosine_warmup_with_min_lr, warmup_stable_decay or reduce_lr_on_plateau; or
            the function's own name (``get_cosine_schedule_with_warmup``, see
            ``HF_FUNCTIONS``).
        lr: the optimizer's learning rate (also its ``defaults["lr"]``).
        num_warmup_steps: warmup updates (every name but constant needs it).
        num_training_steps: total updates (not needed by constant, constant_with_warmup,
            inverse_sqrt, and warmup_stable_decay when ``num_stable_steps`` is given).
        **kwargs: ``scheduler_specific_kwargs``, e.g. ``num_cycles``, ``lr_end``,
            ``power``, ``timescale``, ``min_lr``, ``min_lr_rate``, ``num_decay_steps``.

    Returns:
        A ``Schedule``; ``reduce_lr_on_plateau`` gives a ``ReduceOnPlateau``.

    Raises:
        ConfigError: an unknown name or keyword (with the closest match), a missing
            length, or values transformers refuses.

    >>> from_hf("linear", 0.1, num_warmup_steps=2, num_training_steps=4).values(5).tolist()
    [0.0, 0.05, 0.1, 0.05, 0.0]
    """
    if isinstance(name, str):
        name = HF_FUNCTIONS.get(name.strip(), name)  # get_cosine_schedule_with_warmup -> cosine
    key = lookup("hf scheduler", name, {**HF_SCHEDULERS, "reduce_lr_on_plateau": None})
    base = check.learning_rate(f"hf:{key}.lr", lr)
    if key == "reduce_lr_on_plateau":
        bind(f"hf:{key}", _reduce_lr_on_plateau, kwargs)
        return from_torch("ReduceLROnPlateau", base, **kwargs)
    warmup = (None if num_warmup_steps is None else
              check.count(f"hf:{key}.num_warmup_steps", num_warmup_steps, minimum=0))
    total = (None if num_training_steps is None else
             check.count(f"hf:{key}.num_training_steps", num_training_steps, minimum=0))
    func = HF_SCHEDULERS[key]
    params = bind(f"hf:{key}", func, kwargs)
    run = _Run(key, base, warmup, total)
    if key != "constant":
        _ = run.warmup  # every other name requires it
    return func(run, **params)
