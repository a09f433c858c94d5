"""The sweep loop, independent of any framework: LRs in, losses out, and when to stop.

The runner calls ``step(lr)`` once per *real* optimizer update. ``step`` returns the
training loss of that update, or None when the update was skipped (an AMP overflow): the
LR then does not advance and nothing is recorded. The runner stops

* at once on a NaN or infinite loss;
* on divergence measured against the loss *range*: a running median of the last few
  losses exceeds ``L0 + diverge * max(L0 - Lmin, 3 * noise)``, where ``L0`` is the level at
  the start and ``Lmin`` the lowest running median so far. Unlike ``L > 4 * Lmin`` this works
  for negative losses and does not depend on the loss's offset or scale;
* after ``max_skipped`` consecutive skipped updates.

If the loss never diverged by ``end_lr``, the sweep continues at the same pace up to
``end_lr * extend`` (auto-extension), because a curve without its rising side gives no
reliable minimum.

>>> import math
>>> record = sweep(lambda lr: (math.log10(lr) + 2) ** 2, start_lr=1e-3, end_lr=1.0, steps=31)
>>> record.stop_reason, round(record.lrs[-1], 6) < 1.0
('diverged', True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from lrkit.errors import ConfigError

__all__ = ["SweepRecord", "check_sweep_args", "lr_at", "sweep"]

_MEDIAN_WINDOW = 5


@dataclasses.dataclass(frozen=True)
class SweepRecord:
    """What one sweep measured.

    Attributes:
        lrs: the LR (multiplier of the reference group) of each recorded update.
        losses: the raw training loss of each recorded update.
        val_lrs, val_losses: the validation probe, if any.
        stop_reason: ``diverged``, ``nonfinite``, ``completed`` (reached the end without
            diverging, extension included), ``skipped`` (too many AMP-skipped updates).
        updates: optimizer updates performed (recorded ones).
        skipped: updates skipped by the AMP scaler.
        extended: True when the sweep went past ``end_lr``.
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    val_lrs: tuple[float, ...] = ()
    val_losses: tuple[float, ...] = ()
    stop_reason: str = "completed"
    updates: int = 0
    skipped: int = 0
    extended: bool = False


def check_sweep_args(start_lr: float, end_lr: float, steps: int, mode: str) -> None:
    """Raise ConfigError unless ``0 < start_lr < end_lr``, ``steps >= 5`` and a known mode."""
    for name, v in (("start_lr", start_lr), ("end_lr", end_lr)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise ConfigError(f"{name} = {v!r}: must be a finite number > 0; pass e.g. 1e-7")
    if end_lr <= start_lr:
        raise ConfigError(f"end_lr = {end_lr!r}: must be greater than start_lr = {start_lr!r}; "
                          "raise end_lr (e.g. 10)")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 5:
        raise ConfigError(f"steps = {steps!r}: must be an integer >= 5; pass e.g. 100")
    if mode not in ("exp", "linear"):
        raise ConfigError(f"mode = {mode!r}: unknown sweep mode; use 'exp' or 'linear'")


def lr_at(i: int, start_lr: float, end_lr: float, steps: int, mode: str) -> float:
    """LR of update ``i`` (0-based; ``i >= steps`` continues the same progression).

    >>> lr_at(0, 1e-3, 1.0, 4, "exp"), lr_at(3, 1e-3, 1.0, 4, "exp")
    (0.001, 1.0)
    >>> lr_at(4, 0.0001, 1.0, 5, "linear")
    1.0
    """
    frac = i / (steps - 1)
    if mode == "exp":
        return float(start_lr * (end_lr / start_lr) ** frac)
    return float(start_lr + (end_lr - start_lr) * frac)


def sweep(step: Callable[[float], float | None], *, start_lr: float = 1e-7,
          end_lr: float = 10.0, steps: int = 100, mode: str = "exp", diverge: float = 2.0,
          extend: float = 100.0, max_skipped: int = 50,
          probe: Callable[[], float] | None = None, probe_every: int = 0,
          on_update: Callable[[int, int, float, float], None] | None = None) -> SweepRecord:
    """Sweep the LR from ``start_lr`` to ``end_lr`` over ``steps`` real updates.

    Args:
        step: performs one optimizer update at the given LR; returns its loss or None if
            the update was skipped.
        start_lr, end_lr, steps, mode: the sweep (``exp`` = geometric, ``linear``).
        diverge: stop when the loss rises ``diverge`` times its descent above the start
            level (``inf`` never stops on divergence).
        extend: if not diverged at ``end_lr``, continue up to ``end_lr * extend``
            (1 = no extension).
        max_skipped: stop after this many consecutive skipped updates.
        probe: returns a validation loss on fixed held-out batches; called every
            ``probe_every`` recorded updates (0 = never).
        on_update: progress callback ``(done, planned, lr, loss)``.

    Returns:
        The SweepRecord.
    """
    check_sweep_args(start_lr, end_lr, steps, mode)
    if not (diverge > 0):
        raise ConfigError(f"diverge = {diverge!r}: must be > 0; pass e.g. 2 (inf to disable)")
    if not (math.isfinite(extend) and extend >= 1):
        raise ConfigError(f"extend = {extend!r}: must be a finite number >= 1; "
                          "pass 1 to disable the auto-extension")
    planned = steps
    limit = end_lr * extend
    lrs: list[float] = []
    losses: list[float] = []
    val_lrs: list[float] = []
    val_losses: list[float] = []
    medians: list[float] = []
    skipped = consecutive = 0
    reason = "completed"
    i = 0
    while True:
        lr = lr_at(i, start_lr, end_lr, steps, mode)
        if i >= steps and lr > limit * (1 + 1e-12):
            break
        loss = step(lr)
        if loss is None:
            skipped += 1
            consecutive += 1
            if consecutive >= max_skipped:
                reason = "skipped"
                break
            continue
        consecutive = 0
        loss = float(loss)
        lrs.append(lr)
        losses.append(loss)
        i += 1
        if i > planned:
            planned = i  # extending: keep the progress total honest
        if on_update is not None:
            on_update(i, planned, lr, loss)
        if not math.isfinite(loss):
            reason = "nonfinite"
            break
        if probe is not None and probe_every > 0 and i % probe_every == 0:
            val_lrs.append(lr)
            val_losses.append(float(probe()))
        if _diverged(losses, medians, diverge):
            reason = "diverged"
            break
        if i == steps and extend > 1:
            # how many more steps the extension may take, for the progress total
            planned = steps + _extension_steps(start_lr, end_lr, steps, mode, limit)
    return SweepRecord(lrs=tuple(lrs), losses=tuple(losses), val_lrs=tuple(val_lrs),
                       val_losses=tuple(val_losses), stop_reason=reason, updates=len(lrs),
                       skipped=skipped, extended=len(lrs) > steps)


def _extension_steps(start_lr: float, end_lr: float, steps: int, mode: str,
                     limit: float) -> int:
    n = 0
    while lr_at(steps + n, start_lr, end_lr, steps, mode) <= limit * (1 + 1e-12):
        n += 1
    return n


def _diverged(losses: list[float], medians: list[float], factor: float) -> bool:
    """Update the running medians and test the range-relative divergence criterion."""
    window = losses[-_MEDIAN_WINDOW:]
    medians.append(float(np.median(window)))
    if len(losses) < 2 * _MEDIAN_WINDOW or not math.isfinite(factor):
        return False
    start = medians[_MEDIAN_WINDOW - 1]  # the first full-window median: the start level
    low = min(medians)
    diffs = np.diff(np.asarray(losses))
    noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2)
    return medians[-1] > start + factor * max(start - low, 3.0 * noise)
