"""from_torch against PyTorch's own schedulers, stepped on a real optimizer (float64, 1e-12)."""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import from_torch
from lrkit.interop._params import keywords
from lrkit.interop.torch_config import TORCH_SCHEDULERS
from lrkit.schedules import ReduceOnPlateau

RTOL = 1e-12


def build(torch: Any, optimizer: Any, name: str, kwargs: dict[str, Any]) -> Any:
    """The PyTorch scheduler from the same (name, kwargs) that from_torch reads."""
    lr_scheduler = torch.optim.lr_scheduler
    kwargs = dict(kwargs)
    if name in ("SequentialLR", "ChainedScheduler"):
        subs = [build(torch, optimizer, sub, params) for sub, params in kwargs.pop("schedulers")]
        if name == "SequentialLR":
            return lr_scheduler.SequentialLR(optimizer, subs, **kwargs)
        return lr_scheduler.ChainedScheduler(subs)
    return getattr(lr_scheduler, name)(optimizer, **kwargs)


def halves(x: float) -> float:
    return 0.5 ** x


CASES = [
    # (name, optimizer lr, kwargs, updates)
    ("StepLR", 0.1, {"step_size": 3, "gamma": 0.5}, 20),
    ("StepLR", 0.2, {"step_size": 4}, 20),
    ("StepLR", 1.0, {"step_size": 1, "gamma": 0.97}, 120),
    ("MultiStepLR", 0.1, {"milestones": [5, 5, 12], "gamma": 0.5}, 20),  # duplicate counts 2x
    ("MultiStepLR", 0.1, {"milestones": [12, 3]}, 20),  # order does not matter
    ("MultiStepLR", 0.1, {"milestones": [0, 4], "gamma": 0.3}, 10),  # milestone 0 applies at 0
    ("ConstantLR", 0.1, {}, 10),
    ("ConstantLR", 0.1, {"factor": 0.5, "total_iters": 3}, 10),
    ("ConstantLR", 0.1, {"factor": 0.25, "total_iters": 0}, 5),  # never undone
    ("LinearLR", 0.1, {}, 10),
    ("LinearLR", 0.1, {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 10}, 15),
    ("LinearLR", 0.3, {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 8}, 12),
    ("LinearLR", 0.3, {"start_factor": 0.5, "end_factor": 0.0, "total_iters": 4}, 8),
    ("LinearLR", 0.3, {"start_factor": 0.5, "total_iters": 0}, 4),
    ("ExponentialLR", 0.1, {"gamma": 0.95}, 200),
    ("PolynomialLR", 0.1, {}, 10),
    ("PolynomialLR", 0.1, {"total_iters": 20, "power": 2.0}, 25),
    ("PolynomialLR", 0.1, {"total_iters": 9, "power": 0.5}, 12),
    ("PolynomialLR", 0.1, {"total_iters": 0}, 3),
    ("CosineAnnealingLR", 0.1, {"T_max": 10}, 45),  # rises again after T_max
    ("CosineAnnealingLR", 0.1, {"T_max": 7, "eta_min": 0.01}, 40),
    ("CyclicLR", 0.5, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}, 40),
    ("CyclicLR", 0.5, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 5,
                       "mode": "triangular2"}, 60),
    ("CyclicLR", 0.5, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "exp_range",
                       "gamma": 0.97}, 60),
    # scale_mode is ignored by PyTorch without a scale_fn
    ("CyclicLR", 0.5, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "triangular2",
                       "scale_mode": "iterations"}, 30),
    ("CyclicLR", 0.5, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "scale_fn": halves,
                       "scale_mode": "iterations"}, 30),
    ("CyclicLR", 0.5, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "scale_fn": halves}, 30),
    ("OneCycleLR", 0.5, {"max_lr": 0.1, "total_steps": 30}, 30),
    ("OneCycleLR", 0.5, {"max_lr": 0.1, "total_steps": 30, "anneal_strategy": "linear"}, 30),
    ("OneCycleLR", 0.5, {"max_lr": 0.1, "total_steps": 40, "three_phase": True}, 40),
    ("OneCycleLR", 0.5, {"max_lr": 0.1, "total_steps": 40, "three_phase": True,
                         "anneal_strategy": "linear", "pct_start": 0.25}, 40),
    ("OneCycleLR", 0.5, {"max_lr": 1.0, "epochs": 3, "steps_per_epoch": 7, "div_factor": 10.0,
                         "final_div_factor": 100.0, "pct_start": 0.33}, 21),
    ("CosineAnnealingWarmRestarts", 0.1, {"T_0": 5}, 40),
    ("CosineAnnealingWarmRestarts", 0.1, {"T_0": 3, "T_mult": 2, "eta_min": 0.01}, 100),
    ("CosineAnnealingWarmRestarts", 1.0, {"T_0": 1, "T_mult": 3}, 130),  # a restart at 121
    ("CosineAnnealingWarmRestarts", 1.0, {"T_0": 5, "T_mult": 3}, 620),  # a restart at 605
    ("SequentialLR", 0.1, {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
                                          ("CosineAnnealingLR", {"T_max": 95})],
                           "milestones": [5]}, 250),  # past the end the cosine rises again
    ("SequentialLR", 0.1, {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 3}),
                                          ("ExponentialLR", {"gamma": 0.9})],
                           "milestones": [3]}, 20),
    ("SequentialLR", 0.1, {"schedulers": [("LinearLR", {"total_iters": 5}),
                                          ("StepLR", {"step_size": 4, "gamma": 0.5}),
                                          ("PolynomialLR", {"total_iters": 10, "power": 2.0})],
                           "milestones": [5, 20]}, 40),
    ("SequentialLR", 0.1, {"schedulers": [("ExponentialLR", {"gamma": 0.5}),
                                          ("StepLR", {"step_size": 2})],
                           "milestones": [0]}, 8),  # the first scheduler never runs
    ("SequentialLR", 0.1, {"schedulers": [("ExponentialLR", {"gamma": 0.9}),
                                          ("ConstantLR", {"factor": 0.5}),
                                          ("MultiStepLR", {"milestones": [2, 4]})],
                           "milestones": [5, 5]}, 15),  # a repeated milestone skips one
    ("SequentialLR", 0.1, {"schedulers": [("ExponentialLR", {"gamma": 0.9}),
                                          ("ConstantLR", {"factor": 0.5, "total_iters": 0})],
                           "milestones": [4]}, 10),  # closed form at the hand-off: no factor
    # schedulers entered through the closed form at a hand-off
    ("SequentialLR", 0.1, {"schedulers": [("ExponentialLR", {"gamma": 0.9}),
                                          ("ConstantLR", {"factor": 0.5, "total_iters": 3}),
                                          ("LinearLR", {"start_factor": 0.2, "total_iters": 4}),
                                          ("PolynomialLR", {"total_iters": 6, "power": 1.5}),
                                          ("MultiStepLR", {"milestones": [0, 2], "gamma": 0.5})],
                           "milestones": [4, 9, 16, 25]}, 35),
    ("SequentialLR", 0.1, {"schedulers": [("LinearLR", {"start_factor": 0.2, "total_iters": 4}),
                                          ("CosineAnnealingWarmRestarts", {"T_0": 4,
                                                                           "T_mult": 2})],
                           "milestones": [4]}, 40),
    ("SequentialLR", 0.1, {"schedulers": [("LinearLR", {"total_iters": 4}),
                                          ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.2,
                                                        "step_size_up": 3})],
                           "milestones": [4]}, 30),
    # CyclicLR built first sets the group lr, so the next scheduler's base is its base_lr
    ("SequentialLR", 0.1, {"schedulers": [("CyclicLR", {"base_lr": 0.01, "max_lr": 0.2,
                                                        "step_size_up": 3}),
                                          ("ExponentialLR", {"gamma": 0.9})],
                           "milestones": [6]}, 20),
    # OneCycleLR rewrites initial_lr, which SequentialLR then resets the group lr to
    ("SequentialLR", 0.1, {"schedulers": [("ExponentialLR", {"gamma": 0.9}),
                                          ("OneCycleLR", {"max_lr": 0.5, "total_steps": 20})],
                           "milestones": [5]}, 25),
    ("ChainedScheduler", 0.1, {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 4}),
                                              ("ExponentialLR", {"gamma": 0.9})]}, 30),
    ("ChainedScheduler", 0.1, {"schedulers": [("LinearLR", {"start_factor": 0.2,
                                                            "total_iters": 5}),
                                              ("StepLR", {"step_size": 3, "gamma": 0.5})]}, 30),
    ("ChainedScheduler", 0.1, {"schedulers": [("MultiStepLR", {"milestones": [3, 9]}),
                                              ("PolynomialLR", {"total_iters": 12})]}, 20),
    # a chained cosine is a factor up to T_max (see test_chained_cosine_after_t_max)
    ("ChainedScheduler", 0.1, {"schedulers": [("LinearLR", {"start_factor": 0.1,
                                                            "total_iters": 5}),
                                              ("CosineAnnealingLR", {"T_max": 20})]}, 21),
    ("ChainedScheduler", 0.1, {"schedulers": [("CosineAnnealingLR", {"T_max": 10}),
                                              ("ExponentialLR", {"gamma": 0.9})]}, 11),
]


