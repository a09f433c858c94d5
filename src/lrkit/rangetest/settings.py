"""The settings of one LR sweep, in one object shared by ``find``, ``range_test`` and the
torch sweep (``sweep_torch``).

Each of those still takes the settings as keywords (``find(task, steps=50)``); a
``SweepSettings`` passed as ``settings`` is the same thing kept in one value, and keywords
given beside it replace its fields.

>>> quick = SweepSettings(steps=30, end_lr=1.0)
>>> SweepSettings.of(quick, mode="linear").mode, quick.mode
('linear', 'exp')
>>> SweepSettings(steps=2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lrkit.errors.ConfigError: steps = 2: must be >= 5; pass e.g. 100
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from lrkit._check import INPUT as check
from lrkit.errors import ConfigError
from lrkit.rangetest.runner import check_stop_args, check_sweep_args

__all__ = ["SweepSettings"]


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """How one range-test sweep runs (the task, model and data are the caller's).

    Attributes:
        start_lr, end_lr, steps, mode: the LRs swept over ``steps`` updates (``exp`` is
            geometric, ``linear`` arithmetic).
        diverge: stop when the loss rises ``diverge`` times its descent above the start
            level (``inf`` never stops on divergence).
        extend: if not diverged at ``end_lr``, continue up to ``end_lr * extend``.
        max_skipped: stop after this many consecutive updates an AMP scaler skipped.
        accumulation_steps: micro-batches per optimizer update.
        val_every: probe the validation loss every this many updates (0 = off).
        val_batches: held-out batches the probe evaluates.

    Raises:
        ConfigError: a setting outside its range (checked when built).
    """

    start_lr: float = 1e-7
    end_lr: float = 10.0
    steps: int = 100
    mode: str = "exp"
    diverge: float = 2.0
    extend: float = 100.0
    max_skipped: int = 50
    accumulation_steps: int = 1
    val_every: int = 0
    val_batches: int = 4

    def __post_init__(self) -> None:
        check_sweep_args(self.start_lr, self.end_lr, self.steps, self.mode)
        check_stop_args(self.diverge, self.extend)
        check.count("accumulation_steps", self.accumulation_steps, exact=True,
                    example="4")
        if self.val_every:
            check.count("val_batches", self.val_batches, exact=True,
                        example="4")

    @classmethod
    def of(cls, settings: SweepSettings | None = None, /, **keywords: Any) -> SweepSettings:
        """``settings`` (default: the defaults) with ``keywords`` replacing its fields.

        Raises:
            TypeError: a keyword that is not a setting (as for any unknown keyword).
        """
        names = [f.name for f in dataclasses.fields(cls)]
        for key in keywords:
            if key not in names:
                hint = difflib.get_close_matches(key, names, n=1)
                raise TypeError(f"unexpected keyword argument {key!r}"
                                + (f"; did you mean {hint[0]!r}?" if hint else ""))
        base = settings if settings is not None else cls()
        return dataclasses.replace(base, **keywords) if keywords else base

    def stop_rules(self) -> dict[str, Any]:
        """The keywords of ``runner.sweep`` / ``runner.Sweep``: the LRs and when to stop."""
        return {"start_lr": self.start_lr, "end_lr": self.end_lr, "steps": self.steps,
                "mode": self.mode, "diverge": self.diverge, "extend": self.extend,
                "max_skipped": self.max_skipped}

    def framework_only(self, framework: str, accumulation: str) -> SweepSettings:
        """These settings, for a framework's own loop (Lightning, Transformers, Keras).

        The framework sets the gradient accumulation itself and has no validation probe:
        a ``settings`` asking for either is refused rather than silently ignored.

        >>> SweepSettings(accumulation_steps=2).framework_only("Keras", "the optimizer")
        Traceback (most recent call last):
        ...
        lrkit.errors.ConfigError: settings.accumulation_steps = 2: the Keras find takes the \
accumulation from the optimizer; leave it at 1
        """
        if self.accumulation_steps != 1:
            raise ConfigError(parameter="settings.accumulation_steps",
                              value=self.accumulation_steps,
                              rule=f"the {framework} find takes the accumulation from "
                                   f"{accumulation}", fix="leave it at 1")
        if self.val_every:
            raise ConfigError(parameter="settings.val_every", value=self.val_every,
                              rule=f"the {framework} find has no validation probe",
                              fix="leave it at 0")
        return self
