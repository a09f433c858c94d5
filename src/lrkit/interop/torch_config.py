"""``from_torch``: the lrkit schedule equal to a ``torch.optim.lr_scheduler`` configuration.

The value at ``t`` is the learning rate PyTorch uses for update ``t``, i.e.
``optimizer.param_groups[0]["lr"]`` read before the t-th ``optimizer.step()`` when
``scheduler.step()`` follows every ``optimizer.step()``. No torch import is needed: this
module reads the configuration only.

Where PyTorch's stepping has its own rules they are kept:

* ``SequentialLR`` restarts each scheduler on local time at its milestone, from the
  closed form at 0 (a ``Join``); a milestone at 0 or a repeated milestone skips a scheduler.
* ``ChainedScheduler`` multiplies its schedulers' factors (a ``Product``); the schedulers
  that set absolute rates (``CyclicLR``, ``OneCycleLR``, ``CosineAnnealingWarmRestarts``)
  cannot be chained.
* Constructors that rewrite the optimizer (``CyclicLR`` sets the group's lr to
  ``base_lr``, ``OneCycleLR`` sets ``initial_lr = max_lr / div_factor``) change the base
  of the schedulers built after them, as they do in PyTorch.

>>> s = from_torch("SequentialLR", 0.1,
...                schedulers=[("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
...                            ("CosineAnnealingLR", {"T_max": 95})],
...                milestones=[5])
>>> [round(float(x), 4) for x in s.values(7)]
[0.01, 0.028, 0.046, 0.064, 0.082, 0.1, 0.1]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lrkit._check import PART as check
from lrkit.errors import ConfigError
from lrkit.interop._params import bind, lookup, prune_join, sub_specs
from lrkit.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Join,
    LinearWarmup,
    MultiStep,
    OneCycle,
    Piecewise,
    Polynomial,
    Product,
    ReduceOnPlateau,
    Schedule,
    Step,
)

__all__ = ["NOT_CONVERTED", "TORCH_SCHEDULERS", "from_torch"]


@dataclasses.dataclass(frozen=True)
class _Ctx:
    """How PyTorch runs one scheduler.

    ``base`` is the ``base_lr`` its formula scales; ``stepped`` is True when it starts
    through its constructor's initial step (standalone, chained, or first in a
    SequentialLR) and False when a SequentialLR hands over to it with the closed form at 0.
    """

    base: float
    stepped: bool = True


def _int(where: str, value: Any, minimum: int = 0) -> int:
    return check.count(where, value, minimum=minimum)


def _step_lr(ctx: _Ctx, *, step_size: int, gamma: float = 0.1) -> Schedule:
    return Step(ctx.base, step_size=_int("StepLR.step_size", step_size, 1),
                gamma=check.non_negative("StepLR.gamma", gamma))


def _multistep_lr(ctx: _Ctx, *, milestones: Iterable[int], gamma: float = 0.1) -> Schedule:
    if isinstance(milestones, str | bytes) or not isinstance(milestones, Iterable):
        raise check.fail("MultiStepLR.milestones", milestones, "must be a list of steps",
                         "pass e.g. [30, 60, 90]")
    # PyTorch keeps a Counter: order does not matter and a repeated milestone counts twice
    ms = sorted(_int(f"MultiStepLR.milestones[{i}]", m) for i, m in enumerate(milestones))
    return MultiStep(ctx.base, milestones=ms, gamma=check.non_negative("MultiStepLR.gamma", gamma))


def _constant_lr(ctx: _Ctx, *, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    factor = check.unit_interval("ConstantLR.factor", factor, closed=True)
    total = _int("ConstantLR.total_iters", total_iters)
    if total == 0:
        # the recursive form multiplies by factor at step 0 and never undoes it; the closed
        # form SequentialLR uses at a hand-off gives base_lr
        return Constant(ctx.base * factor if ctx.stepped else ctx.base)
    return Piecewise(boundaries=[total], lrs=[ctx.base * factor, ctx.base])


def _linear_lr(ctx: _Ctx, *, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
               total_iters: int = 5) -> Schedule:
    start = check.real("LinearLR.start_factor", start_factor)
    if not 0 < start <= 1:
        raise check.fail("LinearLR.start_factor", start_factor, "must lie in (0, 1]",
                         "PyTorch's LinearLR cannot start at 0; pass e.g. 0.001")
    end = check.unit_interval("LinearLR.end_factor", end_factor, closed=True)
    total = _int("LinearLR.total_iters", total_iters)
    if total == 0:
        return _zero_iters("LinearLR", ctx, Constant(ctx.base * start))
    return LinearWarmup(ctx.base * start, ctx.base * end, total)


def _exponential_lr(ctx: _Ctx, *, gamma: float) -> Schedule:
    return Exponential(ctx.base, decay_rate=check.positive("ExponentialLR.gamma", gamma))


def _polynomial_lr(ctx: _Ctx, *, total_iters: int = 5, power: float = 1.0) -> Schedule:
    total = _int("PolynomialLR.total_iters", total_iters)
    power = check.positive("PolynomialLR.power", power)
    if total == 0:
        return _zero_iters("PolynomialLR", ctx, Constant(ctx.base))
    return Polynomial(ctx.base, total_steps=total, end_lr=0.0, power=power)


def _zero_iters(name: str, ctx: _Ctx, stepped: Schedule) -> Schedule:
    if ctx.stepped:  # the recursive form never changes the rate after step 0
        return stepped
    raise check.fail(f"{name}.total_iters", 0, "PyTorch divides by it when SequentialLR "
                     "hands over to this scheduler", "pass total_iters >= 1")


def _cosine_annealing_lr(ctx: _Ctx, *, T_max: int, eta_min: float = 0.0) -> Schedule:
    # not clamped: past T_max PyTorch's cosine rises again with period 2 * T_max
    return Cosine(ctx.base, total_steps=check.length("CosineAnnealingLR.T_max", T_max),
                  end_lr=check.learning_rate("CosineAnnealingLR.eta_min", eta_min),
                  after_end="periodic")


def _cyclic_lr(ctx: _Ctx, *, base_lr: float, max_lr: float, step_size_up: int = 2000,
               step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
               scale_fn: Callable[..., Any] | None = None, scale_mode: str = "cycle",
               cycle_momentum: bool = True, base_momentum: float = 0.8,
               max_momentum: float = 0.9) -> Schedule:
    # the momentum arguments move momentum, not the learning rate (see _check_momentum_cycle)
    del cycle_momentum, base_momentum, max_momentum
    base = _scalar("CyclicLR.base_lr", base_lr)
    top = _scalar("CyclicLR.max_lr", max_lr)
    if scale_fn is None:
        # PyTorch picks the scale mode from the mode and ignores scale_mode
        return Cyclic(base, top, step_size_up=step_size_up, step_size_down=step_size_down,
                      mode=check.choice("CyclicLR.mode", mode,
                                        ("triangular", "triangular2", "exp_range")),
                      gamma=gamma)
    if not callable(scale_fn):
        raise check.fail("CyclicLR.scale_fn", scale_fn, "must be callable or None",
                         "pass a function of the cycle number or the step")
    return Cyclic(base, top, step_size_up=step_size_up, step_size_down=step_size_down,
                  gamma=gamma, scale_fn=scale_fn,
                  scale_mode=check.choice("CyclicLR.scale_mode", scale_mode,
                                          ("cycle", "iterations")))


def _one_cycle_lr(ctx: _Ctx, *, max_lr: float, total_steps: int | None = None,
                  epochs: int | None = None, steps_per_epoch: int | None = None,
                  pct_start: float = 0.3, anneal_strategy: str = "cos",
                  cycle_momentum: bool = True, base_momentum: float = 0.85,
                  max_momentum: float = 0.95, div_factor: float = 25.0,
                  final_div_factor: float = 1e4, three_phase: bool = False) -> Schedule:
    del cycle_momentum, base_momentum, max_momentum  # see _check_momentum_cycle
    if total_steps is not None:
        total = _int("OneCycleLR.total_steps", total_steps, 1)
    elif epochs is not None and steps_per_epoch is not None:
        total = (_int("OneCycleLR.epochs", epochs, 1)
                 * _int("OneCycleLR.steps_per_epoch", steps_per_epoch, 1))
    else:
        raise ConfigError("OneCycleLR.total_steps: missing; pass total_steps, or epochs "
                          "and steps_per_epoch")
    # valid horizon: updates 0 .. total_steps - 1; PyTorch extrapolates its last phase at
    # t = total_steps (a rate no update uses) and refuses to step further
    return OneCycle(_scalar("OneCycleLR.max_lr", max_lr), total_steps=total,
                    pct_start=pct_start, div_factor=div_factor,
                    final_div_factor=final_div_factor, three_phase=bool(three_phase),
                    anneal=check.choice("OneCycleLR.anneal_strategy", anneal_strategy,
                                        ("cos", "linear")))


def _cosine_warm_restarts(ctx: _Ctx, *, T_0: int, T_mult: int = 1,
                          eta_min: float = 0.0) -> Schedule:
    # lrkit's cycle index is exact integer arithmetic, as PyTorch's recursive stepping is
    # (its deprecated step(epoch) takes a float logarithm and misplaces some restarts)
    return CosineRestarts(ctx.base, cycle_steps=_int("CosineAnnealingWarmRestarts.T_0", T_0, 1),
                          cycle_mult=_int("CosineAnnealingWarmRestarts.T_mult", T_mult, 1),
                          end_lr=check.learning_rate("CosineAnnealingWarmRestarts.eta_min",
                                                     eta_min))


def _check_momentum_cycle(name: str, kwargs: Mapping[str, Any]) -> None:
    """Refuse a momentum cycle the caller asked for: lrkit converts the learning rate only.

    PyTorch's CyclicLR and OneCycleLR cycle the optimizer's momentum too
    (``cycle_momentum=True`` by default). A schedule is one rate per update, so the
    momentum cycle cannot travel with it. Left at PyTorch's defaults it is dropped, as
    docs/interop.md says; a caller who sets ``cycle_momentum=True`` or the momentum bounds
    would lose what they asked for without a word, so that is refused.

    >>> _check_momentum_cycle("OneCycleLR", {"max_lr": 0.1, "cycle_momentum": False})
    >>> _check_momentum_cycle("OneCycleLR", {"max_momentum": 0.9})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrkit.errors.ConfigError: OneCycleLR.max_momentum = 0.9: lrkit converts the learning rate
    only, not the momentum cycle; ...
    """
    if name not in ("CyclicLR", "OneCycleLR") or kwargs.get("cycle_momentum") is False:
        return
    for key in ("cycle_momentum", "base_momentum", "max_momentum"):
        if key in kwargs:
            raise ConfigError(
                f"{name}.{key} = {kwargs[key]!r}: lrkit converts the learning rate only, not "
                "the momentum cycle; pass cycle_momentum=False and set the optimizer's "
                f"momentum yourself, or keep PyTorch's {name} for the momentum (see "
                "docs/interop.md)")


def _scalar(where: str, value: Any) -> float:
    if isinstance(value, list | tuple):
        raise check.fail(where, value, "one value per param group is not supported",
                         "pass one float; lrkit.interop.to_torch keeps each group's ratio")
    return check.learning_rate(where, value)


# name -> conversion; each takes the PyTorch constructor's own keywords and defaults
TORCH_SCHEDULERS: dict[str, Callable[..., Schedule]] = {
    "ConstantLR": _constant_lr,
    "CosineAnnealingLR": _cosine_annealing_lr,
    "CosineAnnealingWarmRestarts": _cosine_warm_restarts,
    "CyclicLR": _cyclic_lr,
    "ExponentialLR": _exponential_lr,
    "LinearLR": _linear_lr,
    "MultiStepLR": _multistep_lr,
    "OneCycleLR": _one_cycle_lr,
    "PolynomialLR": _polynomial_lr,
    "StepLR": _step_lr,
}
# these set absolute rates every step instead of scaling the current one
_ABSOLUTE = {"CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts"}
_NEEDS_NO_LR = {"CyclicLR", "OneCycleLR"}


def _sequential_lr(*, schedulers: Sequence[Any], milestones: Sequence[int]) -> None:
    """Signature of ``SequentialLR`` (less the optimizer) for keyword checking."""


def _chained_scheduler(*, schedulers: Sequence[Any]) -> None:
    """Signature of ``ChainedScheduler`` (less the optimizer) for keyword checking."""


def _reduce_lr_on_plateau(*, mode: str = "min", factor: float = 0.1, patience: int = 10,
                          threshold: float = 1e-4, threshold_mode: str = "rel",
                          cooldown: int = 0, min_lr: float = 0, eps: float = 1e-8) -> None:
    """Signature of ``ReduceLROnPlateau`` (less the optimizer) for keyword checking."""


_COMPOSITES: dict[str, Callable[..., None]] = {
    "ChainedScheduler": _chained_scheduler,
    "ReduceLROnPlateau": _reduce_lr_on_plateau,
    "SequentialLR": _sequential_lr,
}


# PyTorch schedulers with no lrkit equivalent, and why (docs/interop.md lists them too)
NOT_CONVERTED: dict[str, str] = {
    "LambdaLR": "its lr_lambda is arbitrary Python code whose formula lrkit cannot read; "
                "write the same formula as an lrkit spec (lrkit schedule --help lists the "
                "families), or keep LambdaLR",
    "MultiplicativeLR": "its lr_lambda is arbitrary Python code (a factor per step) whose "
                        "formula lrkit cannot read; for a constant factor use "
                        "ExponentialLR(gamma=factor)",
    "SWALR": "it anneals from whatever LR the run has when averaging starts (and is "
             "stepped per epoch of the SWA phase), which the scheduler's arguments do not "
             "fix; build it as a join, e.g. join(pieces=[cosine(...), constant(base_lr="
             "swa_lr)], boundaries=[...])",
}


def from_torch(name: str, /, lr: float | None = None,
               **kwargs: Any) -> Schedule | ReduceOnPlateau:
    """The lrkit schedule whose value at ``t`` is the LR PyTorch uses for update ``t``.

    Args:
        name: a class of ``torch.optim.lr_scheduler``: StepLR, MultiStepLR, ConstantLR,
            LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR, CyclicLR, OneCycleLR,
            CosineAnnealingWarmRestarts, ReduceLROnPlateau, SequentialLR or ChainedScheduler.
        lr: the optimizer's learning rate (``param_groups[0]["lr"]`` when the scheduler is
            built). CyclicLR and OneCycleLR overwrite it, so there it may be None.
        **kwargs: that constructor's own keyword arguments (without the optimizer), with
            its own defaults. SequentialLR and ChainedScheduler take ``schedulers`` as a
            list of ``(name, kwargs)`` pairs or ``{"name": name, **kwargs}`` mappings, in
            the order they are constructed.

    Returns:
        A ``Schedule``; for ReduceLROnPlateau, which follows a metric rather than the step,
        an ``lrkit.schedules.ReduceOnPlateau`` state machine with PyTorch's rules.

    Raises:
        ConfigError: an unknown class or keyword (with the closest match), a missing
            keyword, a value PyTorch refuses, or a composition PyTorch cannot run as a
            schedule (e.g. a OneCycleLR inside a ChainedScheduler).

    >>> from_torch("CosineAnnealingLR", 0.1, T_max=100)(50)
    0.05
    >>> from_torch("MultiStepLR", 1.0, milestones=[2, 2], gamma=0.5).values(3).tolist()
    [1.0, 1.0, 0.25]
    """
    if isinstance(name, str) and name.strip() in NOT_CONVERTED:
        raise ConfigError(f"torch scheduler = {name.strip()!r}: not converted: "
                          f"{NOT_CONVERTED[name.strip()]}")
    key = lookup("torch scheduler", name, {**TORCH_SCHEDULERS, **_COMPOSITES})
    if key == "ReduceLROnPlateau":
        params = bind(key, _reduce_lr_on_plateau, kwargs)
        if isinstance(params.get("min_lr"), list | tuple):
            raise check.fail("ReduceLROnPlateau.min_lr", params["min_lr"],
                             "one value per param group is not supported", "pass one float")
        return ReduceOnPlateau(init_lr=_lr_of(key, lr), patience_rule="gt", **params)
    if key == "SequentialLR":
        return _sequential(lr, **bind(key, _sequential_lr, kwargs))
    if key == "ChainedScheduler":
        return _chained(lr, **bind(key, _chained_scheduler, kwargs))
    func = TORCH_SCHEDULERS[key]
    params = bind(key, func, kwargs)
    _check_momentum_cycle(key, params)
    base = 0.0 if key in _NEEDS_NO_LR and lr is None else _lr_of(key, lr)
    return func(_Ctx(base), **params)


def _lr_of(name: str, lr: Any) -> float:
    if lr is None:
        raise ConfigError(f"{name}.lr: missing; pass lr=<the optimizer's learning rate>")
    return check.learning_rate(f"{name}.lr", lr)


def _subs(where: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    subs = []
    for i, (sub, params) in enumerate(sub_specs(where, value)):
        if sub in _COMPOSITES:
            raise check.fail(f"{where}[{i}]", sub, "cannot be nested here",
                             f"list the basic schedulers ({', '.join(sorted(TORCH_SCHEDULERS))})")
        key = lookup(f"{where}[{i}]", sub, TORCH_SCHEDULERS)
        subs.append((key, bind(key, TORCH_SCHEDULERS[key], params)))
    return subs


def _sequential(lr: float | None, *, schedulers: Sequence[Any],
                milestones: Sequence[int]) -> Schedule:
    subs = _subs("SequentialLR.schedulers", schedulers)
    if sum(1 for key, _ in subs if key == "OneCycleLR") > 1:
        raise check.fail("SequentialLR.schedulers", [k for k, _ in subs],
                         "holds more than one OneCycleLR; they share the group's "
                         "initial_lr/max_lr/min_lr, so all but the last are overwritten",
                         "use one OneCycleLR")
    # replay the constructors' side effects on the param group, in construction order
    initial: float | None = None
    bases: list[float] = []
    for key, params in subs:
        if key == "OneCycleLR":  # it overwrites initial_lr outright
            initial = (_scalar("OneCycleLR.max_lr", params["max_lr"])
                       / check.positive("OneCycleLR.div_factor",
                                        params.get("div_factor", 25.0)))
        elif initial is None:  # the first constructor sets initial_lr from the group lr,
            # which CyclicLR has just overwritten with its base_lr
            initial = (_scalar("CyclicLR.base_lr", params["base_lr"]) if key == "CyclicLR"
                       else _lr_of("SequentialLR", lr))
        bases.append(initial)
    pieces: list[Schedule] = []
    dummy = [Constant(0.0)] * len(subs)
    _, starts, keep = prune_join("SequentialLR.milestones", dummy, milestones)
    for rank, i in enumerate(keep):
        key, params = subs[i]
        # SequentialLR resets the group lr to initial_lr and steps the scheduler active at 0
        # from there; later schedulers start from their closed form on their own base_lrs
        stepped = rank == 0
        base = bases[-1] if stepped and key not in _ABSOLUTE else bases[i]
        pieces.append(TORCH_SCHEDULERS[key](_Ctx(base, stepped=stepped), **params))
    return pieces[0] if len(pieces) == 1 else Join(pieces=pieces, boundaries=starts)


def _chained(lr: float | None, *, schedulers: Sequence[Any]) -> Schedule:
    subs = _subs("ChainedScheduler.schedulers", schedulers)
    base = _lr_of("ChainedScheduler", lr)
    for i, (key, params) in enumerate(subs):
        if key in _ABSOLUTE:
            raise check.fail(f"ChainedScheduler.schedulers[{i}]", key,
                             "sets absolute rates, so chaining it overwrites the others",
                             "use it alone or inside SequentialLR")
        if (key == "CosineAnnealingLR" and len(subs) > 1
                and check.real("CosineAnnealingLR.eta_min", params.get("eta_min", 0.0)) != 0):
            raise check.fail("ChainedScheduler.CosineAnnealingLR.eta_min", params["eta_min"],
                             "shifts the chained rate instead of scaling it, so the chain is "
                             "no product of its schedulers", "chain it with eta_min=0")
    # every member scales the group lr by its own factor; the first carries the base lr.
    # A CosineAnnealingLR member is a factor up to T_max + 1 only: there PyTorch's recursion
    # adds a fixed step at the trough (pytorch#40971), which restarts the other factors
    # (see docs/interop.md); the product keeps the periodic cosine.
    factors = [TORCH_SCHEDULERS[key](_Ctx(base if i == 0 else 1.0), **params)
               for i, (key, params) in enumerate(subs)]
    out = factors[0]
    for factor in factors[1:]:
        out = Product(out, factor)
    return out

