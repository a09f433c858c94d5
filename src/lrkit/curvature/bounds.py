"""Learning-rate bounds implied by the sharpness of the loss (pure arithmetic, no torch).

On a quadratic with largest Hessian eigenvalue ``L`` (the *sharpness*):

* **Gradient descent** is stable iff ``lr < 2 / L``; ``lr = 1 / L`` removes the sharpest
  direction in one step (the quadratic optimum for that direction).
* **Heavy-ball momentum** ``beta`` (``torch.optim.SGD`` with ``dampening=0``,
  ``nesterov=False``) is stable iff ``lr < (2 + 2 beta) / L``. The sharpest direction
  contracts at the best possible rate ``sqrt(beta)`` for every
  ``lr * L`` in ``[(1 - sqrt(beta))**2, (1 + sqrt(beta))**2]``; the largest such LR,
  ``(1 + sqrt(beta))**2 / L``, is Polyak's optimal heavy-ball step for the condition number
  that ``beta`` implies, and reduces to ``1 / L`` at ``beta = 0``.
* **Adam** (Cohen et al. 2022, "Adaptive Gradient Methods at the Edge of Stability",
  arXiv 2207.14484): with preconditioner ``P`` and ``lambda_1 = lambda_max(P^-1 H)``, Adam
  with a frozen preconditioner is EMA-momentum gradient descent on ``P^-1 H``, stable iff
  ``lambda_1 < (2 + 2 beta1) / ((1 - beta1) lr)``, i.e. ``lr < 38 / lambda_1`` at
  ``beta1 = 0.9``. The quadratic optimum is the heavy-ball one with the effective step
  ``lr (1 - beta1)``: ``(1 + sqrt(beta1))**2 / ((1 - beta1) lambda_1)``.

These are *local* statements at the point where ``L`` was measured: sharpness adapts to
the learning rate during training (progressive sharpening, edge of stability), so
``max_stable_lr`` at initialisation is a ceiling for the initial / warm-up LR, not the best
LR for the run.

>>> b = sgd_bounds(10.0)
>>> b.max_stable_lr, b.quadratic_optimal_lr
(0.2, 0.1)
>>> round(sgd_bounds(10.0, momentum=0.9).max_stable_lr, 6)
0.38
>>> round(adam_bounds(100.0, beta1=0.9).max_stable_lr, 6)
0.38
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lrkit.errors import ConfigError

__all__ = ["StabilityBounds", "adam_bounds", "compare_lr", "sgd_bounds"]


@dataclasses.dataclass(frozen=True)
class StabilityBounds:
    """Learning-rate ceiling and quadratic optimum for one optimizer at one sharpness.

    Attributes:
        optimizer: ``"sgd"`` (plain or heavy-ball momentum) or ``"adam"``.
        sharpness: ``L = lambda_max(H)`` for SGD, ``lambda_max(P^-1 H)`` for Adam.
        momentum: heavy-ball ``beta`` for SGD, ``beta1`` for Adam.
        max_stable_lr: the largest LR at which the sharpest direction does not grow.
        quadratic_optimal_lr: the largest LR with the fastest contraction of the sharpest
            direction (``1 / L`` without momentum; Polyak's heavy-ball step with it).
        optimal_range: ``(low, high)``: with momentum ``beta`` every LR in it contracts the
            sharpest direction at the best rate ``sqrt(beta)``; ``high`` is
            ``quadratic_optimal_lr`` and sits only ``(1 - sqrt(beta))**2 / L`` below the
            ceiling, so an estimation error in ``L`` matters there. Without momentum the
            range is the single point ``1 / L``.
        formula: the ceiling's formula, for display.
    """

    optimizer: str
    sharpness: float
    momentum: float
    max_stable_lr: float
    quadratic_optimal_lr: float
    optimal_range: tuple[float, float]
    formula: str

    def to_dict(self) -> dict[str, Any]:
        """The bounds as a JSON-ready dict."""
        return dataclasses.asdict(self)


def _check(sharpness: float, momentum: float, what: str) -> None:
    if not math.isfinite(sharpness):
        raise ConfigError(f"sharpness = {sharpness!r}: must be finite; "
                          "re-estimate it on batches where the loss is finite")
    if not 0.0 <= momentum < 1.0:
        raise ConfigError(f"{what} = {momentum!r}: must be in [0, 1); "
                          "pass the optimizer's momentum coefficient")


def _ceiling(numerator: float, sharpness: float) -> float:
    # A non-positive top eigenvalue means no direction is unstable: no finite ceiling.
    return numerator / sharpness if sharpness > 0 else math.inf


def sgd_bounds(sharpness: float, momentum: float = 0.0) -> StabilityBounds:
    """Bounds for SGD (heavy-ball momentum ``momentum``) at sharpness ``L``.

    Args:
        sharpness: the largest Hessian eigenvalue ``L``.
        momentum: heavy-ball coefficient in ``[0, 1)``; 0 is plain gradient descent.

    Returns:
        ``max_stable_lr = (2 + 2 momentum) / L`` and
        ``quadratic_optimal_lr = (1 + sqrt(momentum))**2 / L``
        (both ``inf`` when ``L <= 0``).

    Raises:
        ConfigError: ``sharpness`` is not finite or ``momentum`` is outside ``[0, 1)``.

    >>> sgd_bounds(4.0).to_dict()["max_stable_lr"]
    0.5
    """
    _check(sharpness, momentum, "momentum")
    root = math.sqrt(momentum)
    return StabilityBounds(
        optimizer="sgd", sharpness=float(sharpness), momentum=float(momentum),
        max_stable_lr=_ceiling(2.0 + 2.0 * momentum, sharpness),
        quadratic_optimal_lr=_ceiling((1.0 + root) ** 2, sharpness),
        optimal_range=(_ceiling((1.0 - root) ** 2, sharpness),
                       _ceiling((1.0 + root) ** 2, sharpness)),
        formula="(2 + 2*momentum) / L" if momentum else "2 / L",
    )


def adam_bounds(preconditioned_sharpness: float, beta1: float = 0.9) -> StabilityBounds:
    """Bounds for Adam at preconditioned sharpness ``lambda_1 = lambda_max(P^-1 H)``.

    Args:
        preconditioned_sharpness: ``lambda_1`` (see
            :func:`lrkit.curvature.preconditioned_top_eigenvalue`).
        beta1: Adam's first-moment coefficient in ``[0, 1)``.

    Returns:
        ``max_stable_lr = (2 + 2 beta1) / ((1 - beta1) lambda_1)`` (Cohen et al. 2022) and
        ``quadratic_optimal_lr = (1 + sqrt(beta1))**2 / ((1 - beta1) lambda_1)``.

    Raises:
        ConfigError: the sharpness is not finite or ``beta1`` is outside ``[0, 1)``.

    >>> adam_bounds(38.0).max_stable_lr
    1.0
    """
    _check(preconditioned_sharpness, beta1, "beta1")
    lam = preconditioned_sharpness * (1.0 - beta1)
    root = math.sqrt(beta1)
    return StabilityBounds(
        optimizer="adam", sharpness=float(preconditioned_sharpness), momentum=float(beta1),
        max_stable_lr=_ceiling(2.0 + 2.0 * beta1, lam),
        quadratic_optimal_lr=_ceiling((1.0 + root) ** 2, lam),
        optimal_range=(_ceiling((1.0 - root) ** 2, lam), _ceiling((1.0 + root) ** 2, lam)),
        formula="(2 + 2*beta1) / ((1 - beta1) * lambda_1(P^-1 H))",
    )


def compare_lr(lr: float, bounds: StabilityBounds) -> dict[str, Any]:
    """How a candidate learning rate sits against the bounds.

    Returns a dict with ``lr``, ``ratio_to_max_stable`` (``lr / max_stable_lr``),
    ``ratio_to_quadratic_optimal`` and a one-word ``verdict``: ``"stable"`` (below the
    ceiling), ``"edge"`` (within 10% of it) or ``"unstable"`` (above it).

    Raises:
        ConfigError: ``lr`` is not a positive finite number.

    >>> compare_lr(0.1, sgd_bounds(10.0))["verdict"]
    'stable'
    >>> compare_lr(0.3, sgd_bounds(10.0))["verdict"]
    'unstable'
    """
    if not (math.isfinite(lr) and lr > 0):
        raise ConfigError(f"lr = {lr!r}: must be a positive finite number; pass e.g. 0.01")
    ratio = lr / bounds.max_stable_lr
    verdict = "unstable" if ratio > 1.0 else "edge" if ratio > 0.9 else "stable"
    return {"lr": float(lr), "ratio_to_max_stable": ratio,
            "ratio_to_quadratic_optimal": lr / bounds.quadratic_optimal_lr, "verdict": verdict}
