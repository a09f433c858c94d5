"""Adam's preconditioned sharpness lambda_max(P^-1 H) against an explicit computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrkit.curvature import adam_preconditioner, preconditioned_top_eigenvalue
from lrkit.errors import ConfigError
from lrkit.optim import AdamHD

from ._helpers import explicit_hessian


def explicit_preconditioned_top(h: np.ndarray, diag_p: np.ndarray) -> float:
    s = 1.0 / np.sqrt(diag_p)
    return float(np.linalg.eigvalsh(s[:, None] * h * s[None, :])[-1])


def adam_steps(model, loss_fn, batches, optimizer, steps=5):
    for i in range(steps):
        x, y = batches[i % len(batches)]
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()


@pytest.mark.parametrize("problem, make", [
    ("logreg_problem", lambda p: torch.optim.Adam(p, lr=1e-2)),
    ("logreg_problem", lambda p: AdamHD(p, lr=1e-2)),
    ("mlp_problem", lambda p: torch.optim.AdamW(p, lr=1e-2, amsgrad=True, eps=1e-6)),
])
def test_from_optimizer_state_matches_the_explicit_matrix(problem, make, request):
    model, loss_fn, batches = request.getfixturevalue(problem)
    opt = make(model.parameters())
    adam_steps(model, loss_fn, batches, opt)
    group = opt.param_groups[0]
    beta2, eps = group["betas"][1], group["eps"]
    key = "max_exp_avg_sq" if group.get("amsgrad") else "exp_avg_sq"
    diag = np.concatenate([
        (np.sqrt(opt.state[p][key].numpy().astype(np.float64)
                 / (1 - beta2 ** float(opt.state[p]["step"]))) + eps).ravel()
        for p in model.parameters()])
    exact = explicit_preconditioned_top(explicit_hessian(model, loss_fn, batches), diag)
    est = preconditioned_top_eigenvalue(model, loss_fn, batches, opt, max_hvps=30)
    assert est.hvps <= 30 and est.beta1 == 0.9
    assert est.value == pytest.approx(exact, rel=0.01)


def test_without_optimizer_v_is_the_ema_of_squared_batch_gradients(logreg_problem):
    model, loss_fn, batches = logreg_problem
    grads = []
    for x, y in batches:
        model.zero_grad()
        loss_fn(model(x), y).backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).double())
        model.zero_grad(set_to_none=True)
    v = 0.999 * (0.001 * grads[0] ** 2) + 0.001 * grads[1] ** 2
    diag = (v / (1 - 0.999 ** 2)).sqrt() + 1e-8
    p, beta1 = adam_preconditioner(model, loss_fn, batches)
    assert beta1 == 0.9
    torch.testing.assert_close(p.double(), diag, rtol=1e-4, atol=1e-9)
    exact = explicit_preconditioned_top(explicit_hessian(model, loss_fn, batches), diag.numpy())
    est = preconditioned_top_eigenvalue(model, loss_fn, batches)
    assert est.value == pytest.approx(exact, rel=0.01)
    assert est.grad_equivalents == 2 + 2 * est.hvps  # v's gradient pass, the graph, the HVPs


def test_the_model_and_the_optimizer_are_left_alone(mlp_problem):
    model, loss_fn, batches = mlp_problem
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    adam_steps(model, loss_fn, batches, opt, steps=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = {id(p): {k: v.clone() for k, v in s.items()} for p, s in opt.state.items()}
    preconditioned_top_eigenvalue(model, loss_fn, batches, opt, max_hvps=5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for p, s in opt.state.items():
        assert all(torch.equal(state[id(p)][k], v) for k, v in s.items())


def test_bad_optimizers_are_config_errors(mlp_problem):
    model, loss_fn, batches = mlp_problem
    with pytest.raises(ConfigError, match="no second-moment state"):
        preconditioned_top_eigenvalue(model, loss_fn, batches,
                                      torch.optim.Adam(model.parameters()))
    with pytest.raises(ConfigError, match="no Adam betas"):
        preconditioned_top_eigenvalue(model, loss_fn, batches,
                                      torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ConfigError, match="not in it"):
        preconditioned_top_eigenvalue(model, loss_fn, batches,
                                      torch.optim.Adam(model[2].parameters()))
    with pytest.raises(ConfigError, match=r"beta2 = 1\.0"):
        preconditioned_top_eigenvalue(model, loss_fn, batches, betas=(0.9, 1.0))
