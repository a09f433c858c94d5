"""hessian_top_eigenvalue against Hessians built explicitly, and the model left untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrkit.curvature import hessian_top_eigenvalue
from lrkit.errors import ConfigError

from ._helpers import exact_top


class Quadratic(torch.nn.Module):
    """loss = 0.5 (theta - c)^T A (theta - c): the Hessian is A whatever the data."""

    def __init__(self, a: np.ndarray) -> None:
        super().__init__()
        self.a = torch.tensor(a, dtype=torch.float64)
        self.theta = torch.nn.Parameter(torch.ones(len(a), dtype=torch.float64))

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        d = self.theta - c.mean(0)
        return 0.5 * d @ self.a @ d


def quad_loss(out, _target):
    return out


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_exact_on_a_quadratic(method):
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    a = q @ np.diag(np.r_[7.0, np.linspace(0.0, 3.0, 39)]) @ q.T
    est = hessian_top_eigenvalue(Quadratic(a), quad_loss, [(torch.zeros(2, 40), None)],
                                 max_hvps=30, tol=1e-8, method=method)
    assert est.value == pytest.approx(7.0, rel=1e-6)
    assert est.hvps <= 30 and est.grad_equivalents == 1 + 2 * est.hvps


@pytest.mark.parametrize("problem", ["logreg_problem", "mlp_problem"])
@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_within_one_percent_of_the_explicit_hessian_in_30_hvps(problem, method, request):
    model, loss_fn, batches = request.getfixturevalue(problem)
    exact = exact_top(problem)
    est = hessian_top_eigenvalue(model, loss_fn, batches, max_hvps=30, tol=1e-3, method=method)
    assert est.hvps <= 30
    assert est.value == pytest.approx(exact, rel=0.01)
    assert est.examples == (256 if problem == "logreg_problem" else 120)


def test_lanczos_error_bar_is_honest_on_the_mlp(mlp_problem):
    model, loss_fn, batches = mlp_problem
    exact = exact_top("mlp_problem")
    est = hessian_top_eigenvalue(model, loss_fn, batches, max_hvps=8, tol=0.0)
    assert est.value <= exact * (1 + 1e-5)
    assert exact - est.value <= max(est.error, 1e-5 * exact) * 1.01


def test_graph_caching_does_not_change_the_estimate(logreg_problem):
    model, loss_fn, batches = logreg_problem
    a = hessian_top_eigenvalue(model, loss_fn, batches, cache_graphs=True)
    b = hessian_top_eigenvalue(model, loss_fn, batches, cache_graphs=False)
    assert a.value == pytest.approx(b.value, rel=1e-5) and a.hvps == b.hvps
    assert (a.grad_equivalents, b.grad_equivalents) == (1 + 2 * a.hvps, 3 * b.hvps)


def test_minibatch_estimates_are_biased_upward(logreg_problem):
    # lambda_max is convex, so the mean over batches of lambda_max(H_b) >= lambda_max(H).
    model, loss_fn, batches = logreg_problem
    full = hessian_top_eigenvalue(model, loss_fn, batches, tol=1e-6).value
    small = [(x[i:i + 16], y[i:i + 16]) for x, y in batches for i in range(0, 128, 16)]
    per_batch = [hessian_top_eigenvalue(model, loss_fn, [b], tol=1e-6).value for b in small]
    assert np.mean(per_batch) > full * 1.05


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 8)
        self.bn = torch.nn.BatchNorm1d(8)
        self.drop = torch.nn.Dropout(0.5)
        self.fc2 = torch.nn.Linear(8, 3)
        self.frozen = torch.nn.Linear(3, 3)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        return self.frozen(self.fc2(self.drop(torch.relu(self.bn(self.fc1(x))))))


def test_model_is_left_exactly_as_it_was():
    torch.manual_seed(0)
    net = Net().train()
    net.frozen.eval()  # a mixed-mode model: must not come back all-train
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    torch.nn.functional.cross_entropy(net(x), y).backward()  # leaves .grad and BN stats
    params = {k: v.clone() for k, v in net.state_dict().items()}
    grads = {n: p.grad for n, p in net.named_parameters()}
    grad_values = {n: None if g is None else g.clone() for n, g in grads.items()}
    modes = {n: m.training for n, m in net.named_modules()}
    rng = torch.get_rng_state()

    est = hessian_top_eigenvalue(net, torch.nn.functional.cross_entropy, [(x, y)], max_hvps=10)

    assert np.isfinite(est.value)
    assert all(torch.equal(params[k], v) for k, v in net.state_dict().items())
    assert {n: m.training for n, m in net.named_modules()} == modes
    for n, p in net.named_parameters():
        assert p.grad is grads[n]
        assert (p.grad is None) == (grad_values[n] is None)
        assert p.grad is None or torch.equal(p.grad, grad_values[n])
    assert torch.equal(torch.get_rng_state(), rng)


def test_eval_mode_makes_the_estimate_deterministic_with_dropout():
    torch.manual_seed(0)
    net = Net().train()
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    a = hessian_top_eigenvalue(net, torch.nn.functional.cross_entropy, [(x, y)], seed=3)
    b = hessian_top_eigenvalue(net, torch.nn.functional.cross_entropy, [(x, y)], seed=3)
    assert a.value == b.value and a.history == b.history


def test_the_model_is_restored_when_the_loss_fails():
    net = Net().train()

    def bad_loss(out, y):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        hessian_top_eigenvalue(net, bad_loss, [(torch.randn(4, 6), torch.zeros(4))])
    assert net.training and net.bn.training


@pytest.mark.parametrize("kwargs, match", [
    ({"batches": []}, "batches: is empty"),
    ({"batches": [torch.randn(4, 6)]}, r"batches\[0\]"),
    ({"method": "qr"}, "method = 'qr'"),
    ({"max_hvps": 0}, "max_hvps = 0"),
    ({"loss_fn": lambda o, t: o}, "must be a scalar"),
])
def test_bad_input_is_a_config_error(kwargs, match):
    args = {"model": Net(), "loss_fn": torch.nn.functional.cross_entropy,
            "batches": [(torch.randn(4, 6), torch.zeros(4, dtype=torch.long))], **kwargs}
    with pytest.raises(ConfigError, match=match):
        hessian_top_eigenvalue(**args)


def test_a_model_without_trainable_parameters_is_a_config_error():
    net = torch.nn.Linear(2, 1).requires_grad_(False)
    with pytest.raises(ConfigError, match="requires_grad"):
        hessian_top_eigenvalue(net, torch.nn.functional.mse_loss,
                               [(torch.randn(4, 2), torch.randn(4, 1))])


def test_parameters_the_loss_does_not_touch_have_zero_curvature(logreg_problem):
    model, loss_fn, batches = logreg_problem
    base = hessian_top_eigenvalue(model, loss_fn, batches, tol=1e-6)
    wrapped = torch.nn.ModuleDict({"used": model, "unused": torch.nn.Linear(3, 3)})

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.parts = wrapped

        def forward(self, x):
            return self.parts["used"](x)

    est = hessian_top_eigenvalue(Wrapper(), loss_fn, batches, tol=1e-6)
    assert est.value == pytest.approx(base.value, rel=1e-4)
