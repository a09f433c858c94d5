"""The LR range test: a pure suggestion core, a framework-free runner and a torch adapter.

* ``suggest(lrs, losses, rule)`` and ``RULES``: suggestion rules over a raw curve
  (lrkit's own rules smooth after the sweep, zero-phase, in log-LR space);
* ``sweep(step, ...)``: the sweep loop with NaN/divergence stops and auto-extension;
* ``range_test(model, optimizer, loss_fn, loader, ...)``: on your own objects, restoring
  all state; ``find(task, ...)``: on an lrkit Task, with repeats and cost accounting;
* ``SweepSettings``: one sweep's settings, shared by ``find``, ``range_test`` and the torch
  sweep (each also takes them as keywords);
* ``RangeTestResult``: the frozen result (suggestion, range, confidence, flags, JSON, plot).
"""

from lrkit.rangetest.api import find, range_test
from lrkit.rangetest.result import RangeTestResult
from lrkit.rangetest.rules import RULES, Suggestion, analyse, suggest
from lrkit.rangetest.runner import SweepRecord, sweep
from lrkit.rangetest.schedule_map import peak_lr_for
from lrkit.rangetest.settings import SweepSettings
from lrkit.rangetest.smoothing import smooth
from lrkit.rangetest.state import Snapshot, checksum, preserved

__all__ = [
    "RULES",
    "RangeTestResult",
    "Snapshot",
    "Suggestion",
    "SweepRecord",
    "SweepSettings",
    "analyse",
    "checksum",
    "find",
    "peak_lr_for",
    "preserved",
    "range_test",
    "smooth",
    "suggest",
    "sweep",
]
