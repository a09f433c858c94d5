"""One run's curves sorted by role, plus the measurements every detector needs.

``RunCurves`` is what a detector receives: the primary loss (``loss``, the curve the user
asked about), the validation loss, the LR and the gradient norm of one run, the run's own
peak LR, its updates per epoch, and the loss in "LR time" (the sum of the LRs used so
far), in which a schedule's decay does not look like convergence.

>>> from lrkit.diagnose.curves import Curve
>>> rc = RunCurves.build([Curve.of("loss", [2.0, 1.0, 0.5], steps=[0, 1, 2]),
...                       Curve.of("lr", [0.1, 0.1, 0.1], steps=[0, 1, 2])])
>>> rc.loss.name, rc.base_lr, rc.lr_at(1)
('loss', 0.1, 0.1)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np

from lrkit.diagnose.curves import Curve, curves_of_kind
from lrkit.diagnose.signals import FloatArray, odd_window, smooth
from lrkit.errors import ConfigError, DataError

__all__ = ["RunCurves", "split_runs"]

_LOSS_KINDS = ("train_loss", "val_loss")


def split_runs(curves: Sequence[Curve]) -> dict[str, list[Curve]]:
    """Group curves by run, keeping the order in which runs first appear."""
    runs: dict[str, list[Curve]] = {}
    for c in curves:
        runs.setdefault(c.run, []).append(c)
    return runs


def some_names(names: Iterable[str], limit: int = 12) -> str:
    """A few names (sorted, each clipped, quoted) for a message: the names come from an
    uploaded file and can be many and megabytes long.

    >>> some_names(["b", "a" * 100, "c"], limit=2)
    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...', 'b' and 1 more"
    """
    names = sorted(set(names))
    shown = [repr(n if len(n) <= 60 else n[:57] + "...") for n in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more


def _clip(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _some_names(curves: Sequence[Curve]) -> str:
    return some_names(c.name for c in curves).replace("'", "")


class RunCurves:
    """The curves of one run, by role, with derived measurements (computed once).

    Build it with :meth:`build`; detectors only read it.
    """

    def __init__(self, curves: Sequence[Curve], loss: Curve, *, run: str = "",
                 model_family: str | None = None, lr_override: float | None = None) -> None:
        self.curves = tuple(curves)
        self.run = run
        self.loss = loss
        self.model_family = model_family
        self.lr_override = lr_override
        trains = curves_of_kind(curves, "train_loss")
        self.train_loss = trains[0] if trains else None
        vals = curves_of_kind(curves, "val_loss")
        self.val_loss = next((v for v in vals if v is not loss), vals[0] if vals else None)
        lrs = curves_of_kind(curves, "lr")
        logged = [c for c in lrs if not c.meta.get("declared")]
        self.lr = logged[0] if logged else (lrs[0] if lrs else None)
        norms = curves_of_kind(curves, "grad_norm")
        self.grad_norm = norms[0] if norms else None

    @classmethod
    def build(cls, curves: Sequence[Curve], metric: str | None = None, *,
              model_family: str | None = None, lr: float | None = None) -> RunCurves:
        """Pick the primary loss (``metric`` by name or kind, else the train loss).

        Raises:
            ConfigError: ``metric`` names no curve of the run.
            DataError: the run has no loss curve at all.
        """
        if not curves:
            raise DataError("curves = []: the log holds no curves; log at least a loss")
        run = curves[0].run
        loss: Curve | None = None
        if metric is not None:
            named = [c for c in curves if c.name == metric]
            by_kind = curves_of_kind(curves, metric)
            if named:
                loss = max(named, key=len)
            elif by_kind:
                loss = by_kind[0]
            else:
                names = _some_names(curves)
                raise ConfigError(f"metric = {_clip(metric)!r}: no such curve in the log; "
                                  f"use one of {names} (or train_loss / val_loss)")
        else:
            for kind in _LOSS_KINDS:
                found = curves_of_kind(curves, kind)
                if found:
                    loss = found[0]
                    break
        if loss is None:
            names = _some_names(curves)
            raise DataError(f"metric = none found: the log has no loss curve (it has {names}); "
                            "pass --metric NAME to choose the curve to diagnose")
        family = model_family
        if family is None:
            family = next((c.meta["model_family"] for c in curves
                           if isinstance(c.meta.get("model_family"), str)), None)
        if lr is not None and not (math.isfinite(lr) and lr > 0):
            raise ConfigError(f"lr = {lr!r}: must be a finite number > 0; pass the run's "
                              "peak LR, e.g. 0.001")
        return cls(curves, loss, run=run, model_family=family, lr_override=lr)

    # ----------------------------------------------------------------- the loss
    @cached_property
    def finite_end(self) -> int:
        """Number of leading finite loss values (the index of the first NaN/Inf, or n)."""
        bad = np.flatnonzero(~np.isfinite(self.loss.values))
        return int(bad[0]) if bad.size else len(self.loss)

    @cached_property
    def x(self) -> FloatArray:
        """The primary loss's own axis (steps, or epochs), finite prefix only."""
        return self.loss.x[:self.finite_end]

    @cached_property
    def y(self) -> FloatArray:
        """The primary loss values up to the first non-finite one."""
        return self.loss.values[:self.finite_end]

    @cached_property
    def smooth_y(self) -> FloatArray:
        """``y`` through a rolling median over ~5% of the run (robust trend)."""
        return smooth(self.y, odd_window(len(self.y), 0.05))

    @property
    def per_step(self) -> bool:
        """True when the primary loss is logged often enough to show single updates' noise."""
        return len(self.y) >= 30

    # ----------------------------------------------------------------- the LR
    @cached_property
    def lr_points(self) -> tuple[FloatArray, FloatArray] | None:
        """(x, LRs) of the logged LR curve on the primary loss's axis, finite values only."""
        c = self.lr
        if c is None or c.meta.get("declared"):
            return None
        x = self.on_loss_axis(c)
        if x is None:
            return None
        ok = np.isfinite(c.values) & np.isfinite(x)
        if ok.sum() == 0:
            return None
        return x[ok], c.values[ok]

    def on_loss_axis(self, c: Curve) -> FloatArray | None:
        """A curve's positions on the primary loss's axis (steps or epochs), if known."""
        if self.loss.axis == "step":
            return c.steps if c.steps is not None else self._epochs_to_steps(c.epochs)
        return self.epochs_of(c)

    @cached_property
    def base_lr(self) -> float | None:
        """The run's peak LR: given, else the largest logged LR, else the configured one."""
        if self.lr_override is not None:
            return self.lr_override
        if self.lr is None:
            return None
        vals = self.lr.values[np.isfinite(self.lr.values) & (self.lr.values > 0)]
        return float(vals.max()) if vals.size else None

    @property
    def lr_known(self) -> bool:
        """True when the run's LR is known (logged, configured or given)."""
        return self.base_lr is not None

    def lr_at(self, step: float) -> float | None:
        """The LR in force at ``step`` (last logged value at or before it), or the peak."""
        pts = self.lr_points
        if pts is None:
            return self.base_lr
        xs, vs = pts
        i = int(np.searchsorted(xs, step, side="right")) - 1
        return float(vs[max(i, 0)])

    @cached_property
    def lr_constant(self) -> bool:
        """True when the LR never changed (or only its configured value is known)."""
        pts = self.lr_points
        if pts is None:
            return self.lr is not None or self.lr_override is not None
        vs = pts[1]
        return bool(vs.max() <= vs.min() * 1.05 + 1e-15)

    # ----------------------------------------------------------------- time axes
    @cached_property
    def steps_per_epoch(self) -> float | None:
        """Updates per epoch, from any curve that logs both a step and an epoch."""
        ratios = []
        for c in self.curves:
            if c.steps is None or c.epochs is None:
                continue
            ok = np.isfinite(c.steps) & np.isfinite(c.epochs) & (c.epochs >= 1.0)
            if ok.any():
                ratios.extend((c.steps[ok] / c.epochs[ok]).tolist())
        if not ratios:
            meta = self._meta_number("max_steps"), self._meta_number("num_train_epochs")
            if meta[0] and meta[1]:
                return meta[0] / meta[1]
            return self._spacing_of_validation()
        spe = float(np.median(ratios))
        return spe if spe >= 1.0 else None

    @property
    def steps_per_epoch_assumed(self) -> bool:
        """True when updates per epoch were inferred from the validation loss's spacing."""
        return self.steps_per_epoch is not None and self._spacing_of_validation() == \
            self.steps_per_epoch and not any(c.epochs is not None for c in self.curves)

    def _spacing_of_validation(self) -> float | None:
        """The step spacing of a validation loss logged at regular intervals (>= 3 times).

        Validation runs once an epoch by default in Lightning and Keras, so this is the
        best guess at updates per epoch when the log says nothing else.
        """
        val = self.val_loss
        if val is None or val.steps is None or len(val) < 3:
            return None
        gaps = np.diff(val.steps)
        if gaps.size == 0 or gaps.min() <= 0:
            return None
        med = float(np.median(gaps))
        return med if med >= 2 and float(np.abs(gaps - med).max()) <= 0.05 * med else None

    def _meta_number(self, key: str) -> float | None:
        for c in self.curves:
            v = c.meta.get(key)
            if isinstance(v, int | float) and v > 0:
                return float(v)
        return None

    def _epochs_to_steps(self, epochs: FloatArray | None) -> FloatArray | None:
        spe = self.steps_per_epoch
        if epochs is None or spe is None:
            return None
        return epochs * spe

    def epochs_of(self, c: Curve) -> FloatArray | None:
        """A curve's epochs: logged, or converted from its steps with ``steps_per_epoch``."""
        if c.epochs is not None:
            return c.epochs
        spe = self.steps_per_epoch
        if c.steps is not None and spe:
            return c.steps / spe
        return None

    @cached_property
    def tau(self) -> FloatArray:
        """LR time of each primary-loss point: the sum of the LRs of the updates before it.

        With a constant (or unknown) LR this is the step itself; with a schedule, the
        updates at a tiny LR count for little, as they do for the weights.
        """
        x = self.x
        pts = self.lr_points
        if pts is None or self.loss.axis != "step" or len(pts[0]) < 2:
            return x - (x[0] if len(x) else 0.0)
        xs, vs = pts
        grid_end = max(float(x[-1]) if len(x) else 0.0, float(xs[-1]))
        start = min(float(x[0]) if len(x) else 0.0, float(xs[0]))
        n = int(grid_end - start) + 1
        if n > 5_000_000:
            return x - x[0]
        grid = start + np.arange(n, dtype=np.float64)
        idx = np.clip(np.searchsorted(xs, grid, side="right") - 1, 0, len(vs) - 1)
        lr = vs[idx] / max(float(vs.max()), 1e-300)
        cum = np.concatenate([[0.0], np.cumsum(lr)])
        pos = np.clip((x - start).astype(np.int64), 0, n)
        return cum[pos] - cum[pos[0]]

    @property
    def run_steps(self) -> float:
        """The last step (or epoch) of the primary loss, finite or not."""
        return float(self.loss.x[-1]) if len(self.loss) else 0.0
