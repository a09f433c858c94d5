"""Batch-size scaling rules: how the LR (and Adam's betas and eps) follow the batch size.

A rule is a pure function ``(lr, kappa, params) -> Scaled`` where ``kappa`` is
``batch_size / base_batch_size`` and ``params`` holds the optimizer's moment parameters
(``beta1``, ``beta2``, ``eps``; any may be None). Rules are looked up in ``SCALING_RULES``.

>>> SCALING_RULES["linear"](0.1, 32.0, {}).lr
3.2
>>> s = SCALING_RULES["sqrt"](1e-3, 4.0, {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8})
>>> round(s.lr, 12), round(s.params["beta1"], 12), round(s.params["beta2"], 12), s.params["eps"]
(0.002, 0.6, 0.996, 5e-09)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

__all__ = ["SCALING_RULES", "Scaled", "linear", "none", "sqrt"]


@dataclasses.dataclass(frozen=True)
class Scaled:
    """The result of a scaling rule.

    Attributes:
        lr: The scaled learning rate.
        params: The optimizer parameters after scaling (same keys as given).
        text: The arithmetic, for the audit trail.
        warnings: Parts of the rule that could not be applied, and why.
    """

    lr: float
    params: dict[str, float | None]
    text: str
    warnings: tuple[str, ...] = ()


def linear(lr: float, kappa: float, params: Mapping[str, float | None]) -> Scaled:
    """Goyal et al. 2017 §2.1: multiply the LR by the batch ratio kappa."""
    out = lr * kappa
    return Scaled(out, dict(params), f"{lr:g} x {kappa:g} = {out:.6g}")


def sqrt(lr: float, kappa: float, params: Mapping[str, float | None]) -> Scaled:
    """Malladi et al. 2022 §4: lr * sqrt(kappa); 1 - beta -> kappa (1 - beta); eps / sqrt(kappa).

    A beta whose scaled value would leave [0, 1) is kept as it was, with a warning: the
    rule's momentum part only holds while kappa (1 - beta) < 1.
    """
    root = math.sqrt(kappa)
    out = lr * root
    new: dict[str, float | None] = dict(params)
    warnings: list[str] = []
    parts = [f"{lr:g} x sqrt({kappa:g}) = {out:.6g}"]
    for key in ("beta1", "beta2"):
        beta = params.get(key)
        if beta is None:
            continue
        scaled = 1.0 - kappa * (1.0 - beta)
        if 0.0 <= scaled < 1.0:
            new[key] = scaled
            parts.append(f"{key} 1 - {kappa:g} x (1 - {beta:g}) = {scaled:.6g}")
        else:
            warnings.append(f"square-root rule: {key} would become 1 - {kappa:g} x "
                            f"(1 - {beta:g}) = {scaled:.4g}, outside [0, 1); kept {beta:g} "
                            "(the rule's momentum mapping does not reach this batch ratio)")
    eps = params.get("eps")
    if eps is not None:
        new["eps"] = eps / root
        parts.append(f"eps {eps:g} / sqrt({kappa:g}) = {eps / root:.3g}")
    return Scaled(out, new, "; ".join(parts), tuple(warnings))


def none(lr: float, kappa: float, params: Mapping[str, float | None]) -> Scaled:
    """Keep the LR whatever the batch size."""
    return Scaled(lr, dict(params), f"{lr:g} (kept; batch ratio {kappa:g} ignored)")


SCALING_RULES: dict[str, Callable[[float, float, Mapping[str, float | None]], Scaled]] = {
    "linear": linear,
    "sqrt": sqrt,
    "none": none,
}
