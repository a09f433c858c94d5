"""Lanczos and power iteration on operators with a known spectrum."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrkit.curvature import lanczos, power_iteration
from lrkit.errors import ConfigError


def operator(eigenvalues, seed=0):
    """A dense symmetric matrix Q diag(eigenvalues) Q^T with a random orthogonal Q."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    a = torch.tensor(q @ np.diag(eigenvalues) @ q.T)
    return a, torch.tensor(rng.standard_normal(len(eigenvalues)))


@pytest.mark.parametrize("method", [lanczos, power_iteration])
def test_exact_on_a_well_separated_spectrum(method):
    a, v0 = operator(np.r_[10.0, np.linspace(0.1, 3.0, 49)])
    r = method(lambda v: a @ v, v0, max_iter=30, tol=1e-8)
    assert r.converged
    assert r.value == pytest.approx(10.0, rel=1e-6)
    assert r.matvecs == len(r.history) <= 30


def test_lanczos_error_bar_covers_the_truth_and_its_estimate_is_a_lower_bound():
    eig = np.r_[5.0, 4.8, 4.5, np.linspace(0.0, 4.0, 197)]
    a, v0 = operator(eig, seed=3)
    for k in (3, 6, 10, 20):
        r = lanczos(lambda v: a @ v, v0, max_iter=k, tol=0.0)
        assert r.value <= 5.0 + 1e-9  # Ritz values interlace: never above lambda_max
        assert 5.0 - r.value <= r.residual + 1e-9


def test_lanczos_needs_fewer_products_than_power_iteration_on_a_cluster():
    # lambda_2 / lambda_1 = 0.98: power iteration crawls, Lanczos does not.
    a, v0 = operator(np.r_[1.0, 0.98, np.linspace(-0.2, 0.9, 298)], seed=1)
    lz = lanczos(lambda v: a @ v, v0, max_iter=60, tol=1e-4)
    pw = power_iteration(lambda v: a @ v, v0, max_iter=60, tol=1e-4)
    assert abs(lz.value - 1.0) < 1e-3
    assert lz.matvecs < 40
    assert abs(pw.value - 1.0) > abs(lz.value - 1.0)


def test_lanczos_finds_the_algebraically_largest_power_the_largest_magnitude():
    a, v0 = operator(np.r_[2.0, -6.0, np.linspace(-1.0, 1.0, 30)], seed=2)
    assert lanczos(lambda v: a @ v, v0, max_iter=32, tol=1e-9).value == pytest.approx(2.0)
    assert power_iteration(lambda v: a @ v, v0, max_iter=200,
                           tol=1e-10).value == pytest.approx(-6.0, rel=1e-4)


def test_lanczos_stops_at_an_invariant_subspace():
    a = torch.diag(torch.tensor([3.0, 1.0, 1.0, 1.0, 1.0], dtype=torch.float64))
    r = lanczos(lambda v: a @ v, torch.ones(5, dtype=torch.float64), max_iter=30, tol=0.0)
    assert r.converged and r.matvecs == 2 and r.value == pytest.approx(3.0)


def test_power_iteration_stops_at_relative_change_below_tol():
    a, v0 = operator(np.r_[4.0, 3.0, 1.0], seed=4)
    r = power_iteration(lambda v: a @ v, v0, max_iter=100, tol=1e-3)
    h = r.history
    assert r.converged and abs(h[-1] - h[-2]) <= 1e-3 * abs(h[-1])
    assert all(abs(h[i] - h[i - 1]) > 1e-3 * abs(h[i]) for i in range(1, len(h) - 1))


@pytest.mark.parametrize("kwargs, match", [
    ({"max_iter": 0}, "max_hvps = 0"),
    ({"tol": -1.0}, "tol = -1.0"),
    ({"v0": torch.zeros(3)}, "v0"),
])
def test_bad_arguments_raise_one_line_config_errors(kwargs, match):
    args = {"matvec": lambda v: v, "v0": torch.ones(3), **kwargs}
    with pytest.raises(ConfigError, match=match):
        lanczos(**args)


def test_a_non_finite_product_is_a_config_error():
    with pytest.raises(ConfigError, match="not finite"):
        power_iteration(lambda v: v * float("nan"), torch.ones(3))