def _id(case: tuple[Any, ...]) -> str:
    name, _, kwargs, _ = case
    if "schedulers" in kwargs:
        return f"{name}[{'+'.join(sub for sub, _ in kwargs['schedulers'])}]"
    return f"{name}{sorted(kwargs)}"


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{_id(c)}" for i, c in enumerate(CASES)])
def test_from_torch_matches_stepped_torch(case: tuple[Any, ...], torch: Any, torch_rates: Any,
                                          same_rates: Any) -> None:
    name, lr, kwargs, n = case
    want = torch_rates(lambda opt: build(torch, opt, name, kwargs), n, lr=lr)
    ours = from_torch(name, None if name in ("CyclicLR", "OneCycleLR") else lr, **kwargs)
    same_rates(ours.values(n), want, RTOL)


def test_onecycle_differs_only_past_its_horizon(torch: Any, torch_rates: Any) -> None:
    """PyTorch lets one more step() extrapolate the last phase at t = total_steps; lrkit holds
    the final rate (no update uses it) — the linear three-phase one would go negative."""
    kwargs = {"max_lr": 0.1, "total_steps": 20, "three_phase": True, "anneal_strategy": "linear"}
    want = torch_rates(lambda opt: build(torch, opt, "OneCycleLR", kwargs), 21)
    ours = from_torch("OneCycleLR", None, **kwargs).values(21)
    np.testing.assert_allclose(ours[:20], want[:20], rtol=RTOL, atol=1e-15)
    assert want[20] < 0 < ours[20] == ours[19]


