"""``Calculation``: the calculator's answer, with an audit trail of every rule it used.

(``lrkit.auto.Recommendation`` is auto's answer; the calculator's was also called
``Recommendation`` until two things shared one name: that name stays an alias here.)

``Calculation.to_dict()`` is the ``lrkit calc --json`` document and the web API's
answer: at least ``initial_lr, final_lr, decay_type, optimizer, warmup_steps,
estimated_convergence_epoch, rules, schedule: {step, lr}``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lrkit.errors import Surface, respell
from lrkit.rules.evidence import evidence
from lrkit.rules.inputs import CalcInput

__all__ = ["AppliedRule", "Calculation", "Recommendation"]


@dataclasses.dataclass(frozen=True)
class AppliedRule:
    """One rule as applied to this input.

    Attributes:
        id: Evidence id (``lrkit.rules.evidence(id)`` gives the full row).
        detail: What it did here, with the numbers ("0.1 x 32 = 3.2").
        values: The numbers it produced, by name.
    """

    id: str
    detail: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def title(self) -> str:
        """The rule's name from the evidence table."""
        return evidence(self.id).title

    @property
    def source(self) -> str:
        """The rule's source (paper and section) from the evidence table."""
        return evidence(self.id).source

    def line(self) -> str:
        """One human line: "detail (title, source)".

        >>> AppliedRule("scaling.linear", "0.1 x 32 = 3.2").line()
        '0.1 x 32 = 3.2 (Linear scaling rule; Goyal et al. 2017, "Accurate, Large Minibatch \
SGD", arXiv:1706.02677, §2.1)'
        """
        return f"{self.detail} ({self.title}; {self.source})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: id, title, source, scope, recipe, detail, values."""
        row = evidence(self.id)
        return {"id": self.id, "title": row.title, "source": row.source, "scope": row.scope,
                "recipe": row.recipe, "checked": row.checked, "detail": self.detail,
                "values": dict(self.values)}


