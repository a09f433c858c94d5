"""Schedule shapes for ``compare``: named presets and any spec, at any run length.

A shape is a schedule without its height. ``compare`` trains each shape at its own best
peak LR, and the LR search (``auto``'s compressed runs, or a grid) trains it at other
lengths, so every length-dependent parameter is a *fraction of the run* here and becomes
a number of updates only when the run length is known (``Shape.build``).

The presets follow the calculator's decay recipes (docs/calculator.md, "Decay"):

==================  =====================================================================
name                schedule (T = updates of the run)
==================  =====================================================================
constant            the peak LR throughout
step                x0.1 at T/3, 2T/3 and 8T/9 (ResNet's epochs 30/60/80 of 90)
multistep           x0.316 at 0.8T and 0.9T (final 10%)
exponential         smooth exponential decay to 1% at T
time                time-based decay lr / (1 + 9 t / T) (Keras' ``decay``; 10% at T)
linear              linear decay to 0
cosine              cosine decay to 0
warmup+cosine       5% linear warmup from 0, then cosine to 0 (any ``warmup+NAME`` works)
onecycle            Smith's one-cycle (30% up from peak/25, cosine down to peak/25e4)
wsd                 warmup-stable-decay without warmup: hold, 1-sqrt decay over the last 20%
cyclic              triangular cycles between peak/10 and peak, 4 cycles
cosine_restarts     SGDR: cosine to 0, restarted 3 times (cycles of T/3)
==================  =====================================================================

Any other text is read as a schedule spec of a family with one LR parameter
(``"cosine(warmup_steps=0.1, end_lr=0)"``), as ``Task.schedule`` is.

>>> s = shape("step")
>>> s.build(1.0, 90).values(90)[[0, 29, 30, 60, 80]].round(4).tolist()
[1.0, 1.0, 0.1, 0.01, 0.001]
>>> shape("warmup+cosine").build(1.0, 100)(5)
1.0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from lrkit.errors import ConfigError
from lrkit.schedules import Schedule, parse_spec

__all__ = ["PRESETS", "WARMUP_FRACTION", "Shape", "shape", "split_list"]

# the warmup of ``warmup+NAME``: 5% of the run, the auto benchmark's warmup
WARMUP_FRACTION = 0.05


@dataclasses.dataclass(frozen=True)
class Shape:
    """A schedule shape: a family, fixed parameters, and parameters relative to the run.

    Attributes:
        name: the label in tables (``"cosine"``, ``"warmup+step"``, or the spec text).
        family: the schedule family (one with an LR parameter, ``lrkit.tasks.LR_PARAMETER``).
        fixed: parameters taken as they are.
        of_run: parameters given as a fraction of the run's updates (lists allowed).
        of_peak: parameters given as a multiple of the peak LR (``cyclic``'s ``base_lr``).
        warmup: warmup as a fraction of the run (0: none).
    """

    name: str
    family: str
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    of_run: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    of_peak: Mapping[str, float] = dataclasses.field(default_factory=dict)
    warmup: float = 0.0

    def spec(self, total_steps: int) -> dict[str, Any]:
        """The shape as a ``Task.schedule`` spec for a run of ``total_steps`` (no LR).

        >>> shape("wsd").spec(100)
        {'family': 'wsd', 'decay_shape': '1-sqrt', 'decay_steps': 20}
        """
        out: dict[str, Any] = {"family": self.family, **self.fixed}
        for key, value in self.of_run.items():
            out[key] = ([_updates(v, total_steps) for v in value] if isinstance(value, list)
                        else _updates(value, total_steps))
        if self.warmup > 0:
            # fill_schedule reads warmup_steps below 1 as a share of the run
            out["warmup_steps"] = float(self.warmup)
        return out

    def build(self, peak_lr: float, total_steps: int) -> Schedule:
        """The schedule at height ``peak_lr`` over ``total_steps`` updates."""
        from lrkit.tasks import fill_schedule

        spec = self.spec(total_steps)
        for key, ratio in self.of_peak.items():
            spec[key] = float(ratio) * float(peak_lr)
        return fill_schedule(spec, peak_lr, total_steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the name and the parameters (fractions as fractions)."""
        return {"name": self.name, "family": self.family, "fixed": dict(self.fixed),
                "of_run": dict(self.of_run), "of_peak": dict(self.of_peak),
                "warmup": self.warmup}


def _updates(fraction: float, total_steps: int) -> int:
    return max(1, round(float(fraction) * total_steps))


PRESETS: dict[str, Shape] = {s.name: s for s in (
    Shape("constant", "constant"),
    Shape("step", "multistep", fixed={"gamma": 0.1}, of_run={"milestones": [1 / 3, 2 / 3, 8 / 9]}),
    Shape("multistep", "multistep", fixed={"gamma": math.sqrt(0.1)},
          of_run={"milestones": [0.8, 0.9]}),
    # 0.01 ** (t / T): decay_steps = T and decay_rate 0.01 reach 1% at the end
    Shape("exponential", "exponential", fixed={"decay_rate": 0.01},
          of_run={"decay_steps": 1.0}),
    Shape("time", "inverse_time", fixed={"decay_rate": 9.0}, of_run={"decay_steps": 1.0}),
    Shape("linear", "polynomial", fixed={"power": 1.0}),
    Shape("cosine", "cosine"),
    Shape("onecycle", "onecycle"),
    Shape("wsd", "wsd", fixed={"decay_shape": "1-sqrt"}, of_run={"decay_steps": 0.2}),
    Shape("cyclic", "cyclic", fixed={"mode": "triangular"}, of_run={"step_size_up": 1 / 8},
          of_peak={"base_lr": 0.1}),
    Shape("cosine_restarts", "cosine_restarts", of_run={"cycle_steps": 1 / 3}),
)}


def shape(text: str) -> Shape:
    """The shape named or described by ``text`` (a preset, ``warmup+PRESET``, or a spec).

    Raises:
        ConfigError: an unknown name, or a spec of a family without one LR parameter.

    >>> shape("cosine(warmup_steps=0.1)").spec(50)
    {'family': 'cosine', 'warmup_steps': 0.1}
    """
    from lrkit.tasks import LR_PARAMETER

    if not isinstance(text, str) or not text.strip():
        raise ConfigError(parameter="schedules", value=text, rule="an entry is empty",
                          fix=f"name a schedule such as {', '.join(PRESETS)}")
    text = text.strip()
    if text in PRESETS:
        return PRESETS[text]
    if text.startswith("warmup+"):
        base = shape(text[len("warmup+"):])
        return dataclasses.replace(base, name=text, warmup=WARMUP_FRACTION)
    try:
        spec = parse_spec(text)
    except ConfigError:
        raise ConfigError(parameter="schedules", value=text,
                          rule="not a preset or a schedule spec",
                          fix=f"use one of {', '.join(PRESETS)}, warmup+NAME, or a spec such "
                              "as 'cosine(warmup_steps=0.1)'") from None
    family = spec.pop("family", None)
    if family not in LR_PARAMETER:
        raise ConfigError(parameter="schedules", value=text,
                          rule=f"{family!r} is not a preset nor a family with one LR parameter",
                          fix=f"use one of {', '.join(PRESETS)} or a spec such as "
                              "'cosine(warmup_steps=0.1)'")
    out = Shape(text, family, fixed=spec)
    out.build(1.0, 100)  # fail now on a bad parameter, not after the first runs
    return out


def split_list(text: str, name: str) -> list[str]:
    """Split a comma-separated list, keeping commas inside brackets (spec arguments).

    Raises:
        ConfigError: unbalanced brackets or an empty list.

    >>> split_list("constant, cosine(warmup_steps=0.1, end_lr=0), wsd", "schedules")
    ['constant', 'cosine(warmup_steps=0.1, end_lr=0)', 'wsd']
    """
    items: list[str] = []
    depth, current = 0, list[str]()
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                break
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise ConfigError(parameter=name, value=text, rule="unbalanced brackets",
                          fix="write e.g. 'constant,cosine(warmup_steps=0.1)'")
    items.append("".join(current).strip())
    items = [i for i in items if i]
    if not items:
        raise ConfigError(parameter=name, value=text, rule="empty",
                          fix="give a comma-separated list")
    return items
