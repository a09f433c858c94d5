"""Curvature rules: the stability ceiling 2/L and the best fixed step 1/L.

L is the largest Hessian eigenvalue (or the smoothness constant). Heavy-ball momentum
beta moves the ceiling to (2 + 2 beta) / L. The bounds concern gradient descent on the raw
Hessian; they do not bound an adaptive optimizer's LR (its preconditioner changes the
curvature it sees).

>>> stability_ceiling(10.0), stability_ceiling(10.0, momentum=0.9), optimal_step(10.0)
(0.2, 0.38, 0.1)
"""

from __future__ import annotations

__all__ = ["optimal_step", "stability_ceiling"]


def stability_ceiling(lipschitz: float, momentum: float = 0.0) -> float:
    """Largest stable LR on a quadratic of curvature ``lipschitz``: (2 + 2 momentum) / L."""
    return (2.0 + 2.0 * momentum) / lipschitz


def optimal_step(lipschitz: float) -> float:
    """The step 1/L that maximises the guaranteed decrease of an L-smooth function."""
    return 1.0 / lipschitz
