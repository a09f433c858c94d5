"""Adam-HD: Adam whose global LR follows its hypergradient (Baydin et al. 2018).

The step is exactly ``torch.optim.Adam``'s (bias-corrected moments, ``eps`` outside the
square root, L2 weight decay) or, with ``decoupled_weight_decay=True``, AdamW's. Before
it, the global LR moves by ``h_t = <g_t, d_{t-1}>`` summed over all parameters, where
``d_{t-1} = m_hat_{t-1} / (sqrt(v_hat_{t-1}) + eps)`` (+ the decoupled decay term) is the
previous step's direction. With ``hypergrad_lr=0`` the trajectory equals torch's Adam.

>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> opt = AdamHD([w], lr=0.01, hypergrad_lr=1e-3)
>>> for _ in range(5):
...     opt.zero_grad(); (w ** 2).sum().backward(); opt.step()
>>> opt.lr > 0.01   # the gradient kept pointing the same way: the LR grew
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.optim._hypergrad import HypergradientOptimizer

torch = require("torch", extra="torch")

__all__ = ["AdamHD"]


class AdamHD(HypergradientOptimizer):
    """Adam (or AdamW) with hypergradient descent on its global learning rate.

    Args:
        params: parameters or parameter groups (the groups' LR ratios are kept).
        lr: initial LR ``alpha_0``.
        betas: ``(beta1, beta2)`` as in ``torch.optim.Adam``.
        eps: added to ``sqrt(v_hat)``.
        weight_decay: L2 coefficient (added to the gradient), or the decoupled decay rate.
        decoupled_weight_decay: AdamW-style decay ``theta <- theta - lr * wd * theta``.
        hypergrad_lr: the hyper-LR ``beta``; Baydin et al. used ``1e-7`` (logistic
            regression, MLP) and ``1e-8`` (VGG) with ``lr = 1e-3``. Dimensionless with
            ``multiplicative=True`` (e.g. ``0.02``).
        multiplicative: use the normalised multiplicative rule.
        lr_range: ``(low, high)`` the global LR is clipped to after every update.

    Attributes:
        lr_trace: the global LR used by each step.
        hypergradient_trace: the hypergradient (or cosine) at each update.

    Raises:
        ConfigError: an argument is out of range.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 hypergrad_lr: float = 1e-7, multiplicative: bool = False,
                 lr_range: tuple[float, float] = (0.0, math.inf)) -> None:
        for i, beta in enumerate(betas):
            check.fraction(f"betas[{i}]", beta, high_open=True, example="0.9")
        for name, value in (("eps", eps), ("weight_decay", weight_decay)):
            check.non_negative(name, value)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults, hypergrad_lr=hypergrad_lr,
                         multiplicative=multiplicative, lr_range=lr_range)

    def _decouples_weight_decay(self, group: dict[str, Any]) -> bool:
        return bool(group["decoupled_weight_decay"])

    def _apply(self, group: dict[str, Any], p: Any, grad: Any) -> Callable[[], Any]:
        def apply() -> Any:
            beta1, beta2 = group["betas"]
            state = self.state[p]
            if "step" not in state:
                # Same state keys as torch's Adam, so tools that read Adam state
                # (e.g. lrkit.curvature's preconditioner) work on Adam-HD too.
                state["step"] = torch.tensor(0.0)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] += 1
            t = float(state["step"])
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m.lerp_(grad, 1 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (v.sqrt() / math.sqrt(1 - beta2 ** t)).add_(group["eps"])
            direction = (m / (1 - beta1 ** t)) / denom
            if group["weight_decay"] and group["decoupled_weight_decay"]:
                direction = direction.add(p, alpha=group["weight_decay"])
            p.add_(direction, alpha=-group["lr"])
            return direction

        return apply
