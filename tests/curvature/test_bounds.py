"""The LR bounds, checked by running the optimizers they describe on quadratics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.curvature import adam_bounds, compare_lr, sgd_bounds
from lrkit.errors import ConfigError


def heavy_ball_radius(lr: float, curvature: float, beta: float) -> float:
    """Spectral radius of one heavy-ball step on the 1-D quadratic 0.5 * curvature * x^2."""
    companion = np.array([[1 + beta - lr * curvature, -beta], [1.0, 0.0]])
    return float(max(abs(np.linalg.eigvals(companion))))


def run_torch_sgd(lr: float, beta: float, curvatures: np.ndarray, steps: int = 400) -> float:
    import torch

    x = torch.nn.Parameter(torch.ones(len(curvatures), dtype=torch.float64))
    h = torch.tensor(curvatures)
    opt = torch.optim.SGD([x], lr=lr, momentum=beta)
    for _ in range(steps):
        x.grad = h * x.detach()  # the gradient of 0.5 * sum(h x^2), without autograd's overhead
        opt.step()
    return float(x.detach().norm())


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_sgd_ceiling_separates_convergence_from_divergence(beta):
    curv = np.array([10.0, 3.0, 0.5])
    ceiling = sgd_bounds(10.0, momentum=beta).max_stable_lr
    assert run_torch_sgd(0.98 * ceiling, beta, curv, steps=3000) < 1e-3
    assert run_torch_sgd(1.02 * ceiling, beta, curv) > 1e3


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9])
def test_quadratic_optimum_gives_the_best_rate_sqrt_beta_for_the_sharpest_direction(beta):
    b = sgd_bounds(4.0, momentum=beta)
    best = math.sqrt(beta)
    assert heavy_ball_radius(b.quadratic_optimal_lr, 4.0, beta) == pytest.approx(best, abs=1e-6)
    # no learning rate does better on that direction, and larger ones do worse
    grid = np.linspace(0.01, 0.99, 99) * b.max_stable_lr
    assert min(heavy_ball_radius(lr, 4.0, beta) for lr in grid) >= best - 1e-6
    assert heavy_ball_radius(1.2 * b.quadratic_optimal_lr, 4.0, beta) > best + 1e-3
    low, high = b.optimal_range
    assert high == b.quadratic_optimal_lr
    for lr in np.linspace(low, high, 7):
        assert heavy_ball_radius(lr, 4.0, beta) == pytest.approx(best, abs=1e-6)
    if beta:
        assert heavy_ball_radius(0.8 * low, 4.0, beta) > best + 1e-4


def frozen_adam(lr: float, beta1: float, p: np.ndarray, h: np.ndarray, steps: int = 2000):
    """Adam with a frozen preconditioner P: m <- b1 m + (1-b1) g; x <- x - lr P^-1 m."""
    x, m = np.ones(len(h)), np.zeros(len(h))
    for _ in range(steps):
        m = beta1 * m + (1 - beta1) * (h @ x)
        x = x - lr * m / p
        if np.linalg.norm(x) > 1e6:
            break  # diverged: stop before overflow
    return float(np.linalg.norm(x))


def test_adam_ceiling_matches_cohen_et_al_on_a_preconditioned_quadratic():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    h = q @ np.diag([50.0, 10.0, 3.0, 1.0, 0.2]) @ q.T
    p = np.array([2.0, 0.5, 1.0, 3.0, 0.7])
    lam = float(np.linalg.eigvalsh(h / np.sqrt(np.outer(p, p)))[-1])  # lambda_max(P^-1 H)
    b = adam_bounds(lam, beta1=0.9)
    assert b.max_stable_lr == pytest.approx(38.0 / lam)
    assert frozen_adam(0.98 * b.max_stable_lr, 0.9, p, h, steps=20000) < 1e-3
    assert frozen_adam(1.02 * b.max_stable_lr, 0.9, p, h) > 1e3


def test_hand_values_and_non_positive_sharpness():
    assert sgd_bounds(2.0).to_dict() == {
        "optimizer": "sgd", "sharpness": 2.0, "momentum": 0.0, "max_stable_lr": 1.0,
        "quadratic_optimal_lr": 0.5, "optimal_range": (0.5, 0.5), "formula": "2 / L"}
    assert sgd_bounds(-1.0).max_stable_lr == math.inf
    assert adam_bounds(1.0, beta1=0.0).max_stable_lr == 2.0


def test_compare_lr_verdicts():
    b = sgd_bounds(10.0)
    assert compare_lr(0.1, b)["ratio_to_max_stable"] == pytest.approx(0.5)
    assert compare_lr(0.19, b)["verdict"] == "edge"
    assert compare_lr(0.1, b)["ratio_to_quadratic_optimal"] == pytest.approx(1.0)


@pytest.mark.parametrize("call, match", [
    (lambda: sgd_bounds(float("nan")), "sharpness = nan"),
    (lambda: sgd_bounds(1.0, momentum=1.0), "momentum = 1.0"),
    (lambda: adam_bounds(1.0, beta1=-0.1), "beta1 = -0.1"),
    (lambda: compare_lr(0.0, sgd_bounds(1.0)), "lr = 0.0"),
])
def test_bad_input(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
