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

from lrkit._check import INPUT as check
from lrkit.errors import ConfigError
from lrkit.usercode import first_loss_error

__all__ = ["Sweep", "SweepRecord", "check_stop_args", "check_sweep_args", "lr_at", "sweep"]

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
        check.positive(name, v, example="1e-7")
    if end_lr <= start_lr:
        raise ConfigError(f"end_lr = {end_lr!r}: must be greater than start_lr = {start_lr!r}; "
                          "raise end_lr (e.g. 10)")
    check.count("steps", steps, minimum=5, example="100", exact=True)
    if mode not in ("exp", "linear"):
        raise ConfigError(f"mode = {mode!r}: unknown sweep mode; use 'exp' or 'linear'")


def check_stop_args(diverge: float, extend: float) -> None:
    """Raise ConfigError unless ``diverge > 0`` and ``1 <= extend < inf``."""
    if not (diverge > 0):
        raise ConfigError(f"diverge = {diverge!r}: must be > 0; pass e.g. 2 (inf to "
                          "disable)")
    if not (math.isfinite(extend) and extend >= 1):
        raise ConfigError(f"extend = {extend!r}: must be a finite number >= 1; "
                          "pass 1 to disable the auto-extension")


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


class Sweep:
    """The sweep as a state machine, for frameworks that own the training loop.

    A callback-driven loop (Lightning, the Hugging Face Trainer, Keras ``fit``) cannot be
    called as ``step(lr)``; it asks ``lr`` before each update and hands the loss back with
    ``record``, which says when to stop. ``sweep`` drives the same object, so both paths
    stop, extend and record identically.

    >>> s = Sweep(start_lr=1e-3, end_lr=1.0, steps=31)
    >>> while not s.done:
    ...     _ = s.record((math.log10(s.lr) + 2) ** 2)
    >>> s.result().stop_reason
    'diverged'
    """

    def __init__(self, *, start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 100,
                 mode: str = "exp", diverge: float = 2.0, extend: float = 100.0,
                 max_skipped: int = 50) -> None:
        check_sweep_args(start_lr, end_lr, steps, mode)
        check_stop_args(diverge, extend)
        self.start_lr, self.end_lr, self.steps, self.mode = start_lr, end_lr, steps, mode
        self.diverge, self.extend, self.max_skipped = diverge, extend, max_skipped
        self.planned = steps
        self._limit = end_lr * extend
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.val_lrs: list[float] = []
        self.val_losses: list[float] = []
        self._medians: list[float] = []
        self.skipped = 0
        self._consecutive = 0
        self.reason = "completed"
        self.done = False
        self._check_end()

    @property
    def lr(self) -> float:
        """The LR of the next update."""
        return lr_at(len(self.lrs), self.start_lr, self.end_lr, self.steps, self.mode)

    @property
    def max_updates(self) -> int:
        """An upper bound on the recorded updates, extension included."""
        extra = _extension_steps(self.start_lr, self.end_lr, self.steps, self.mode,
                                 self._limit) if self.extend > 1 else 0
        return self.steps + extra

    def _check_end(self) -> None:
        if len(self.lrs) >= self.steps and self.lr > self._limit * (1 + 1e-12):
            self.done = True

    def record(self, loss: float | None) -> bool:
        """Record the loss of the update made at ``self.lr`` (None: it was skipped).

        Returns:
            True when the sweep is over (``done``).
        """
        if self.done:
            return True
        if loss is None:
            self.skipped += 1
            self._consecutive += 1
            if self._consecutive >= self.max_skipped:
                self.reason, self.done = "skipped", True
            return self.done
        self._consecutive = 0
        lr = self.lr
        loss = float(loss)
        self.lrs.append(lr)
        self.losses.append(loss)
        i = len(self.lrs)
        if i > self.planned:
            self.planned = i  # extending: keep the progress total honest
        if not math.isfinite(loss):
            self.reason, self.done = "nonfinite", True
            return True
        if _diverged(self.losses, self._medians, self.diverge):
            self.reason, self.done = "diverged", True
            return True
        if i == self.steps and self.extend > 1:
            # how many more steps the extension may take, for the progress total
            self.planned = self.max_updates
        self._check_end()
        return self.done

    def result(self) -> SweepRecord:
        """The SweepRecord of what was recorded so far."""
        return SweepRecord(lrs=tuple(self.lrs), losses=tuple(self.losses),
                           val_lrs=tuple(self.val_lrs), val_losses=tuple(self.val_losses),
                           stop_reason=self.reason, updates=len(self.lrs),
                           skipped=self.skipped, extended=len(self.lrs) > self.steps)


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
    state = Sweep(start_lr=start_lr, end_lr=end_lr, steps=steps, mode=mode, diverge=diverge,
                  extend=extend, max_skipped=max_skipped)
    while not state.done:
        lr = state.lr
        loss = step(lr)
        if loss is None:
            state.record(None)
            continue
        n = len(state.lrs)
        state.record(loss)
        i = len(state.lrs)
        if i == n:
            continue
        # the progress total as it stood before this update's extension bookkeeping
        planned = state.planned if i != steps else max(steps, i)
        if on_update is not None:
            on_update(i, planned, lr, float(loss))
        if state.reason == "nonfinite":
            if i == 1:
                raise first_loss_error(float(loss), lr)  # the model or loss, not the LR
            break
        if probe is not None and probe_every > 0 and i % probe_every == 0:
            state.val_lrs.append(lr)
            state.val_losses.append(float(probe()))
    return state.result()


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

