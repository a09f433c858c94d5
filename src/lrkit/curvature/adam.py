"""Preconditioned sharpness ``lambda_max(P^-1 H)`` for Adam (Cohen et al. 2022).

**The preconditioner used.** ``P = diag(sqrt(v_hat) + eps)`` with
``v_hat = v / (1 - beta2**t)``: exactly the denominator of ``torch.optim.Adam`` / ``AdamW``
at step ``t``, so the update is ``lr * P^-1 m_hat``. With AMSGrad the running maximum of
``v`` replaces ``v``, as in torch. Cohen et al. ("Adaptive Gradient Methods at the Edge of
Stability", arXiv 2207.14484) write Adam as ``lr * P^-1 m`` with the *uncorrected* first
moment ``m`` and fold the first-moment bias correction into ``P``, i.e. their ``P`` is
``(1 - beta1**t)`` times ours. That factor tends to 1 (below 0.5% after 50 steps at
``beta1 = 0.9``), and lrkit reports LR ceilings for the run rather than for its first few
updates, so it is left out: in the first steps Adam's real step is larger by
``1 / (1 - beta1**t)`` than the steady-state threshold assumes.

``P^-1 H`` is not symmetric but is similar to ``P^-1/2 H P^-1/2``, which is; Lanczos and
power iteration run on the symmetric form, one Hessian-vector product per iteration.

**Where ``v`` comes from.** Pass the ``optimizer`` of a run in progress and its state is
read (it must have taken at least one step). Without one, ``v`` is the bias-corrected
exponential moving average (``beta2``) of the squared gradients of the batches, one
batch per step, in order, at the *current* parameters: the second moment Adam would hold
after ``len(batches)`` steps if the parameters had not moved. This costs one gradient
over the batch set and is the natural choice at initialisation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from lrkit._deps import require
from lrkit.curvature._state import measurement_mode
from lrkit.curvature.estimate import (
    SharpnessEstimate,
    _check_betas,
    _estimate,
    _generator,
    _method,
)
from lrkit.curvature.hvp import HessianOperator
from lrkit.errors import ConfigError

torch = require("torch", extra="torch")

__all__ = ["adam_preconditioner", "preconditioned_top_eigenvalue"]

PRECONDITIONER = "diag(sqrt(v_hat) + eps), v_hat = v / (1 - beta2**t)"


def _from_optimizer(op: HessianOperator, optimizer: Any) -> tuple[Any, float]:
    group_of = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    pieces, beta1s = [], set()
    for index, p in enumerate(op.params):
        group = group_of.get(id(p))
        if group is None:
            raise ConfigError(f"optimizer: trainable parameter #{index} of the model is not in "
                              "it; pass the optimizer built on this model's parameters")
        if "betas" not in group or "eps" not in group:
            raise ConfigError(f"optimizer = {type(optimizer).__name__}: has no Adam betas/eps; "
                              "pass an Adam-family optimizer or optimizer=None")
        state = optimizer.state.get(p, {})
        v = state.get("max_exp_avg_sq") if group.get("amsgrad") else state.get("exp_avg_sq")
        if v is None or "step" not in state:
            raise ConfigError(f"optimizer = {type(optimizer).__name__}: has no second-moment "
                              f"state for parameter #{index}; take at least one step, or "
                              "pass optimizer=None to build v from gradients")
        beta1, beta2 = group["betas"]
        step = float(state["step"])
        v_hat = v.detach() / (1.0 - beta2 ** step)
        pieces.append(v_hat.sqrt() + group["eps"])
        beta1s.add(float(beta1))
    if len(beta1s) != 1:
        raise ConfigError(f"optimizer betas[0] = {sorted(beta1s)}: differ between parameter "
                          "groups; one threshold needs one beta1, use one value")
    return op.flatten(pieces), beta1s.pop()


def _from_gradients(op: HessianOperator, beta2: float, eps: float) -> Any:
    v = torch.zeros(op.dim, dtype=op.params[0].dtype, device=op.params[0].device)
    grads = op.batch_gradients()
    for g in grads:
        v = beta2 * v + (1.0 - beta2) * g * g
    v_hat = v / (1.0 - beta2 ** len(grads))
    return v_hat.sqrt() + eps


def _preconditioner(op: HessianOperator, optimizer: Any | None, betas: tuple[float, float],
                    eps: float) -> tuple[Any, float]:
    if optimizer is not None:
        return _from_optimizer(op, optimizer)
    return _from_gradients(op, betas[1], eps), float(betas[0])


def adam_preconditioner(model: Any, loss_fn: Callable[[Any, Any], Any], batches: Iterable[Any],
                        optimizer: Any | None = None, *, betas: tuple[float, float] = (0.9, 0.999),
                        eps: float = 1e-8) -> tuple[Any, float]:
    """The flat diagonal of Adam's preconditioner ``P`` and the ``beta1`` that goes with it.

    Args:
        model: the ``torch.nn.Module`` (left unchanged).
        loss_fn: ``(output, target) -> scalar`` mean loss.
        batches: ``(inputs, targets)`` batches (used only when ``optimizer`` is None).
        optimizer: an Adam-family optimizer with state, or None to build ``v`` from the
            batches' gradients (see the module docs).
        betas: ``(beta1, beta2)`` when ``optimizer`` is None.
        eps: Adam's epsilon when ``optimizer`` is None.

    Returns:
        ``(diag_P, beta1)``, with ``diag_P`` ordered like the model's trainable parameters.

    Raises:
        ConfigError: the optimizer has no usable Adam state, or bad ``betas``/``eps``.

    >>> import torch
    >>> m = torch.nn.Linear(2, 1)
    >>> data = [(torch.ones(4, 2), torch.zeros(4, 1))]
    >>> P, b1 = adam_preconditioner(m, torch.nn.functional.mse_loss, data)
    >>> P.shape, b1
    (torch.Size([3]), 0.9)
    """
    _check_betas(betas[0], betas[1], eps)
    with measurement_mode(model):
        op = HessianOperator(model, loss_fn, batches, cache_graphs=False)
        return _preconditioner(op, optimizer, betas, eps)


def preconditioned_top_eigenvalue(
    model: Any, loss_fn: Callable[[Any, Any], Any], batches: Iterable[Any],
    optimizer: Any | None = None, max_hvps: int = 30, tol: float = 1e-3, *,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, method: str = "lanczos",
    seed: int = 0, cache_graphs: bool = True,
) -> SharpnessEstimate:
    """Estimate ``lambda_1 = lambda_max(P^-1 H)``, Adam's preconditioned sharpness.

    Args:
        model: a ``torch.nn.Module`` (left exactly as it was).
        loss_fn: ``(output, target) -> scalar`` mean loss.
        batches: the fixed ``(inputs, targets)`` batch set of the Hessian.
        optimizer: an Adam-family optimizer whose state gives ``v``; None builds ``v`` from
            the batches' gradients (one gradient over the batch set, counted in the cost).
        max_hvps: budget of Hessian-vector products.
        tol: the stopping tolerance (as in :func:`hessian_top_eigenvalue`).
        betas: ``(beta1, beta2)`` used when ``optimizer`` is None.
        eps: Adam's epsilon used when ``optimizer`` is None.
        method: ``"lanczos"`` or ``"power"``.
        seed: seed of the start vector.
        cache_graphs: reuse each batch's gradient graph across products.

    Returns:
        A :class:`SharpnessEstimate` with ``preconditioner`` describing ``P`` and ``beta1``
        set; pass ``.value`` and ``.beta1`` to :func:`lrkit.curvature.adam_bounds`.

    Raises:
        ConfigError: bad arguments or optimizer state, or a non-finite loss/product.

    >>> import torch
    >>> torch.manual_seed(0) and None
    >>> m = torch.nn.Linear(3, 1, bias=False)
    >>> x, y = torch.randn(32, 3), torch.randn(32, 1)
    >>> est = preconditioned_top_eigenvalue(m, torch.nn.functional.mse_loss, [(x, y)])
    >>> est.value > 0, est.beta1
    (True, 0.9)
    """
    _check_betas(betas[0], betas[1], eps)
    run = _method(method)
    with measurement_mode(model):
        op = HessianOperator(model, loss_fn, batches, cache_graphs=cache_graphs)
        diag, beta1 = _preconditioner(op, optimizer, betas, eps)
        if not bool(torch.isfinite(diag).all()) or bool((diag <= 0).any()):
            raise ConfigError("preconditioner: has zero or non-finite entries (a parameter "
                              "with zero gradient and eps = 0); pass eps > 0, e.g. 1e-8")
        scale = diag.rsqrt()

        def matvec(x: Any) -> Any:
            return scale * op.matvec(scale * x)

        try:
            result = run(matvec, op.new_vector(_generator(op, seed)), max_iter=max_hvps,
                         tol=tol)
        finally:
            op.release()
    return dataclasses.replace(_estimate(result, op, PRECONDITIONER), beta1=beta1)
