"""Top eigenvalue of a symmetric operator given only as a matrix-vector product.

Two methods on flat torch vectors, each counting its products:

* :func:`lanczos` — Lanczos with full reorthogonalisation (cheap at tens of iterations and
  it keeps the Krylov basis orthogonal in float32). It returns the largest Ritz value,
  which converges to the *algebraically* largest eigenvalue, with a residual bound.
* :func:`power_iteration` — repeated products with a Rayleigh-quotient estimate, stopped
  when the relative change drops below ``tol`` (PyHessian's rule). It converges to the
  eigenvalue of largest *magnitude* at the rate ``|lambda_2 / lambda_1|`` per product,
  so it is slow when the top of the spectrum is clustered.

>>> import torch
>>> A = torch.diag(torch.tensor([5.0, 2.0, 1.0, -1.0], dtype=torch.float64))
>>> r = lanczos(lambda v: A @ v, torch.ones(4, dtype=torch.float64), max_iter=10)
>>> round(r.value, 8), r.matvecs
(5.0, 4)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.errors import ConfigError

torch = require("torch", extra="torch")

__all__ = ["EigenResult", "lanczos", "power_iteration"]

MatVec = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class EigenResult:
    """An estimate of the top eigenvalue of a symmetric operator.

    Attributes:
        value: the estimate (Ritz value for Lanczos, Rayleigh quotient for power iteration).
        error: an error bar on ``value``. Lanczos: ``min(r, r**2 / gap)`` with ``r`` the
            residual norm and ``gap`` the distance to the next Ritz value (the second
            form is the usual a-posteriori estimate once the Ritz value has separated).
            Power iteration: the residual norm ``||A v - value v||``, which guarantees an
            eigenvalue of ``A`` within ``error`` of ``value``.
        residual: ``||A y - value y||`` for the unit Ritz / iterate vector ``y``; some
            eigenvalue lies within it of ``value``.
        matvecs: number of operator products used.
        converged: whether the stopping rule was met before ``max_iter``.
        method: ``"lanczos"`` or ``"power"``.
        history: the estimate after each product.
    """

    value: float
    error: float
    residual: float
    matvecs: int
    converged: bool
    method: str
    history: tuple[float, ...]


def _check_args(v0: Any, max_iter: int, tol: float) -> None:
    check.count("max_hvps", max_iter, example="30")
    check.non_negative("tol", tol)
    if v0.ndim != 1 or v0.numel() == 0:
        raise ConfigError(f"v0 shape = {tuple(v0.shape)}: must be a non-empty 1-D vector; "
                          "flatten the start vector")
    if not bool(torch.isfinite(v0).all()) or float(v0.norm()) == 0.0:
        raise ConfigError("v0: must be finite and non-zero; pass a random start vector")


def _finite(value: float, where: str) -> float:
    if not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r}: a Hessian-vector product is not finite; "
                          "check that the loss is finite on these batches")
    return value


def lanczos(matvec: MatVec, v0: Any, max_iter: int = 30, tol: float = 1e-3) -> EigenResult:
    """Largest eigenvalue of a symmetric operator by Lanczos with full reorthogonalisation.

    Args:
        matvec: ``v -> A v`` on 1-D tensors of the same shape, dtype and device as ``v0``.
        v0: the start vector (any non-zero vector; a random one avoids missing the top
            eigenvector by orthogonality).
        max_iter: maximum number of products (one per iteration).
        tol: stop when ``error <= tol * |value|``.

    Returns:
        An :class:`EigenResult`. In exact arithmetic ``value <= lambda_max`` (Ritz values
        interlace), so the estimate approaches the top eigenvalue from below.

    Raises:
        ConfigError: bad ``max_iter``/``tol``/``v0``, or a non-finite product.

    >>> import torch
    >>> A = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    >>> round(lanczos(lambda v: A @ v, torch.tensor([1.0, 0.0], dtype=torch.float64)).value, 6)
    3.0
    """
    _check_args(v0, max_iter, tol)
    n = v0.numel()
    steps = min(max_iter, n)  # a Krylov space cannot exceed the dimension
    basis = torch.zeros(steps + 1, n, dtype=v0.dtype, device=v0.device)
    basis[0] = v0 / v0.norm()
    alphas: list[float] = []
    betas: list[float] = []
    history: list[float] = []
    value = error = residual = math.nan
    converged = False
    for k in range(steps):
        w = matvec(basis[k])
        alpha = _finite(float(torch.dot(w, basis[k])), "v.Hv")
        alphas.append(alpha)
        # Full reorthogonalisation, twice ("twice is enough"): keeps the basis orthogonal
        # to working precision so no ghost copies of the top eigenvalue appear.
        for _ in range(2):
            w = w - basis[: k + 1].T @ (basis[: k + 1] @ w)
        beta = float(w.norm())
        ritz, vecs = np.linalg.eigh(_tridiagonal(alphas, betas))
        value = float(ritz[-1])
        residual = abs(beta * float(vecs[-1, -1]))
        gap = value - float(ritz[-2]) if k > 0 else 0.0
        # With one Ritz value there is no gap yet: only the residual bound holds.
        error = min(residual, residual * residual / gap) if gap > 0 else residual
        history.append(value)
        # An invariant subspace was found (beta ~ 0): the Ritz values are exact eigenvalues.
        breakdown = beta <= 1e-10 * max(abs(value), 1e-30) * math.sqrt(n)
        if breakdown or error <= tol * abs(value):
            converged = True
            break
        betas.append(beta)
        basis[k + 1] = w / beta
    else:
        converged = steps == n  # a full Krylov space is exact
    return EigenResult(value=value, error=error, residual=residual, matvecs=len(alphas),
                       converged=converged, method="lanczos", history=tuple(history))


def _tridiagonal(alphas: list[float], betas: list[float]) -> np.ndarray:
    k = len(alphas)
    t = np.diag(np.asarray(alphas, dtype=np.float64))
    if k > 1:
        off = np.asarray(betas[: k - 1], dtype=np.float64)
        t += np.diag(off, 1) + np.diag(off, -1)
    return t


def power_iteration(matvec: MatVec, v0: Any, max_iter: int = 30,
                    tol: float = 1e-3) -> EigenResult:
    """Dominant eigenvalue by power iteration with a relative-change stopping rule.

    Each product gives the Rayleigh quotient ``v . A v`` of the current unit vector; the
    loop stops when two consecutive quotients differ by less than ``tol`` relative to the
    newer one (after at least two products).

    Args:
        matvec: ``v -> A v`` on 1-D tensors like ``v0``.
        v0: the non-zero start vector.
        max_iter: maximum number of products.
        tol: relative-change tolerance.

    Returns:
        An :class:`EigenResult` whose ``value`` estimates the eigenvalue of largest
        magnitude (negative if a negative eigenvalue dominates).

    Raises:
        ConfigError: bad ``max_iter``/``tol``/``v0``, or a non-finite product.

    >>> import torch
    >>> A = torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64))
    >>> r = power_iteration(lambda v: A @ v, torch.ones(2, dtype=torch.float64), tol=1e-9)
    >>> round(r.value, 6), r.converged
    (3.0, True)
    """
    _check_args(v0, max_iter, tol)
    v = v0 / v0.norm()
    history: list[float] = []
    residual = math.nan
    converged = False
    for _ in range(max_iter):
        w = matvec(v)
        value = _finite(float(torch.dot(w, v)), "v.Hv")
        residual = float((w - value * v).norm())
        history.append(value)
        if len(history) > 1 and abs(value - history[-2]) <= tol * abs(value):
            converged = True
            break
        norm = float(w.norm())
        if norm == 0.0:  # v is in the null space: 0 is an eigenvalue and nothing dominates
            converged = True
            break
        v = w / norm
    return EigenResult(value=history[-1], error=residual, residual=residual,
                       matvecs=len(history), converged=converged, method="power",
                       history=tuple(history))
