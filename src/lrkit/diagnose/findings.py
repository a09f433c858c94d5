"""A finding: one problem a detector saw, with its evidence and what to change.

>>> f = Finding(kind="lr_too_low", severity="warning", title="loss still falling steadily",
...             evidence={"steps": [0, 100], "values": [2.3, 1.9]},
...             cause="the LR is too small", action="raise the LR to 0.03",
...             suggested_lr=0.03, lr_direction="raise")
>>> f.to_dict()["suggested_lr"], f.lr_related
(0.03, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SEVERITIES", "Finding"]

#: From worst to mildest. ``critical``: the run is broken; ``warning``: the LR or its
#: schedule is costing you; ``info``: an improvement worth trying.
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """What one detector found.

    Attributes:
        kind: the detector's name (``nan_loss``, ``explosion``, ``lr_too_low``, ...).
        severity: one of :data:`SEVERITIES`.
        title: one line saying what was seen.
        evidence: the numbers behind it: ``steps`` / ``values`` of the points that show it,
            and named measurements (ratios, slopes) used by the rule.
        cause: the likely cause, in one sentence.
        action: the concrete change to make, with numbers.
        suggested_lr: the corrected peak LR, computed from the run's own LR (None when the
            LR is not the problem or the log does not show it).
        suggested_schedule: an lrkit schedule spec to use instead, when the schedule is at
            fault (``"cosine(peak_lr=0.1,total_steps=5000)"``).
        lr_direction: ``"lower"`` / ``"raise"`` when the LR's value is the problem, else None.
        step: the update at which it starts (None when it has no onset).
    """

    kind: str
    severity: str
    title: str
    evidence: dict[str, Any]
    cause: str
    action: str
    suggested_lr: float | None = None
    suggested_schedule: str | None = None
    lr_direction: str | None = None
    step: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity = {self.severity!r}: use one of {SEVERITIES}")
        if self.lr_direction not in (None, "lower", "raise"):
            raise ValueError(f"lr_direction = {self.lr_direction!r}: use 'lower', 'raise' "
                             "or None")

    @property
    def lr_related(self) -> bool:
        """True when the finding is about the LR's value or schedule (not, e.g., overfitting)."""
        return self.lr_direction is not None or self.suggested_schedule is not None or \
            self.kind in _SCHEDULE_KINDS

    @property
    def rank(self) -> int:
        """Sort key: worst first."""
        return SEVERITIES.index(self.severity)

    def to_dict(self) -> dict[str, Any]:
        """The finding as the ``--json`` document writes it."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "evidence": self.evidence,
            "cause": self.cause,
            "action": self.action,
            "suggested_lr": self.suggested_lr,
            "suggested_schedule": self.suggested_schedule,
            "lr_direction": self.lr_direction,
            "step": self.step,
            "lr_related": self.lr_related,
        }


_SCHEDULE_KINDS = frozenset({"warmup_missing", "schedule_floor_early", "schedule_restart",
                             "schedule_unit_mixup", "plateau_no_decay"})