def test_cosine_restarts_exact_cycle_index_where_float_log_fails(torch: Any) -> None:
    """T_mult=3: recursive stepping (exact) restarts at t = 121; step(epoch)'s float log puts
    t = 121 at the end of the previous cycle. lrkit's integer cycle starts agree with the former."""
    ours = from_torch("CosineAnnealingWarmRestarts", 1.0, T_0=1, T_mult=3)
    param = torch.nn.Parameter(torch.zeros(1))

    def at(t: int, recursive: bool) -> float:
        opt = torch.optim.SGD([param], lr=1.0)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if recursive:
                for _ in range(t):
                    opt.step()
                    sched.step()
            else:
                sched.step(t)  # the deprecated closed-form jump
        return float(opt.param_groups[0]["lr"])

    assert at(121, recursive=True) == 1.0 == ours(121)  # a restart: the peak
    assert at(121, recursive=False) == 0.0  # the float log misses it
    assert ours.cycle_starts(130) == [0, 1, 4, 13, 40, 121]


def test_chained_cosine_after_t_max(torch: Any, torch_rates: Any) -> None:
    """Documented difference: past T_max PyTorch's chained cosine takes an additive step at the
    trough (pytorch#40971), restarting the other factors; lrkit keeps the product."""
    kwargs = {"schedulers": [("ExponentialLR", {"gamma": 0.9}),
                             ("CosineAnnealingLR", {"T_max": 10})]}
    want = torch_rates(lambda opt: build(torch, opt, "ChainedScheduler", kwargs), 12, lr=0.1)
    ours = from_torch("ChainedScheduler", 0.1, **kwargs).values(12)
    np.testing.assert_allclose(ours[:11], want[:11], rtol=RTOL, atol=1e-15)
    cos_11 = 0.1 * (1 + math.cos(math.pi * 11 / 10)) / 2
    assert want[11] == pytest.approx(cos_11, rel=1e-12)  # 0.0024: the exponential is lost
    assert ours[11] == pytest.approx(cos_11 * 0.9 ** 11, rel=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"factor": 0.5, "patience": 2},
    {"mode": "max", "factor": 0.2, "patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"factor": 0.5, "patience": 0, "cooldown": 2, "min_lr": 0.02},
    {},
], ids=["patience2", "max-abs", "cooldown-min", "defaults"])
def test_reduce_on_plateau_matches_torch(kwargs: dict[str, Any], torch: Any) -> None:
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.01 * rng.standard_normal(40)])
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    want = []
    for m in metrics:
        want.append(opt.param_groups[0]["lr"])
        sched.step(float(m))
    ours = from_torch("ReduceLROnPlateau", 0.1, **kwargs)
    assert isinstance(ours, ReduceOnPlateau)
    np.testing.assert_allclose(ours.simulate(metrics), want, rtol=RTOL)
    assert len(set(want)) > 1  # the metric really plateaus and the rate is cut


