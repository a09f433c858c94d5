"""SGD-HD and Adam-HD: torch's steps exactly, one hypergradient per step, convergence."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from lrkit.errors import ConfigError
from lrkit.optim import SGDHD, AdamHD

CURVATURES = torch.tensor([10.0, 3.0, 1.0, 0.3], dtype=torch.float64)  # L = 10: 2/L = 0.2


def quadratic_run(optimizer_cls, lr, steps=300, **kwargs):
    x = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    opt = optimizer_cls([x], lr=lr, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (CURVATURES * x * x).sum()).backward()
        opt.step()
    return float(0.5 * (CURVATURES * x.detach() ** 2).sum()), opt


def mlp_data():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 2))
    return model, torch.randn(32, 5), torch.randn(32, 2)


def trajectory(model, opt, x, y, steps=8):
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("kwargs", [
    {}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01},
])
def test_sgd_hd_with_zero_hyper_lr_is_torch_sgd(kwargs):
    model, x, y = mlp_data()
    twin = copy.deepcopy(model)
    ours = trajectory(model, SGDHD(model.parameters(), lr=0.05, hypergrad_lr=0.0, **kwargs), x, y)
    ref = trajectory(twin, torch.optim.SGD(twin.parameters(), lr=0.05, **kwargs), x, y)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_hd_with_zero_hyper_lr_is_torch_adam_or_adamw(decoupled):
    model, x, y = mlp_data()
    twin = copy.deepcopy(model)
    opt = AdamHD(model.parameters(), lr=0.01, weight_decay=0.1, hypergrad_lr=0.0,
                 decoupled_weight_decay=decoupled)
    ref_cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    ours = trajectory(model, opt, x, y)
    ref = trajectory(twin, ref_cls(twin.parameters(), lr=0.01, weight_decay=0.1), x, y)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b)


def flat_reference_sgd_hd(params0, grad_fn, lr, beta, steps):
    """SGD-HD on one flat vector, written from the paper's equations."""
    theta, prev, trace = params0.clone(), None, []
    for _ in range(steps):
        g = grad_fn(theta)
        if prev is not None:
            lr = lr + beta * float(g @ prev)
        theta = theta - lr * g
        prev = g
        trace.append(lr)
    return theta, trace


def test_one_hypergradient_over_all_tensors_matches_the_flat_equations():
    model, x, y = mlp_data()
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    flat0 = torch.cat([p.detach().reshape(-1) for p in params])

    def grad_fn(flat):
        flat = flat.clone().requires_grad_(True)
        chunks, start = [], 0
        for s in shapes:
            chunks.append(flat[start:start + s.numel()].view(s))
            start += s.numel()
        out = torch.func.functional_call(model, dict(zip(
            [n for n, _ in model.named_parameters()], chunks, strict=True)), (x,))
        return torch.autograd.grad(torch.nn.functional.mse_loss(out, y), flat)[0]

    ref_theta, ref_trace = flat_reference_sgd_hd(flat0, grad_fn, 0.05, 0.01, 10)
    opt = SGDHD(model.parameters(), lr=0.05, hypergrad_lr=0.01)
    trajectory(model, opt, x, y, steps=10)
    assert opt.lr_trace == pytest.approx(ref_trace, rel=1e-5)
    assert ref_trace[-1] != pytest.approx(0.05)  # the LR really moved
    torch.testing.assert_close(torch.cat([p.detach().reshape(-1) for p in params]), ref_theta)


def test_tensor_order_does_not_change_the_result():
    # The reference code updates the LR once per tensor; reordering tensors would then
    # change the trajectory. One hypergradient per step makes it order-free.
    model, x, y = mlp_data()
    twin = copy.deepcopy(model)
    a = SGDHD(list(model.parameters()), lr=0.05, hypergrad_lr=0.05, momentum=0.5)
    b = SGDHD(list(twin.parameters())[::-1], lr=0.05, hypergrad_lr=0.05, momentum=0.5)
    trajectory(model, a, x, y)
    trajectory(twin, b, x, y)
    assert a.lr_trace == pytest.approx(b.lr_trace, rel=1e-6)