@dataclasses.dataclass(frozen=True)
class Calculation:
    """The calculator's answer.

    Attributes:
        initial_lr: Peak LR (reached after the warmup).
        final_lr: LR at the end of training (None without a run length).
        decay_type: Schedule decay (cosine, step, ...).
        optimizer: Optimizer used for the numbers.
        optimizer_reason: Why that optimizer (or why another would be usual).
        optimizer_params: Momentum / betas / eps after any batch scaling.
        warmup_steps: Warmup length in updates (None when the steps per epoch are unknown).
        warmup_epochs: Warmup length in epochs, when known.
        total_steps, steps_per_epoch, epochs, batch_size: The run as understood.
        lr_range: Typical range for this optimizer, scaled like the LR.
        max_stable_lr: Curvature ceiling 2/L (or (2 + 2 beta)/L), when L is given.
        layer_lrs: Per-layer rates, bottom layer first, when ``layers`` is given.
        scaling_law: The law's numbers (lr, batch tokens, compute...), when one is used.
        estimated_convergence_epoch: See ``convergence``.
        estimated_convergence_step: Same, in updates.
        convergence: How the estimate was made: method, definition, detail.
        rules: Every rule applied, in order.
        warnings: Extrapolations, conflicts and ignored inputs, naming other inputs by
            their Python names (``warnings_for("cli")``: by their flags).
        schedule_spec: The schedule as an lrkit JSON spec (None without a run length).
        schedule_steps, schedule_lrs: The schedule sampled over the run (downsampled).
        inputs: The CalcInput this answers.
        flag_warnings: The warnings as written, other inputs named by their CLI flags (the
            form ``warnings_for`` respells; empty: ``warnings`` is the only form).
    """

    initial_lr: float
    final_lr: float | None
    decay_type: str
    optimizer: str
    optimizer_reason: str
    optimizer_params: dict[str, float]
    warmup_steps: int | None
    warmup_epochs: float | None
    total_steps: int | None
    steps_per_epoch: int | None
    epochs: float | None
    batch_size: int | None
    lr_range: tuple[float, float]
    max_stable_lr: float | None
    layer_lrs: tuple[float, ...] | None
    scaling_law: dict[str, Any] | None
    estimated_convergence_epoch: float | None
    estimated_convergence_step: int | None
    convergence: dict[str, Any]
    rules: tuple[AppliedRule, ...]
    warnings: tuple[str, ...]
    schedule_spec: dict[str, Any] | None
    schedule_steps: tuple[int, ...]
    schedule_lrs: tuple[float, ...]
    inputs: CalcInput
    flag_warnings: tuple[str, ...] = dataclasses.field(default=(), repr=False)

    def warnings_for(self, surface: Surface = "python") -> tuple[str, ...]:
        """The warnings with the inputs they name spelled as ``surface`` spells them, like
        the errors (``lrkit.errors``): ``batch_size`` from Python and the web, ``--batch-size``
        on the CLI.

        >>> from lrkit.rules import CalcInput, calculate
        >>> rec = calculate(CalcInput(epochs=10))
        >>> rec.warnings[0]
        'epochs needs steps_per_epoch or dataset_size to count updates'
        >>> rec.warnings_for("cli")[0]
        '--epochs needs --steps-per-epoch or --dataset-size to count updates'
        """
        return tuple(respell(w, surface) for w in self.flag_warnings or self.warnings)

    def to_dict(self, surface: Surface = "python") -> dict[str, Any]:
        """The ``--json`` document (NaN/inf never appear: missing values are None), with
        the warnings spelled for ``surface`` (see ``warnings_for``)."""
        return {
            "initial_lr": self.initial_lr,
            "final_lr": self.final_lr,
            "decay_type": self.decay_type,
            "optimizer": self.optimizer,
            "optimizer_reason": self.optimizer_reason,
            "optimizer_params": dict(self.optimizer_params),
            "warmup_steps": self.warmup_steps,
            "warmup_epochs": self.warmup_epochs,
            "total_steps": self.total_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr_range": list(self.lr_range),
            "max_stable_lr": self.max_stable_lr,
            "layer_lrs": None if self.layer_lrs is None else list(self.layer_lrs),
            "scaling_law": None if self.scaling_law is None else dict(self.scaling_law),
            "estimated_convergence_epoch": self.estimated_convergence_epoch,
            "estimated_convergence_step": self.estimated_convergence_step,
            "convergence": dict(self.convergence),
            "rules": [r.to_dict() for r in self.rules],
            "warnings": list(self.warnings_for(surface)),
            "schedule": {"step": list(self.schedule_steps), "lr": list(self.schedule_lrs),
                         "spec": self.schedule_spec},
            "inputs": self.inputs.to_dict(),
        }

    def summary(self) -> str:
        """A few plain lines: the LR, the schedule and the rules used.

        The CLI prints a richer version; this one suits logs and docstrings.
        """
        lines = [f"initial (peak) LR: {self.initial_lr:.4g}  [{self.optimizer}]"]
        if self.final_lr is not None:
            lines.append(f"final LR: {self.final_lr:.4g}  ({self.decay_type})")
        if self.warmup_steps is not None:
            lines.append(f"warmup: {self.warmup_steps} steps")
        elif self.warmup_epochs is not None:
            lines.append(f"warmup: {self.warmup_epochs:g} epochs")
        if self.estimated_convergence_epoch is not None and math.isfinite(
                self.estimated_convergence_epoch):
            lines.append(f"estimated convergence epoch: {self.estimated_convergence_epoch:.3g}")
        lines.extend(f"- {r.line()}" for r in self.rules)
        lines.extend(f"! {w}" for w in self.warnings)
        return "\n".join(lines)


# the older name, kept for callers of this round (lrkit.auto.Recommendation is auto's)
Recommendation = Calculation
