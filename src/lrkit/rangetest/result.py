"""``RangeTestResult``: the frozen outcome of a range test, with flags, confidence and JSON I/O.

The result keeps the raw curve of every repeat. ``suggestion`` is the median (in log
space) of the per-repeat suggestions of the chosen rule; ``spread_decades`` is their
max - min in decades. ``constant_lr`` is the LR for a constant schedule (= ``suggestion``);
``peak_lr`` is the peak LR for the task's own schedule, when one was given.

>>> import numpy as np
>>> lrs = np.logspace(-6, 0, 61)
>>> x = np.log10(lrs)
>>> losses = 1 - np.tanh(3 * (x + 3)) + np.exp(4 * (x + 1))
>>> res = RangeTestResult.from_curves([(lrs, losses)], stop_reasons=["diverged"])
>>> round(float(np.log10(res.suggestion)), 1), res.flags
(-2.7, ())
>>> RangeTestResult.from_dict(res.to_dict()) == res
True
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lrkit._io import read_input, write_atomic
from lrkit._json import jsonable
from lrkit.errors import DataError
from lrkit.rangetest.rules import RULES, SweepCurve, analyse, suggest

__all__ = [
    "FLAG_BOUNDARY",
    "FLAG_FLAT",
    "FLAG_NEVER_DIVERGED",
    "FLAG_NOISE_FLAT",
    "FLAG_NOISY",
    "FLAG_SKIPPED",
    "FLAG_TOO_FEW",
    "LOW_CONFIDENCE",
    "RangeTestResult",
    "curve_flags",
]

FLAG_NEVER_DIVERGED = "never diverged: raise end_lr"
FLAG_FLAT = "flat curve: the loss barely moved, as for a pretrained model"
FLAG_NOISE_FLAT = ("no clear descent: the loss fell by less than 3x its batch-to-batch noise, "
                   "so the minimum is mostly noise")
FLAG_BOUNDARY = "minimum at the boundary"
FLAG_NOISY = "too noisy"
FLAG_TOO_FEW = "too few points"
FLAG_SKIPPED = "stopped: too many AMP-skipped updates"

_FORMAT = "lrkit-rangetest/1"
# noise / depth above which a curve is "too noisy": the descent is then less than ~4
# noise widths, and the benchmark's noisiest task (diabetes-mlp) sits around 0.3-0.5.
_NOISY = 0.25
# noise / loss level above which a curve without a clear descent is noisy rather than flat:
# a pretrained model's loss barely moves and is steady (the flat fixture: 2%), a fresh
# model trained on small noisy batches jumps by 20% of its level (diabetes-mlp, batch 32)
_NOISE_LEVEL = 0.05
# below this confidence the suggestion is a rough guess (auto trusts a test from 0.5 up)
LOW_CONFIDENCE = 0.5


def curve_flags(curve: SweepCurve | None, stop_reason: str) -> list[str]:
    """The warnings one analysed curve deserves (see the FLAG_* constants)."""
    flags: list[str] = []
    if stop_reason == "skipped":
        flags.append(FLAG_SKIPPED)
    if curve is None:
        flags.append(FLAG_TOO_FEW)
        return flags
    if stop_reason not in ("diverged", "nonfinite") and curve.rise < max(curve.depth, 0) * 0.5:
        flags.append(FLAG_NEVER_DIVERGED)
    if curve.depth < 3.0 * curve.noise or curve.depth <= 0:
        start = float(np.median(np.abs(curve.losses[:max(3, len(curve.losses) // 10)])))
        noisy = start > 0 and curve.noise / start > _NOISE_LEVEL
        flags.append(FLAG_NOISE_FLAT if noisy else FLAG_FLAT)
    span = float(curve.x[-1] - curve.x[0])
    x_min = float(curve.x[curve.i_min])
    if curve.i_min in (0, len(curve.x) - 1) or x_min - curve.x[0] < 0.05 * span:
        flags.append(FLAG_BOUNDARY)
    if (curve.depth > 0 and curve.noise / curve.depth > _NOISY
            and not {FLAG_FLAT, FLAG_NOISE_FLAT} & set(flags)):
        flags.append(FLAG_NOISY)
    return flags


def _confidence(curves: list[SweepCurve | None], flags: Sequence[str], spread: float) -> float:
    """A score in [0, 1]: high for a deep, clean descent, a clear minimum and repeats that
    agree. It is a ranking aid, not a probability."""
    scores = []
    for c in curves:
        if c is None or c.depth <= 0:
            scores.append(0.0)
            continue
        scores.append(max(0.0, 1.0 - (c.noise / c.depth) / (2 * _NOISY)))
    score = float(np.median(scores)) if scores else 0.0
    for flag in (FLAG_NEVER_DIVERGED, FLAG_FLAT, FLAG_NOISE_FLAT, FLAG_BOUNDARY, FLAG_TOO_FEW,
                 FLAG_SKIPPED):
        if flag in flags:
            score *= 0.5
    if math.isfinite(spread):
        score *= max(0.0, 1.0 - spread / 2.0)  # two decades of disagreement -> 0
    return round(min(1.0, max(0.0, score)), 3)


def _log_median(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v) and v > 0]
    if not finite:
        return math.nan
    return float(10.0 ** np.median(np.log10(finite)))


def _floats(values: ArrayLike) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=np.float64).ravel())


@dataclasses.dataclass(frozen=True)
class RangeTestResult:
    """The outcome of a range test (one or several repeats).

    Attributes:
        lrs, losses: the raw curve of the first repeat (LR of parameter group 0).
        suggestion: the suggested LR for a constant schedule (group 0).
        range: (low, high) of reasonable LRs.
        confidence: 0..1, see ``_confidence``.
        flags: warnings (``FLAG_*``).
        rule: the rule behind ``suggestion``.
        rules: every rule's suggestion on the same curves (median over repeats), for
            comparison; ``valley``, ``slide`` and ``torch_lr_finder`` are
            re-implementations of fastai's and torch-lr-finder's rules.
        peak_lr: the peak LR for ``schedule`` (None without a task schedule).
        schedule: the task's schedule spec filled with ``peak_lr`` (None without one).
        curves: ``(lrs, losses)`` of every repeat.
        repeat_suggestions: the rule's suggestion on each repeat.
        spread_decades: max - min of ``log10(repeat_suggestions)`` (0 for one repeat).
        stop_reasons: why each repeat's sweep ended.
        group_ratios: LR of each parameter group relative to group 0 (kept by the sweep).
        val_lrs, val_losses: the validation probe of the first repeat, if any.
        updates: optimizer updates over all repeats; skipped: AMP-skipped updates.
        micro_batches: batches forwarded and back-propagated over all repeats.
        cost_runs: gradient work in training-run equivalents, as everywhere in lrkit (0.25
            is a quarter of one run of the task; None without a task): micro-batches (plus
            validation batches at 1/3) / the task's updates.
        settings: the sweep's arguments.
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    suggestion: float
    range: tuple[float, float]
    confidence: float
    flags: tuple[str, ...]
    rule: str = "lrkit"
    rules: Mapping[str, float] = dataclasses.field(default_factory=dict)
    peak_lr: float | None = None
    schedule: Mapping[str, Any] | None = None
    curves: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = ()
    repeat_suggestions: tuple[float, ...] = ()
    spread_decades: float = 0.0
    stop_reasons: tuple[str, ...] = ()
    group_ratios: tuple[float, ...] = (1.0,)
    val_lrs: tuple[float, ...] = ()
    val_losses: tuple[float, ...] = ()
    updates: int = 0
    skipped: int = 0
    micro_batches: int = 0
    cost_runs: float | None = None
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_curves(cls, curves: Sequence[tuple[ArrayLike, ArrayLike]], *,
                    stop_reasons: Sequence[str], rule: str = "lrkit",
                    **fields: Any) -> RangeTestResult:
        """Analyse the raw curves of one or more repeats and build the result.

        Args:
            curves: ``(lrs, raw_losses)`` per repeat.
            stop_reasons: the runner's stop reason per repeat.
            rule: the rule whose suggestion becomes ``suggestion``.
            **fields: any other field (peak_lr, group_ratios, updates, cost_runs, ...).
        """
        if rule not in RULES:
            suggest((), (), rule)  # raises the ConfigError naming the valid rules
        raw = [(_floats(lr), _floats(loss)) for lr, loss in curves]
        analysed = [analyse(lr, loss) for lr, loss in raw]
        picks = [suggest(lr, loss, rule) for lr, loss in raw]
        repeat = tuple(p.lr for p in picks)
        lr = _log_median(repeat)
        rng = (_log_median([p.low for p in picks]), _log_median([p.high for p in picks]))
        logs = [math.log10(v) for v in repeat if math.isfinite(v) and v > 0]
        spread = float(max(logs) - min(logs)) if len(logs) > 1 else 0.0
        per_curve = [curve_flags(c, s) for c, s in zip(analysed, stop_reasons, strict=True)]
        flags = [f for f in dict.fromkeys(f for fl in per_curve for f in fl)
                 if 2 * sum(f in fl for fl in per_curve) >= len(per_curve)]
        comparison = {name: _log_median([suggest(a, b, name).lr for a, b in raw])
                      for name in sorted(RULES)}
        return cls(lrs=raw[0][0], losses=raw[0][1], suggestion=lr, range=rng,
                   confidence=_confidence(analysed, flags, spread), flags=tuple(flags),
                   rule=rule, rules=comparison, curves=tuple(raw), repeat_suggestions=repeat,
                   spread_decades=round(spread, 6), stop_reasons=tuple(stop_reasons),
                   **fields)

    # ----------------------------------------------------------------- views
    @property
    def constant_lr(self) -> float:
        """The LR for a constant schedule (the same as ``suggestion``)."""
        return self.suggestion

    @property
    def group_lrs(self) -> tuple[float, ...]:
        """The suggested LR of every parameter group (ratios kept)."""
        return tuple(self.suggestion * r for r in self.group_ratios)

    def curve(self, repeat: int = 0) -> SweepCurve | None:
        """The smoothed analysis of one repeat's curve (None if too short)."""
        lrs, losses = self.curves[repeat] if self.curves else (self.lrs, self.losses)
        return analyse(lrs, losses)

    def low_confidence_note(self) -> str:
        """What a low confidence means here and what to do; '' when the test is confident.

        The flags that cost the confidence are named, and the advice follows them: more
        updates and repeats for a noisy descent, a wider sweep when it never diverged.
        """
        if self.confidence >= LOW_CONFIDENCE:
            return ""
        why = [f for f in self.flags if f != FLAG_NOISY] or list(self.flags)
        todo = ["--repeats 3 (shows how far the suggestion moves)", "--steps 300"]
        if FLAG_NEVER_DIVERGED in self.flags:
            todo.insert(0, "a larger --end-lr")
        if FLAG_NOISE_FLAT in self.flags or FLAG_NOISY in self.flags:
            todo.append("a larger batch size (less noise per update)")
        if FLAG_FLAT in self.flags:
            todo.append("a smaller --start-lr")
        reason = "; ".join(why) if why else "the repeats disagree"
        return (f"low confidence ({self.confidence:.2f}): the suggested LR is a rough guess. "
                f"Why: {reason}. Try: {', '.join(todo)}; or `lrkit auto`, which weighs a "
                "range test by its confidence")

    def summary(self) -> str:
        """A few readable lines: suggestion, range, schedule peak, confidence, flags."""
        lines = [self.low_confidence_note()] if self.confidence < LOW_CONFIDENCE else []
        lines += [f"suggested LR (constant schedule): {self.suggestion:.3g}",
                 f"reasonable range: {self.range[0]:.3g} .. {self.range[1]:.3g}"]
        if self.peak_lr is not None and self.schedule is not None:
            lines.append(f"peak LR for the task's {self.schedule.get('family')} schedule: "
                         f"{self.peak_lr:.3g}")
        if len(self.repeat_suggestions) > 1:
            lines.append(f"repeats: {len(self.repeat_suggestions)}, spread "
                         f"{self.spread_decades:.2f} decades")
        if len(self.group_ratios) > 1:
            lines.append("per parameter group: "
                         + ", ".join(f"{v:.3g}" for v in self.group_lrs))
        lines.append(f"confidence: {self.confidence:.2f}")
        if self.cost_runs is not None:
            lines.append(f"cost: {self.cost_runs:.2f} of one training run "
                         f"({self.updates} updates)")
        lines += [f"warning: {f}" for f in self.flags]
        return "\n".join(lines)

    # ----------------------------------------------------------------- I/O
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``suggested_lr``, ``range``, ``lrs``, ``losses``, ``flags`` are
        the documented keys (non-finite numbers become null)."""
        doc: dict[str, Any] = {"format": _FORMAT, "suggested_lr": self.suggestion}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "suggestion":
                continue
            doc[field.name] = value
        doc["range"] = list(self.range)
        return jsonable(doc)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RangeTestResult:
        """Rebuild a result from ``to_dict()`` output.

        Raises:
            DataError: a wrong ``format``, a missing required key or a malformed value.
        """
        if doc.get("format") != _FORMAT:
            raise DataError(f"range-test file format = {doc.get('format')!r}: expected "
                            f"{_FORMAT!r}; pass a file written by RangeTestResult.save")
        kwargs: dict[str, Any] = {}
        try:
            for field in dataclasses.fields(cls):
                key = "suggested_lr" if field.name == "suggestion" else field.name
                if key not in doc:
                    continue
                kwargs[field.name] = _from_json(field.name, doc[key])
            return cls(**kwargs)
        except (TypeError, ValueError, AttributeError, IndexError) as err:
            raise DataError(f"range-test document: malformed ({err}); pass a file written "
                            "by RangeTestResult.save") from None

    def save(self, path: str | Path) -> Path:
        """Write the result as JSON (atomically) and return the path."""
        write_atomic(path, json.dumps(self.to_dict(), indent=1, allow_nan=False))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> RangeTestResult:
        """Read a result written by ``save``.

        Raises:
            DataError: missing, unreadable or malformed file.
        """
        text = read_input(path, "path", flag="path")  # a FIFO or /dev/zero would block or never end
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise DataError(f"path = '{path}': not a range-test JSON file "
                            f"({str(err)[:80]}); pass a file written by "
                            "RangeTestResult.save") from None
        if not isinstance(doc, dict):
            raise DataError(f"path = '{path}': not a range-test JSON object")
        return cls.from_dict(doc)

    def plot(self, path: str | Path) -> Path:
        """Draw the raw and smoothed curves with the suggestion and range; save to ``path``."""
        from lrkit.report.rangetest_plot import plot_range_test

        return plot_range_test(self, path)


def _nan(v: Any) -> float:
    return math.nan if v is None else float(v)


def _from_json(name: str, value: Any) -> Any:
    if name in ("lrs", "losses", "val_lrs", "val_losses", "repeat_suggestions",
                "group_ratios"):
        return tuple(_nan(v) for v in value)
    if name == "range":
        return (_nan(value[0]), _nan(value[1]))
    if name in ("flags", "stop_reasons"):
        return tuple(str(v) for v in value)
    if name == "curves":
        return tuple((tuple(_nan(v) for v in a), tuple(_nan(v) for v in b)) for a, b in value)
    if name in ("suggestion", "confidence", "spread_decades"):
        return _nan(value)
    if name == "rules":
        return {str(k): _nan(v) for k, v in value.items()}
    return value
