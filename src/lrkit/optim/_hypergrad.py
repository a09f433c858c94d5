"""Shared machinery of the hypergradient optimizers: one global LR, updated once per step.

Every update of the hypergradient optimizers has the form ``theta_t = theta_{t-1} - lr_g *
d_t`` where ``d_t`` is the optimizer's direction (gradient, momentum buffer, Adam's
``m_hat / (sqrt(v_hat) + eps)``, plus decoupled weight decay) and ``lr_g`` the LR of the
parameter's group. The groups' LRs are tied to one global LR ``alpha`` by the ratios they
had at construction, ``lr_g = alpha * r_g`` (``r_g = lr_g / max_g lr_g``), so discriminative
LRs keep their ratios while ``alpha`` adapts.

The derivative of the loss after the last step with respect to ``alpha`` is
``-sum_g r_g <grad_t, d_{t-1}>_g`` over *all* parameters: one hypergradient per step,
accumulated before ``alpha`` changes (the reference implementation updates the LR once
per tensor inside a step, so the order of tensors changes the result; this one does not).

* additive rule (Baydin et al. 2018): ``alpha <- alpha + beta * h``,
  ``h = sum_g r_g <g_t, d_{t-1}>_g``;
* multiplicative rule (``multiplicative=True``): ``alpha <- alpha * (1 + beta * cos)``,
  ``cos = h / (||g_t|| * ||r d_{t-1}||)``, the normalised rule that makes ``beta``
  dimensionless and the update invariant to the scale of the loss.

Safeguards: ``alpha`` is clipped to ``lr_range`` after each update, and a non-finite
hypergradient leaves ``alpha`` unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.errors import ConfigError

require("torch", extra="torch")  # fail with the pip line, not a bare ImportError
import torch  # noqa: E402  (a real import: the optimizers subclass torch.optim.Optimizer)

__all__ = ["HypergradientOptimizer"]

_PREV = "hd_prev_direction"


def _total(parts: list[Any]) -> float:
    """Sum of 0-d tensors (possibly on several devices) as one Python float."""
    if not parts:
        return 0.0
    device = parts[0].device
    return float(torch.stack([t.to(device) for t in parts]).sum())


class HypergradientOptimizer(torch.optim.Optimizer):
    """Base class: the global LR, its hypergradient update, safeguards and the LR trace.

    Subclasses implement ``_apply(group, p, grad)``, returning a callable that performs
    the step for ``p`` and returns ``d_t``; ``grad`` is ``g_t``, the gradient used in the
    hypergradient, with weight decay added unless ``_decouples_weight_decay(group)``.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any], *, hypergrad_lr: float,
                 multiplicative: bool, lr_range: tuple[float, float]) -> None:
        check.non_negative("hypergrad_lr", hypergrad_lr)
        low, high = lr_range
        if not (0.0 <= low <= high) or math.isnan(high):
            raise ConfigError(f"lr_range = {lr_range!r}: must be (low, high) with "
                              "0 <= low <= high; pass e.g. (0.0, 1.0)")
        super().__init__(params, defaults)
        self.hypergrad_lr = float(hypergrad_lr)
        self.multiplicative = bool(multiplicative)
        self.lr_range = (float(low), float(high))
        lrs = [float(g["lr"]) for g in self.param_groups]
        for lr in lrs:
            check.learning_rate("lr", lr)
        top = max(lrs)
        for group, lr in zip(self.param_groups, lrs, strict=True):
            # All groups at lr=0 (HD can start from 0): they then share alpha equally.
            group.setdefault("hd_ratio", lr / top if top > 0 else 1.0)
        if multiplicative and top == 0:
            raise ConfigError("lr = 0 with multiplicative=True: a multiplicative rule cannot "
                              "leave 0; start from a small positive lr, e.g. 1e-4")
        self.lr_trace: list[float] = []
        self.hypergradient_trace: list[float] = []

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; after construction its ratio is its LR over the current global LR."""
        super().add_param_group(param_group)
        if hasattr(self, "lr_trace"):  # not during __init__, which sets the ratios itself
            group = self.param_groups[-1]
            alpha = self.lr
            group.setdefault("hd_ratio", float(group["lr"]) / alpha if alpha > 0 else 1.0)

    # -- the global LR -------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The current global LR ``alpha`` (the LR of the group with the largest ratio)."""
        for group in self.param_groups:
            if group["hd_ratio"] > 0:
                return float(group["lr"]) / float(group["hd_ratio"])
        return 0.0

    def _set_lr(self, alpha: float) -> None:
        for group in self.param_groups:
            group["lr"] = alpha * group["hd_ratio"]

    def _update_lr(self, dot: float, grad_sq: float, dir_sq: float) -> float:
        alpha = self.lr
        if self.multiplicative:
            denom = math.sqrt(grad_sq) * math.sqrt(dir_sq)
            h = dot / denom if denom > 0 else 0.0
            new = alpha * (1.0 + self.hypergrad_lr * h)
        else:
            h = dot
            new = alpha + self.hypergrad_lr * h
        self.hypergradient_trace.append(h)
        if not math.isfinite(new):
            return alpha  # safeguard: a NaN/inf hypergradient must not poison the LR
        return min(max(new, self.lr_range[0]), self.lr_range[1])

    # -- the step ------------------------------------------------------------------------
    def _apply(self, group: dict[str, Any], p: Any, grad: Any) -> Callable[[], Any]:
        raise NotImplementedError

    def _decouples_weight_decay(self, group: dict[str, Any]) -> bool:
        """True when weight decay acts on the weights directly (AdamW), not via ``g_t``."""
        return False

    def _gradient(self, group: dict[str, Any], p: Any) -> Any:
        """``g_t``: the gradient, plus coupled (L2) weight decay."""
        if group["weight_decay"] and not self._decouples_weight_decay(group):
            return p.grad.add(p, alpha=group["weight_decay"])
        return p.grad

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """Update the global LR from the hypergradient, then take one optimizer step.

        Args:
            closure: re-evaluates the model and returns the loss (optional).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        plans = []
        # Per-tensor partial sums stay on the device; one sync per step, not per tensor.
        dots: list[Any] = []
        grad_sqs: list[Any] = []
        dir_sqs: list[Any] = []
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            ratio = float(group["hd_ratio"])
            for p in params:
                grad = self._gradient(group, p)
                apply = self._apply(group, p, grad)
                prev = self.state[p].get(_PREV)
                if prev is not None:
                    dots.append(ratio * torch.sum(grad * prev))
                    if self.multiplicative:
                        grad_sqs.append(torch.sum(grad * grad))
                        dir_sqs.append(ratio * ratio * torch.sum(prev * prev))
                plans.append((p, apply))
        have_prev = bool(dots)
        dot, grad_sq, dir_sq = (_total(dots), _total(grad_sqs), _total(dir_sqs))
        if have_prev:
            self._set_lr(self._update_lr(dot, grad_sq, dir_sq))
        for p, apply in plans:
            self.state[p][_PREV] = apply()
        self.lr_trace.append(self.lr)
        return loss
