"""The live LR doctor: ``lrkit.diagnose``'s detectors run on a training run while it trains.

``Doctor.step(loss, lr)`` is called once per optimizer update (by your loop or by a
framework callback). It only appends to two lists; every so often it diagnoses the run
so far exactly as ``lrkit diagnose`` would (``diagnose_curves(curves, progress=...)``,
its entry point for a run in progress), and when it finds an LR problem it says so
**once** per kind, with the evidence and a corrected LR, through Python logging (logger
``lrkit.doctor``) and any ``on_finding`` hook (the framework callbacks log it to the
framework's logger too). ``finish()`` at the end of the run (the callbacks call it)
diagnoses the whole log once more, as ``lrkit diagnose`` will afterwards.

When to check is a time budget, not a fixed interval: after each check the next one is
placed so that the checks cost at most ``overhead`` (default 0.5%) of the time spent in
training steps, measured on the run itself (all checks together, from the start). A
non-finite loss is checked at once, and three losses in a row far above anything the
first ``min_points`` updates showed (above ``max + 2 * (max - min)`` of them) bring the
next check forward: an explosion is news now, not after the budget allows.

What it does on a finding (``mode``):

* ``"warn"`` (default): log it; the run goes on unchanged;
* ``"stop"``: log it and set ``should_stop`` (the callbacks stop the framework's loop);
* ``"act"``: log it and, when the finding says the LR is too high, multiply the LR by
  the advised factor (``suggested_lr / lr``) on the optimizer and its scheduler. A NaN
  loss cannot be fixed by a lower LR (the weights are already NaN): it stops instead.

A warning-level finding must be seen by two consecutive checks before it is reported (a
prefix of a curve can look like a problem the rest of the run explains away); a
critical one (NaN, explosion) is reported at once.

Under DDP (an initialised process group) every rank calls ``step`` for every update; at
a check the ranks average their losses with one all-reduce and agree on the next check
with a second, so all ranks see the same findings and act or stop together. Only rank 0
logs.

>>> import math
>>> doc = Doctor(min_points=20)
>>> for t in range(60):
...     _ = doc.step(2.0 * 0.8 ** t + 0.1 if t < 40 else 2.0 * 10 ** (t - 40), lr=0.5)
>>> [f.kind for f in doc.findings], doc.suggested_lr is not None
(['explosion'], True)
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lrkit._check import INPUT as check
from lrkit.diagnose.advice import fmt_lr
from lrkit.diagnose.curves import Curve
from lrkit.diagnose.diagnosis import Diagnosis, diagnose_curves
from lrkit.diagnose.findings import Finding
from lrkit.errors import ConfigError
from lrkit.integrations import _dist

__all__ = ["MODES", "Doctor", "describe"]

MODES = ("warn", "stop", "act")
IN_PROGRESS = 0.5  # the progress a check assumes when the run's total is unknown

log = logging.getLogger("lrkit.doctor")

# Never check more often than this many updates apart (besides a non-finite loss).
_MIN_GAP = 10


def describe(finding: Finding, step: int) -> str:
    """One line for people: what was seen, when, the evidence, the cause and the fix.

    >>> f = Finding(kind="lr_too_low", severity="warning", title="loss falling slowly",
    ...             evidence={"slope": -0.001}, cause="the LR is too small",
    ...             action="raise the LR to 0.03", suggested_lr=0.03, lr_direction="raise")
    >>> text = describe(f, 120)
    >>> text[:66]
    'lrkit doctor at update 120: loss falling slowly (lr_too_low; evide'
    >>> text[-58:]
    'LR is too small; raise the LR to 0.03 [corrected LR: 0.03]'
    """
    numbers = {k: v for k, v in finding.evidence.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    shown = ", ".join(f"{k}={v:.4g}" for k, v in list(numbers.items())[:4])
    text = f"lrkit doctor at update {step}: {finding.title} ({finding.kind}"
    text += f"; evidence: {shown})" if shown else ")"
    text += f". {finding.cause}; {finding.action}"
    if finding.suggested_lr is not None:
        text += f" [corrected LR: {fmt_lr(finding.suggested_lr)}]"
    return text


class Doctor:
    """Watch a run's loss and LR and report an LR problem once, while it trains.

    Args:
        mode: ``"warn"``, ``"stop"`` or ``"act"`` (see the module docs).
        optimizer: with ``mode="act"``, the torch optimizer whose LR is lowered (the
            framework callbacks pass their own); ``scheduler``: its LR scheduler, whose
            base LRs are lowered with it.
        overhead: the fraction of training time the checks may take (default 0.005).
        min_points: updates before the first check.
        model_kind: e.g. ``"transformer"`` (enables the missing-warmup check).
        steps_per_epoch: updates per epoch, when known (some detectors use epochs).
        total_steps: updates the run will make, when known: a check then tells diagnose
            how far the run is (a loss still falling at 25% of a run is expected); when
            not, a check judges the run as half done (``IN_PROGRESS``). The framework
            callbacks fill it in.
        on_finding: called as ``on_finding(finding, message)`` for each reported finding.
        kinds: report only these finding kinds (default: every LR-related kind).

    Raises:
        ConfigError: a bad option.
    """

    def __init__(self, mode: str = "warn", *, optimizer: Any = None, scheduler: Any = None,
                 overhead: float = 0.005, min_points: int = 30,
                 model_kind: str | None = None, steps_per_epoch: float | None = None,
                 total_steps: int | None = None,
                 on_finding: Callable[[Finding, str], None] | None = None,
                 kinds: tuple[str, ...] | None = None) -> None:
        if mode not in MODES:
            raise ConfigError(f"mode = {mode!r}: unknown doctor mode; use one of "
                              f"{', '.join(MODES)}")
        check.fraction("overhead", overhead, low_open=True, high_open=True,
                       example="0.005 (half a percent of the training time)")
        check.count("min_points", min_points, minimum=10, example="30", exact=True)
        if steps_per_epoch is not None:
            check.positive("steps_per_epoch", steps_per_epoch,
                           example="the updates per epoch, or leave it out")
        self.mode = mode
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.overhead = float(overhead)
        self.min_points = min_points
        self.model_kind = model_kind
        self.steps_per_epoch = steps_per_epoch
        if total_steps is not None:
            check.count("total_steps", total_steps, exact=True,
                        example="the updates of the run, or leave it out")
        self.total_steps = total_steps
        self.diagnosis: Diagnosis | None = None
        self.on_finding = on_finding
        self.kinds = kinds
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.should_stop = False
        self.checks = 0
        self.check_seconds = 0.0
        self._reported: dict[str, Finding] = {}
        #: the step at which each reported kind was reported
        self.reported_at: dict[str, int] = {}
        self._pending: set[str] = set()
        self._next = min_points
        self._started: float | None = None
        self._lr_factor = 1.0
        self._averaged = 0  # losses[:_averaged] are already the mean over ranks
        self._alarm = math.inf  # a loss above this brings the next check forward
        self._last = 0  # the update count at the last check
        self._armed = False
        self._above = 0
        self._ddp = False
        _warm_up()

    # ----------------------------------------------------------------- public state
    @property
    def findings(self) -> tuple[Finding, ...]:
        """The findings reported so far, in the order they were reported."""
        return tuple(self._reported.values())

    @property
    def suggested_lr(self) -> float | None:
        """The corrected LR of the first reported finding that has one."""
        return next((f.suggested_lr for f in self._reported.values()
                     if f.suggested_lr is not None and f.lr_direction is not None), None)

    def take_lr_factor(self) -> float:
        """The LR multiplier ``act`` asks for since the last call (1.0: none); resets it."""
        factor, self._lr_factor = self._lr_factor, 1.0
        return factor

    # ----------------------------------------------------------------- the hot path
    def step(self, loss: Any, lr: float | None = None, step: int | None = None) -> Finding | None:
        """Record one update's training loss and LR; check when it is time.

        Args:
            loss: the update's training loss (a float or a 0-d tensor).
            lr: the LR the update used (None when unknown: schedule checks are skipped).
            step: the update's index (default: one more than the last).

        Returns:
            The finding reported at this update, if any (each kind is reported once).
        """
        now = time.perf_counter()
        if self._started is None:
            self._started = now
            self._ddp = _dist.is_distributed()  # decided once: a run does not change it
        value = float(loss)
        self.steps.append(len(self.steps) if step is None else int(step))
        self.losses.append(value)
        self.lrs.append(math.nan if lr is None else float(lr))
        n = len(self.losses)
        # (under DDP the ranks must agree on when to check: they keep the schedule)
        # three losses in a row far above the start: an explosion, not a spike
        self._above = self._above + 1 if value > self._alarm else 0
        if self._above >= 3 and self._next > n + 1 and not self._ddp:
            self._next = max(n, self._last + _MIN_GAP)
        due = n >= self._next
        if not math.isfinite(value) and not self._ddp:
            due = True  # a broken run is reported now (under DDP ranks keep the schedule)
        return self._check(n, now) if due else None

    # ----------------------------------------------------------------- checking
    def _check(self, n: int, now: float) -> Finding | None:
        began = time.perf_counter()
        if self._ddp:
            self._average_losses()
        if n >= self.min_points and not self._armed:
            self._armed = True
            head = [v for v in self.losses[:self.min_points] if math.isfinite(v)]
            if head:
                self._alarm = max(head) + 2.0 * (max(head) - min(head))
        new = self._report(self.check())
        if {"explosion", "nan_loss"} & set(self._reported):
            self._alarm = math.inf  # reported: no more reason to hurry
        self._last = n
        spent = time.perf_counter() - began
        self.check_seconds += spent
        # training time per update so far, checks excluded
        assert self._started is not None
        per_step = max((now - self._started - (self.check_seconds - spent)) / max(n - 1, 1),
                       1e-9)
        # the next check comes when all the checks so far, and one more like this one,
        # stay within ``overhead`` of the training time up to it
        due_at = math.ceil((self.check_seconds + spent) / (self.overhead * per_step))
        gap = max(_MIN_GAP, due_at - n)
        if self._ddp:
            gap = int(_dist_max(gap))  # the slowest rank's budget decides for all
        self._next = n + gap
        return new

    def _average_losses(self) -> None:
        import torch
        import torch.distributed as dist

        fresh = torch.tensor(self.losses[self._averaged:], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            fresh = fresh.cuda()
        dist.all_reduce(fresh, op=dist.ReduceOp.SUM)
        mean = (fresh / dist.get_world_size()).cpu().tolist()
        self.losses[self._averaged:] = mean
        self._averaged = len(self.losses)

    def curves(self) -> list[Curve]:
        """The run so far as the curves ``lrkit diagnose`` would read from its log."""
        steps = np.asarray(self.steps, dtype=np.float64)
        epochs = None
        if self.steps_per_epoch:
            epochs = (steps + 1) / float(self.steps_per_epoch)
        out = [Curve.of("train_loss", self.losses, steps=steps, epochs=epochs,
                        source="lrkit-doctor")]
        lrs = np.asarray(self.lrs, dtype=np.float64)
        if np.isfinite(lrs).all():
            out.append(Curve.of("lr", lrs, steps=steps, source="lrkit-doctor"))
        return out

    def check(self, progress: float | None = None) -> tuple[Finding, ...]:
        """Diagnose the run so far now (no reporting); returns the findings.

        This is ``lrkit diagnose``'s own entry point for a run in progress
        (``diagnose_curves`` with ``progress = updates / total_steps`` when the total is
        known, ``IN_PROGRESS`` when not; ``finish`` passes 1), so a finding here is one
        ``lrkit diagnose`` makes on the same log at that progress.
        """
        self.checks += 1
        if progress is None:
            # a check during training sees a run in progress: with the total unknown it is
            # judged as half done (the verdict model was fitted on halves and wholes of
            # runs), so a loss still falling is not read as a run that never converged
            progress = IN_PROGRESS
            if self.total_steps:
                progress = min(1.0, len(self.losses) / float(self.total_steps))
        with np.errstate(all="ignore"):
            # the convergence projection (curve fits) is no part of a finding: skipped
            self.diagnosis = diagnose_curves(self.curves(), model_kind=self.model_kind,
                                             progress=progress, project=False)
        return self.diagnosis.findings

    def _wanted(self, f: Finding) -> bool:
        if self.kinds is not None:
            return f.kind in self.kinds
        return f.lr_related and f.severity != "info"

    def _report(self, findings: tuple[Finding, ...]) -> Finding | None:
        seen = {f.kind: f for f in findings if self._wanted(f)}
        first: Finding | None = None
        for kind, f in seen.items():
            if kind in self._reported:
                continue
            if f.severity != "critical" and kind not in self._pending:
                self._pending.add(kind)  # confirm on the next check
                continue
            self._reported[kind] = f
            self.reported_at[kind] = self.steps[-1]
            first = first or f
            self._handle(f)
        self._pending &= set(seen)
        return first

    def _handle(self, f: Finding) -> None:
        step = self.steps[-1] if self.steps else 0
        message = describe(f, step)
        if self.mode == "stop" or (self.mode == "act" and f.kind == "nan_loss"):
            self.should_stop = True
            message += " -> stopping the run"
        elif self.mode == "act" and f.lr_direction == "lower" and f.suggested_lr:
            lr = self.lrs[-1] if self.lrs and math.isfinite(self.lrs[-1]) else None
            if lr:
                factor = min(1.0, f.suggested_lr / lr)
                self._lr_factor *= factor
                message += f" -> LR multiplied by {factor:.3g}"
                if self.optimizer is not None:
                    scale_lr(self.optimizer, self.take_lr_factor(), self.scheduler)
        if _dist.rank() == 0:
            log.warning(message)
        if self.on_finding is not None:
            self.on_finding(f, message)

    def finish(self) -> tuple[Finding, ...]:
        """Diagnose the whole run once more at its end and report what is new.

        The framework callbacks call it when training ends; in a loop of your own, call it
        after the loop. It is the diagnosis ``lrkit diagnose`` makes of the finished log
        (``progress`` 1), so the doctor's last word and the post-hoc one are the same.
        Under DDP every rank must call it.
        """
        if not self.losses:
            return ()
        if self._ddp:
            self._average_losses()
        found = self.check(progress=1.0)  # the log is the whole run now
        before = set(self._reported)
        self._pending = {f.kind for f in found}  # no second look: the run is over
        self._report(found)
        return tuple(f for k, f in self._reported.items() if k not in before)

    # ----------------------------------------------------------------- output
    def write_csv(self, path: str | Path) -> Path:
        """Write ``step,loss,lr`` rows: the log ``lrkit diagnose`` reads afterwards."""
        p = Path(path)
        with p.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["step", "loss", "lr"])
            for s, loss, lr in zip(self.steps, self.losses, self.lrs, strict=True):
                w.writerow([s, repr(loss), "" if math.isnan(lr) else repr(lr)])
        return p


_WARM = False


def _warm_up() -> None:
    """Run the detectors once on a made-up curve, so that their one-off costs (scipy's
    import, ~0.3 s) fall on ``Doctor()``, not on a training step."""
    global _WARM
    if _WARM:
        return
    _WARM = True
    steps = np.arange(64.0)
    with np.errstate(all="ignore"):
        diagnose_curves([Curve.of("train_loss", 2.0 * 0.97 ** steps + 0.1, steps=steps),
                         Curve.of("lr", np.full(64, 0.1), steps=steps)], progress=0.5,
                        project=False)


def _dist_max(value: int) -> float:
    import torch
    import torch.distributed as dist

    t = torch.tensor([float(value)], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def scale_lr(optimizer: Any, factor: float, scheduler: Any = None) -> None:
    """Multiply every parameter group's LR by ``factor``, and the scheduler's base LRs.

    A torch scheduler recomputes the LR from ``base_lrs`` (and ``initial_lr``), so those
    scale too or the next ``scheduler.step()`` would undo the change.
    """
    if factor == 1.0:
        return
    for group in optimizer.param_groups:
        group["lr"] = group["lr"] * factor
        if "initial_lr" in group:
            group["initial_lr"] = group["initial_lr"] * factor
    if scheduler is not None and hasattr(scheduler, "base_lrs"):
        scheduler.base_lrs = [b * factor for b in scheduler.base_lrs]
