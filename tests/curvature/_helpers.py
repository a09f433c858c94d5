"""Explicitly built Hessians, the ground truth of the curvature tests."""

from __future__ import annotations

import functools

import numpy as np
import scipy.linalg
import torch


def explicit_hessian(model: torch.nn.Module, loss_fn, batches) -> np.ndarray:
    """The full Hessian of the example-weighted mean loss, in float64, built with autograd."""
    m64 = _copy64(model).eval()
    names = [n for n, p in m64.named_parameters() if p.requires_grad]
    shapes = [p.shape for n, p in m64.named_parameters() if p.requires_grad]
    flat0 = torch.cat([p.detach().reshape(-1) for n, p in m64.named_parameters()
                       if p.requires_grad])
    total = sum(x.shape[0] for x, _ in batches)

    def loss(flat: torch.Tensor) -> torch.Tensor:
        params, start = {}, 0
        for name, shape in zip(names, shapes, strict=True):
            k = int(np.prod(shape))
            params[name] = flat[start:start + k].view(shape)
            start += k
        out = 0.0
        for x, y in batches:
            pred = torch.func.functional_call(m64, params, (x.double() if x.is_floating_point()
                                                            else x,))
            out = out + loss_fn(pred, y.double() if y.is_floating_point() else y) * x.shape[0]
        return out / total

    return torch.autograd.functional.hessian(loss, flat0, vectorize=True).numpy()


def _copy64(model: torch.nn.Module) -> torch.nn.Module:
    import copy

    return copy.deepcopy(model).double()


def top_eig(matrix: np.ndarray) -> float:
    return float(scipy.linalg.eigvalsh(matrix)[-1])


def make_logreg():
    """Logistic regression on 2 classes of sklearn's bundled breast-cancer data (standardised)."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    xt = torch.tensor(x[:256], dtype=torch.float32)
    yt = torch.tensor(y[:256], dtype=torch.float32).unsqueeze(1)
    torch.manual_seed(0)
    model = torch.nn.Linear(x.shape[1], 1)
    batches = [(xt[:128], yt[:128]), (xt[128:], yt[128:])]
    return model, torch.nn.functional.binary_cross_entropy_with_logits, batches


def make_mlp():
    """A 64-8-10 tanh MLP (618 parameters) on sklearn's bundled digits, cross-entropy loss."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    xt = torch.tensor(x[:120] / 16.0, dtype=torch.float32)
    yt = torch.tensor(y[:120])
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 8), torch.nn.Tanh(),
                                torch.nn.Linear(8, 10))
    batches = [(xt[:60], yt[:60]), (xt[60:], yt[60:])]
    return model, torch.nn.functional.cross_entropy, batches


@functools.cache
def exact_top(problem: str) -> float:
    """lambda_max of the explicit Hessian of a problem at its (seeded) initial parameters."""
    model, loss_fn, batches = {"logreg_problem": make_logreg, "mlp_problem": make_mlp}[problem]()
    return top_eig(explicit_hessian(model, loss_fn, batches))
