"""The registry of detectors: name -> ``(RunCurves) -> Finding | None``.

Every detector is a small pure function of one run's curves. ``diagnose`` runs them all;
a new one is added here under its finding kind and nothing else changes.

>>> sorted(DETECTORS)[:4]
['explosion', 'flat_loss', 'loss_spikes', 'lr_too_low']
"""

from __future__ import annotations

from collections.abc import Callable

from lrkit.diagnose.detectors.generalization import detect_overfitting
from lrkit.diagnose.detectors.instability import (
    detect_explosion,
    detect_nan,
    detect_oscillation,
    detect_spikes,
)
from lrkit.diagnose.detectors.progress import detect_flat, detect_plateau, detect_too_low
from lrkit.diagnose.detectors.schedule import (
    detect_floor_early,
    detect_restart,
    detect_unit_mixup,
    detect_warmup,
)
from lrkit.diagnose.findings import Finding
from lrkit.diagnose.run_curves import RunCurves

__all__ = ["DETECTORS", "LR_HIGH_KINDS", "LR_LOW_KINDS", "SUPERSEDES", "Detector"]

Detector = Callable[[RunCurves], Finding | None]

#: Every detector under the kind of finding it returns.
DETECTORS: dict[str, Detector] = {
    "nan_loss": detect_nan,
    "explosion": detect_explosion,
    "loss_spikes": detect_spikes,
    "oscillation": detect_oscillation,
    "lr_too_low": detect_too_low,
    "flat_loss": detect_flat,
    "plateau_no_decay": detect_plateau,
    "overfitting": detect_overfitting,
    "warmup_missing": detect_warmup,
    "schedule_floor_early": detect_floor_early,
    "schedule_restart": detect_restart,
    "schedule_unit_mixup": detect_unit_mixup,
}

#: Findings that say the LR's value is too high / too low (the verdict is built on them).
LR_HIGH_KINDS = frozenset({"nan_loss", "explosion", "loss_spikes", "oscillation", "lr_too_high"})
LR_LOW_KINDS = frozenset({"lr_too_low", "flat_loss"})

# Where two findings describe one problem, the first explains the second away.
SUPERSEDES: dict[str, frozenset[str]] = {
    "nan_loss": frozenset({"explosion", "loss_spikes", "oscillation", "lr_too_low",
                           "flat_loss", "plateau_no_decay", "overfitting"}),
    "explosion": frozenset({"loss_spikes", "oscillation", "lr_too_low", "flat_loss",
                            "plateau_no_decay", "overfitting"}),
    "flat_loss": frozenset({"lr_too_low", "plateau_no_decay", "oscillation"}),
    "oscillation": frozenset({"plateau_no_decay", "lr_too_low"}),
    "lr_too_low": frozenset({"plateau_no_decay"}),
    "schedule_unit_mixup": frozenset({"schedule_floor_early"}),
    # A falling training loss with a validation loss already past its best: more LR would
    # only overfit faster.
    "overfitting": frozenset({"lr_too_low", "plateau_no_decay"}),
}