def _torch_keywords(torch: Any, name: str) -> dict[str, Any]:
    cls = getattr(torch.optim.lr_scheduler, name)
    skip = {"self", "optimizer", "last_epoch", "verbose"}
    return {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
            if p.name not in skip}


@pytest.mark.parametrize("name", sorted(TORCH_SCHEDULERS))
def test_keywords_and_defaults_are_pytorchs(name: str, torch: Any) -> None:
    assert keywords(TORCH_SCHEDULERS[name]) == _torch_keywords(torch, name)


def test_composite_keywords_are_pytorchs(torch: Any) -> None:
    from lrkit.interop import torch_config

    assert keywords(torch_config._reduce_lr_on_plateau) == _torch_keywords(
        torch, "ReduceLROnPlateau")
    assert list(keywords(torch_config._sequential_lr)) == ["schedulers", "milestones"]
    assert set(_torch_keywords(torch, "SequentialLR")) == {"schedulers", "milestones"}


@pytest.mark.parametrize(("call", "message"), [
    (lambda: from_torch("CosineAnealingLR", 0.1, T_max=3), "did you mean 'CosineAnnealingLR'"),
    (lambda: from_torch("CosineAnnealingLR", 0.1, T_maks=3), "did you mean 'T_max'"),
    (lambda: from_torch("CosineAnnealingLR", 0.1), "CosineAnnealingLR.T_max: missing"),
    (lambda: from_torch("StepLR", None, step_size=3), "StepLR.lr: missing"),
    (lambda: from_torch("LinearLR", 0.1, start_factor=0.0), "cannot start at 0"),
    (lambda: from_torch("ChainedScheduler", 0.1, schedulers=[("OneCycleLR", {
        "max_lr": 0.1, "total_steps": 10}), ("ExponentialLR", {"gamma": 0.9})]),
     "sets absolute rates"),
    (lambda: from_torch("ChainedScheduler", 0.1, schedulers=[("ExponentialLR", {"gamma": 0.9}),
                        ("CosineAnnealingLR", {"T_max": 9, "eta_min": 0.01})]), "eta_min"),
    (lambda: from_torch("SequentialLR", 0.1, schedulers=[("ExponentialLR", {"gamma": 0.9})],
                        milestones=[3]), "needs one boundary fewer"),
    (lambda: from_torch("SequentialLR", 0.1, schedulers=[("SequentialLR", {})], milestones=[]),
     "cannot be nested"),
    (lambda: from_torch("SequentialLR", 0.1, schedulers="LinearLR", milestones=[]),
     "(name, kwargs) pairs"),
    (lambda: from_torch("StepLR", 0.1, step_size=0), "StepLR.step_size = 0"),
    (lambda: from_torch("CyclicLR", None, base_lr=[0.1, 0.2], max_lr=1.0),
     "one value per param group"),
])
def test_bad_input_is_one_line_config_error(call: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_sub_schedulers_as_mappings_or_cli_calls() -> None:
    pairs = from_torch("SequentialLR", 0.1, schedulers=[
        ("LinearLR", {"total_iters": 3}), ("ExponentialLR", {"gamma": 0.5})], milestones=[3])
    named = from_torch("SequentialLR", 0.1, schedulers=[
        {"name": "LinearLR", "total_iters": 3}, {"family": "ExponentialLR", "gamma": 0.5}],
        milestones=[3])
    assert pairs == named


def test_lr_may_be_given_by_keyword_and_name_clashes_with_nothing() -> None:
    """``from_torch(name, lr=...)`` is the documented call; only the class name is
    positional-only, so a scheduler keyword called ``name`` cannot clash with it."""
    from lrkit.interop import from_hf

    assert from_torch("OneCycleLR", lr=0.1, max_lr=0.1, total_steps=10)(3) == pytest.approx(
        from_torch("OneCycleLR", 0.1, max_lr=0.1, total_steps=10)(3))
    assert from_torch("StepLR", lr=0.5, step_size=2)(2) == pytest.approx(0.05)
    assert from_hf("cosine", lr=0.1, num_warmup_steps=2, num_training_steps=10)(1) == \
        pytest.approx(0.05)
    with pytest.raises(ConfigError, match="name"):
        from_torch("StepLR", 0.5, step_size=2, name="x")
