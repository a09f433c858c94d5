"""Sharpness of a model's loss: the largest Hessian eigenvalue, plain or preconditioned.

Both functions measure at the model's current parameters on a *fixed* set of batches,
with the model in eval mode, and leave the model exactly as they found it.

**Minibatch bias.** ``lambda_max`` is a convex function of the matrix, so by Jensen's
inequality ``E[lambda_max(H_batch)] >= lambda_max(E[H_batch]) = lambda_max(H)``: an
estimate on a few small batches is biased *upward* relative to the full-data Hessian,
and the LR ceilings derived from it err on the safe (smaller) side. More examples in
the batch set shrink the bias.

>>> import torch
>>> torch.manual_seed(0) and None
>>> model = torch.nn.Linear(4, 1)
>>> x, y = torch.randn(64, 4), torch.randn(64, 1)
>>> est = hessian_top_eigenvalue(model, torch.nn.functional.mse_loss, [(x, y)])
>>> xb = torch.cat([x, torch.ones(64, 1)], 1)
>>> exact = torch.linalg.eigvalsh(2 * xb.T @ xb / 64)[-1].item()
>>> abs(est.value - exact) / exact < 1e-3, est.hvps <= 5
(True, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.curvature._state import measurement_mode
from lrkit.curvature.eigen import EigenResult, lanczos, power_iteration
from lrkit.curvature.hvp import HessianOperator
from lrkit.errors import ConfigError

torch = require("torch", extra="torch")

__all__ = ["METHODS", "SharpnessEstimate", "hessian_top_eigenvalue"]

METHODS: dict[str, Callable[..., EigenResult]] = {"lanczos": lanczos, "power": power_iteration}


@dataclasses.dataclass(frozen=True)
class SharpnessEstimate:
    """A top-eigenvalue estimate and what it cost.

    Attributes:
        value: the estimate of ``lambda_max(H)`` (or of ``lambda_max(P^-1 H)``).
        error: the method's error bar (see :class:`lrkit.curvature.EigenResult`).
        hvps: Hessian-vector products used.
        grad_equivalents: cost in gradients over the batch set (gradient or graph 1,
            HVP 2; see :mod:`lrkit.curvature.hvp`).
        examples: examples in the batch set (``grad_equivalents * examples`` = examples
            processed, comparable with a training run's ``steps * batch_size``).
        method: ``"lanczos"`` or ``"power"``.
        converged: whether the method's stopping rule was met within ``max_hvps``.
        history: the estimate after each product.
        preconditioner: ``None`` for the plain Hessian, else a description of ``P``.
        beta1: Adam's ``beta1`` for a preconditioned estimate (``None`` otherwise).
    """

    value: float
    error: float
    hvps: int
    grad_equivalents: float
    examples: int
    method: str
    converged: bool
    history: tuple[float, ...]
    preconditioner: str | None = None
    beta1: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The estimate as a JSON-ready dict."""
        return dataclasses.asdict(self)


def _method(method: str) -> Callable[..., EigenResult]:
    try:
        return METHODS[method]
    except KeyError:
        raise ConfigError(f"method = {method!r}: unknown eigenvalue method; use one of "
                          f"{', '.join(sorted(METHODS))}") from None


def _generator(op: HessianOperator, seed: int) -> Any:
    gen = torch.Generator(device=op.params[0].device)
    gen.manual_seed(seed)
    return gen


def hessian_top_eigenvalue(model: Any, loss_fn: Callable[[Any, Any], Any],
                           batches: Iterable[Any], max_hvps: int = 30, tol: float = 1e-3,
                           *, method: str = "lanczos", seed: int = 0,
                           cache_graphs: bool = True) -> SharpnessEstimate:
    """Estimate the largest eigenvalue ``L`` of the loss Hessian at the current parameters.

    Args:
        model: a ``torch.nn.Module`` (left exactly as it was: parameters, buffers,
            train/eval flags, ``.grad``, torch RNG state).
        loss_fn: ``(output, target) -> scalar`` mean loss.
        batches: a fixed, re-iterable set of ``(inputs, targets)`` batches (materialised
            once); the Hessian is that of the example-weighted mean loss over them.
        max_hvps: the budget of Hessian-vector products.
        tol: Lanczos stops when its error bar is below ``tol * |L|``; power iteration when
            two consecutive estimates differ by less than ``tol`` relative.
        method: ``"lanczos"`` (default: the algebraically largest eigenvalue, fast) or
            ``"power"`` (the eigenvalue of largest magnitude, PyHessian's method).
        seed: seed of the random start vector (a private generator: global RNG untouched).
        cache_graphs: reuse each batch's gradient graph across products.

    Returns:
        A :class:`SharpnessEstimate`; feed ``.value`` to :func:`lrkit.curvature.sgd_bounds`.

    Raises:
        ConfigError: bad arguments, no trainable parameters, or a non-finite loss/product.
    """
    run = _method(method)
    with measurement_mode(model):
        op = HessianOperator(model, loss_fn, batches, cache_graphs=cache_graphs)
        try:
            result = run(op.matvec, op.new_vector(_generator(op, seed)), max_iter=max_hvps,
                         tol=tol)
        finally:
            op.release()
    return _estimate(result, op, None)


def _estimate(result: EigenResult, op: HessianOperator,
              preconditioner: str | None) -> SharpnessEstimate:
    return SharpnessEstimate(
        value=result.value, error=result.error, hvps=op.hvps,
        grad_equivalents=op.grad_equivalents, examples=op.examples, method=result.method,
        converged=result.converged, history=result.history, preconditioner=preconditioner)


def _check_betas(beta1: float, beta2: float, eps: float) -> None:
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        check.fraction(name, beta, high_open=True, example="0.9")
    check.non_negative("eps", eps)
