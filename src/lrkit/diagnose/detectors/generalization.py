"""Train–validation divergence: overfitting, which a different LR will not fix."""

from __future__ import annotations

import numpy as np

from lrkit.diagnose.advice import fmt_num
from lrkit.diagnose.findings import Finding
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.signals import smooth

__all__ = ["OVERFIT_RISE", "detect_overfitting"]

#: The validation loss ends at least this fraction above its best value ...
OVERFIT_RISE = 0.1
#: ... and that best value came at least this many evaluations before the end.
OVERFIT_MIN_AFTER = 2


def _at(x_src: np.ndarray, y_src: np.ndarray, x: float) -> float:
    """The last value of (x_src, y_src) at or before x (or the first one)."""
    i = int(np.searchsorted(x_src, x, side="right")) - 1
    return float(y_src[max(i, 0)])


def detect_overfitting(rc: RunCurves) -> Finding | None:
    """Validation loss turns up while the training loss keeps falling."""
    val, train = rc.val_loss, rc.train_loss
    if val is None or train is None or (val is rc.loss and train is rc.loss):
        return None
    v = val.values
    ok = np.isfinite(v)
    if ok.sum() < 4 or not np.all(np.isfinite(train.values)):
        return None
    vx, v = val.x[ok], v[ok]
    vs = smooth(v, 3) if len(v) >= 7 else v
    i_best = int(np.argmin(vs))
    after = len(v) - 1 - i_best
    best, end = float(vs[i_best]), float(np.median(v[-2:]))
    start = float(v[0])
    rise = end - best
    if after < OVERFIT_MIN_AFTER or rise <= OVERFIT_RISE * max(abs(best), 1e-12) or \
            rise < 0.05 * max(start - best, 0.0):
        return None
    # The training loss must keep improving (or hold) over the same stretch; if it rises
    # too, the run is unstable, which the LR detectors report instead.
    if val.axis != train.axis:
        t_epochs, v_epochs = rc.epochs_of(train), rc.epochs_of(val)
        if t_epochs is None or v_epochs is None:
            return None
        tx, vxx = t_epochs, v_epochs[ok]
    else:
        tx, vxx = train.x, vx
    t_best = _at(tx, train.values, float(vxx[i_best]))
    t_end = _at(tx, train.values, float(vxx[-1]))
    if t_end > t_best * 1.02 + 1e-12:
        return None
    at = float(vx[i_best])
    unit = "epoch" if val.axis == "epoch" else "step"
    ev = {"steps": [float(s) for s in vx[-20:]], "values": [float(s) for s in v[-20:]],
          "best_val": best, "best_at": at, "end_val": end, "train_at_best": t_best,
          "train_at_end": t_end, "rise": rise}
    return Finding(
        kind="overfitting", severity="warning",
        title=f"validation loss rose from its best {fmt_num(best)} at {unit} {at:g} to "
              f"{fmt_num(end)} while the training loss kept falling "
              f"({fmt_num(t_best)} -> {fmt_num(t_end)})",
        evidence=ev,
        cause="the model is fitting the training set's noise (overfitting); this is not "
              "the learning rate",
        action=f"keep the LR; stop at {unit} {at:g} (early stopping with patience ~2 "
               "evaluations) and add regularisation (weight decay, dropout, augmentation) "
               "or more data",
        step=at)
