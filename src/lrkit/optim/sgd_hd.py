"""SGD-HD: SGD (optionally with momentum) whose global LR follows its hypergradient.

Baydin et al. 2018, "Online Learning Rate Adaptation with Hypergradient Descent"
(ICLR, arXiv 1703.04782). The step is exactly ``torch.optim.SGD``'s (momentum,
dampening, Nesterov, L2 weight decay); before it, the global LR moves by the hypergradient
``h_t = <g_t, d_{t-1}>`` summed over all parameters (see :mod:`lrkit.optim._hypergrad`).
With ``hypergrad_lr=0`` the trajectory equals ``torch.optim.SGD``'s.

>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([1.0]))
>>> opt = SGDHD([w], lr=0.01, hypergrad_lr=0.1)
>>> for _ in range(3):
...     opt.zero_grad(); (w ** 2).sum().backward(); opt.step()
>>> [round(x, 5) for x in opt.lr_trace]   # h_2 = 1.96 * 2, h_3 = 0.38416 * 1.96
[0.01, 0.402, 0.4773]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.optim._hypergrad import HypergradientOptimizer

torch = require("torch", extra="torch")

__all__ = ["SGDHD"]


class SGDHD(HypergradientOptimizer):
    """SGD with hypergradient descent on its global learning rate.

    Args:
        params: parameters or parameter groups (each group may set its own ``lr``,
            ``momentum``, ...; the groups' LR ratios are kept while the global LR adapts).
        lr: initial LR ``alpha_0`` (0 is allowed with the additive rule).
        momentum: heavy-ball coefficient, as in ``torch.optim.SGD``.
        dampening: momentum dampening, as in ``torch.optim.SGD``.
        weight_decay: L2 penalty coefficient, added to the gradient.
        nesterov: Nesterov momentum.
        hypergrad_lr: the hyper-LR ``beta``. Baydin et al. used ``1e-3`` with ``lr=1e-3``
            in their experiments (their constructor default, ``1e-6``, is 1000x smaller).
            With ``multiplicative=True`` it is dimensionless (e.g. ``0.02``).
        multiplicative: use the normalised multiplicative rule instead of the additive one.
        lr_range: ``(low, high)`` the global LR is clipped to after every update.

    Attributes:
        lr_trace: the global LR used by each step (append-only; plot it).
        hypergradient_trace: the hypergradient (or cosine, multiplicative) at each update.

    Raises:
        ConfigError: an argument is out of range.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 hypergrad_lr: float = 1e-3, multiplicative: bool = False,
                 lr_range: tuple[float, float] = (0.0, math.inf)) -> None:
        for name, value in (("momentum", momentum), ("weight_decay", weight_decay)):
            check.non_negative(name, value)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ConfigError(f"nesterov = True with momentum = {momentum}, dampening = "
                              f"{dampening}: needs momentum > 0 and dampening = 0")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov}
        super().__init__(params, defaults, hypergrad_lr=hypergrad_lr,
                         multiplicative=multiplicative, lr_range=lr_range)

    def _apply(self, group: dict[str, Any], p: Any, grad: Any) -> Callable[[], Any]:
        def apply() -> Any:
            momentum = group["momentum"]
            direction = grad
            if momentum:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = grad.detach().clone()
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
                direction = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
            p.add_(direction, alpha=-group["lr"])
            return direction.detach().clone()

        return apply
