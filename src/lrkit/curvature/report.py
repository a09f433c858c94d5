"""Sharpness of a :class:`lrkit.Task` and the LR bounds that apply to its optimizer.

``measure_task`` builds the task's model (seeded), optionally trains it for a few warm
steps, draws a fixed batch set from the training data, estimates ``L = lambda_max(H)``
and, for Adam-family optimizers, ``lambda_max(P^-1 H)``, and compares an LR suggestion
(e.g. a range test's) with the ceiling that applies. This is what ``lrkit sharpness``
prints.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.curvature.adam import preconditioned_top_eigenvalue
from lrkit.curvature.batches import fixed_batches
from lrkit.curvature.bounds import StabilityBounds, adam_bounds, compare_lr, sgd_bounds
from lrkit.curvature.estimate import SharpnessEstimate, hessian_top_eigenvalue
from lrkit.errors import ConfigError
from lrkit.tasks.data import loss_module
from lrkit.tasks.training import seeded_rng

torch = require("torch", extra="torch")

__all__ = ["SharpnessReport", "measure_task"]


@dataclasses.dataclass(frozen=True)
class SharpnessReport:
    """The sharpness of a task's model at one point and the bounds for its optimizer.

    Attributes:
        task: the task's name.
        optimizer: the optimizer class name.
        point: ``"initialisation"`` or ``"after K warm steps at lr X"``.
        sharpness: the estimate of ``L = lambda_max(H)``.
        sgd: SGD bounds at ``L`` (with the optimizer's momentum when it is SGD).
        preconditioned: Adam's ``lambda_max(P^-1 H)`` estimate, for Adam-family optimizers.
        adam: Adam bounds at the preconditioned sharpness, for Adam-family optimizers.
        applies: ``"sgd"`` or ``"adam"``: the bounds that describe the task's optimizer.
        comparison: ``compare_lr(lr_suggestion, applicable bounds)``, or None.
        examples: examples in the Hessian batch set.
        cost_grad_equivalents: all gradient-equivalents spent over the batch set
            (warm steps excluded).
        cost_runs: that cost in training-run equivalents, as everywhere in lrkit (0.25 is
            a quarter of one run of ``task.total_steps * task.batch_size`` examples); the
            ``--json`` document keeps its older key ``cost.training_runs`` for it.
    """

    task: str
    optimizer: str
    point: str
    sharpness: SharpnessEstimate
    sgd: StabilityBounds
    preconditioned: SharpnessEstimate | None
    adam: StabilityBounds | None
    applies: str
    comparison: dict[str, Any] | None
    examples: int
    cost_grad_equivalents: float
    cost_runs: float

    @property
    def bounds(self) -> StabilityBounds:
        """The bounds that describe the task's optimizer."""
        return self.adam if self.applies == "adam" and self.adam is not None else self.sgd

    def to_dict(self) -> dict[str, Any]:
        """The report as the JSON document of ``lrkit sharpness --json``."""
        return {
            "task": self.task, "optimizer": self.optimizer, "point": self.point,
            "sharpness": self.sharpness.to_dict(), "bounds": self.bounds.to_dict(),
            "sgd_bounds": self.sgd.to_dict(),
            "preconditioned_sharpness": (None if self.preconditioned is None
                                         else self.preconditioned.to_dict()),
            "adam_bounds": None if self.adam is None else self.adam.to_dict(),
            "applies": self.applies, "comparison": self.comparison,
            "cost": {"examples": self.examples, "grad_equivalents": self.cost_grad_equivalents,
                     "training_runs": self.cost_runs},
        }


def _warm_up(task: Any, model: Any, optimizer: Any, steps: int, seed: int) -> None:
    from lrkit.device import model_device
    from lrkit.tasks.data import epoch_batches, task_loss

    generator = torch.Generator().manual_seed(seed)
    device = model_device(model)
    model.train()
    done = 0
    while done < steps:
        for batch in epoch_batches(task.train_data, task.batch_size, generator):
            optimizer.zero_grad(set_to_none=True)
            loss = task_loss(task.loss_fn, getattr(task, "forward", None), model, batch,
                             device)
            if not math.isfinite(float(loss.detach())):
                raise ConfigError(parameter="warm_lr", value=optimizer.param_groups[0]["lr"],
                                  rule=f"the loss became non-finite at warm step {done}",
                                  fix="use a smaller LR")
            loss.backward()
            optimizer.step()
            done += 1
            if done >= steps:
                break


def measure_task(task: Any, *, n_batches: int = 8, batch_size: int | None = None,
                 warm_steps: int = 0, warm_lr: float | None = None,
                 lr_suggestion: float | None = None, method: str = "lanczos",
                 max_hvps: int = 30, tol: float = 1e-3, seed: int = 0) -> SharpnessReport:
    """Measure a task's sharpness at initialisation (or after warm steps) and its bounds.

    Args:
        task: an :class:`lrkit.Task`.
        n_batches: batches in the Hessian batch set.
        batch_size: their size (default: the task's).
        warm_steps: optimizer steps to take first, with the task's optimizer at
            ``warm_lr`` (0 = measure at initialisation).
        warm_lr: the LR of the warm steps (default: ``lr_suggestion``).
        lr_suggestion: an LR to compare with the ceiling (e.g. a range-test suggestion).
        method: ``"lanczos"`` or ``"power"``.
        max_hvps: HVP budget per estimate.
        tol: stopping tolerance.
        seed: seeds the model, the warm-step batch order and the batch set; torch's
            global RNG is restored afterwards.

    Returns:
        A :class:`SharpnessReport`.

    Raises:
        ConfigError: bad arguments, or warm steps without an LR.
    """
    for name, value in (("lr_suggestion", lr_suggestion), ("warm_lr", warm_lr)):
        if value is not None:
            check.positive(name, value, example="0.01")
    check.count("warm_steps", warm_steps, minimum=0, example="20", exact=True)
    warm_lr = warm_lr if warm_lr is not None else lr_suggestion
    if warm_steps and warm_lr is None:
        raise check.fail("warm_steps", warm_steps, "needs an LR for the warm steps",
                         "pass --warm-lr (or --lr-suggestion)")
    batch_size = task.batch_size if batch_size is None else batch_size
    with seeded_rng(seed):
        model = task.model()
        # The LR only matters for warm steps; the optimizer is built to learn its kind
        # (SGD momentum, Adam betas) and, after warm steps, to read its Adam state.
        optimizer = task.optimizer(model.parameters(), float(warm_lr or 1e-3))
        if warm_steps:
            _warm_up(task, model, optimizer, warm_steps, seed)
        # a task with a forward hook is measured through it (see loss_module)
        module, loss_fn, batches = loss_module(
            task.loss_fn, getattr(task, "forward", None), model,
            fixed_batches(task.train_data, batch_size, n_batches, seed=seed))
        est = hessian_top_eigenvalue(module, loss_fn, batches, max_hvps=max_hvps, tol=tol,
                                     method=method, seed=seed)
        group = optimizer.param_groups[0]
        is_adam = "betas" in group and "eps" in group
        momentum = 0.0 if is_adam else float(group.get("momentum", 0.0) or 0.0)
        pre = adam = None
        if is_adam:
            pre = preconditioned_top_eigenvalue(
                module, loss_fn, batches, optimizer if warm_steps else None,
                max_hvps=max_hvps, tol=tol, betas=tuple(group["betas"]), eps=group["eps"],
                method=method, seed=seed)
            adam = adam_bounds(pre.value, beta1=float(group["betas"][0]))
    sgd = sgd_bounds(est.value, momentum=momentum)
    applies = "adam" if is_adam else "sgd"
    chosen = adam if adam is not None else sgd
    cost = est.grad_equivalents + (pre.grad_equivalents if pre is not None else 0.0)
    examples = est.examples
    run_examples = task.total_steps * task.batch_size
    point = ("initialisation" if not warm_steps
             else f"after {warm_steps} warm steps at lr {warm_lr:g}")
    return SharpnessReport(
        task=task.name, optimizer=type(optimizer).__name__, point=point, sharpness=est,
        sgd=sgd, preconditioned=pre, adam=adam, applies=applies,
        comparison=None if lr_suggestion is None else compare_lr(lr_suggestion, chosen),
        examples=examples, cost_grad_equivalents=cost,
        cost_runs=cost * examples / run_examples)