@pytest.mark.parametrize("lr", [1e-4, 0.25])  # 500x too small; above the ceiling 2/L = 0.2
def test_sgd_hd_converges_on_a_quadratic_from_a_bad_initial_lr(lr):
    plain, _ = quadratic_run(torch.optim.SGD, lr)
    hd, opt = quadratic_run(SGDHD, lr, hypergrad_lr=1e-3)
    assert not plain < 1e-3  # plain SGD: far from the optimum (too small) or diverged (NaN)
    assert hd < 1e-8
    assert 0.0 < opt.lr < 0.2


def test_multiplicative_rule_recovers_from_five_times_the_ceiling():
    plain, _ = quadratic_run(torch.optim.SGD, 1.0)
    hd, opt = quadratic_run(SGDHD, 1.0, hypergrad_lr=0.02, multiplicative=True)
    assert not plain < 1e3 and hd < 1e-12 and opt.lr < 0.2


def test_adam_hd_converges_from_a_too_small_lr():
    plain, _ = quadratic_run(torch.optim.Adam, 1e-4)
    hd, _ = quadratic_run(AdamHD, 1e-4, hypergrad_lr=1e-3)
    assert plain > 1.0 and hd < 1e-10


def test_lr_range_is_the_safeguard_that_stops_a_too_large_hyper_lr():
    wild, _ = quadratic_run(SGDHD, 1e-4, hypergrad_lr=1e-2)
    safe, opt = quadratic_run(SGDHD, 1e-4, hypergrad_lr=1e-2, lr_range=(0.0, 0.15))
    assert not wild < 1e3  # NaN or blown up
    assert safe < 1e-8 and max(opt.lr_trace) <= 0.15


def test_a_non_finite_hypergradient_leaves_the_lr_unchanged():
    w = torch.nn.Parameter(torch.ones(2))
    opt = SGDHD([w], lr=0.1, hypergrad_lr=1.0)
    for grad in (torch.ones(2), torch.tensor([math.inf, 1.0])):
        w.grad = grad
        opt.step()
    assert opt.lr == 0.1 and not math.isfinite(opt.hypergradient_trace[-1])


def test_parameter_groups_keep_their_ratios_and_the_trace_is_per_step():
    model, x, y = mlp_data()
    opt = AdamHD([{"params": model[0].parameters(), "lr": 0.002},
                  {"params": model[2].parameters()}], lr=0.01, hypergrad_lr=1e-3)
    trajectory(model, opt, x, y, steps=6)
    lrs = [g["lr"] for g in opt.param_groups]
    assert lrs[0] / lrs[1] == pytest.approx(0.2)
    assert opt.lr == pytest.approx(lrs[1]) and opt.lr != pytest.approx(0.01)
    assert len(opt.lr_trace) == 6 and len(opt.hypergradient_trace) == 5


def test_state_dict_round_trip_continues_identically():
    model, x, y = mlp_data()
    opt = SGDHD(model.parameters(), lr=0.05, hypergrad_lr=0.01, momentum=0.9)
    trajectory(model, opt, x, y, steps=4)
    twin = copy.deepcopy(model)
    opt2 = SGDHD(twin.parameters(), lr=0.05, hypergrad_lr=0.01, momentum=0.9)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    a, b = trajectory(model, opt, x, y, 3), trajectory(twin, opt2, x, y, 3)
    assert opt.lr == pytest.approx(opt2.lr)
    for p, q in zip(a, b, strict=True):
        torch.testing.assert_close(p, q)


@pytest.mark.parametrize("make, match", [
    (lambda w: SGDHD([w], hypergrad_lr=-1.0), "hypergrad_lr = -1.0"),
    (lambda w: SGDHD([w], lr_range=(1.0, 0.5)), "lr_range"),
    (lambda w: SGDHD([w], lr=float("nan")), "lr = nan"),
    (lambda w: SGDHD([w], nesterov=True), "nesterov"),
    (lambda w: AdamHD([w], betas=(1.0, 0.9)), r"betas\[0\] = 1.0"),
    (lambda w: AdamHD([w], lr=0.0, multiplicative=True), "multiplicative"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ConfigError, match=match):
        make(torch.nn.Parameter(torch.ones(1)))
