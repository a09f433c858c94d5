"""One logged metric of one run, on a step axis, an epoch axis, or both.

A reader turns a log file into ``Curve`` objects; the detectors only ever see curves, so
a new log format needs a reader and nothing else. ``kind`` is the metric's role, guessed
from its name by :func:`classify` (``train/loss`` and ``loss`` are both ``train_loss``).

Epochs are *training progress*: 1.0 means one full epoch is done. A Keras row for
``epoch`` 0 is therefore at epoch 1.0, as is Hugging Face's ``"epoch": 1.0`` entry.

>>> c = Curve.of("val_loss", [1.0, 0.5, 0.4], epochs=[1, 2, 3])
>>> c.kind, c.axis, c.x.tolist()
('val_loss', 'epoch', [1.0, 2.0, 3.0])
>>> classify("lr-SGD"), classify("train/grad_norm"), classify("eval_accuracy")
('lr', 'grad_norm', 'val_accuracy')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["KINDS", "Curve", "classify"]

FloatArray = NDArray[np.float64]

#: The roles a metric can play; anything unrecognised is ``other``.
KINDS = ("train_loss", "val_loss", "lr", "grad_norm", "train_accuracy", "val_accuracy",
         "epoch", "other")

_VAL_WORDS = frozenset({"val", "valid", "validation", "eval", "evaluation", "test", "dev",
                        "holdout"})
_ACC_WORDS = frozenset({"acc", "accuracy", "top1", "top_1"})
_LOSS_WORDS = frozenset({"loss", "nll", "cross_entropy", "xent", "objective"})
# Names that describe a run (HF's summary entry) rather than trace a curve.
_SUMMARY_WORDS = frozenset({"runtime", "samples_per_second", "steps_per_second", "flos",
                            "total_flos"})


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t]


def classify(name: str) -> str:
    """The role of a metric from its logged name (one of :data:`KINDS`).

    Args:
        name: the name as logged, e.g. ``"lr-AdamW/pg1"``, ``"eval/loss"``,
            ``"train_loss_step"``, ``"validation/epoch_loss"``.

    >>> [classify(n) for n in ["loss", "train_loss_epoch", "valid/loss", "epoch_loss"]]
    ['train_loss', 'train_loss', 'val_loss', 'train_loss']
    >>> [classify(n) for n in ["learning_rate_adam", "lr-SGD-momentum", "train/epoch"]]
    ['lr', 'other', 'epoch']
    """
    tokens = _tokens(name)
    words = set(tokens)
    joined = "_".join(tokens)
    if not tokens or words & _SUMMARY_WORDS:
        return "other"
    if "momentum" in words or "beta1" in words or "weight_decay" in joined:
        return "other"
    if "lr" in words or "learning_rate" in joined:
        return "lr"
    if ("grad" in words or "gradient" in words or "grads" in words) and "norm" in joined:
        return "grad_norm"
    if words & {"epoch", "epochs"} and words <= {"epoch", "epochs", "train", "trainer"}:
        return "epoch"
    is_val = bool(words & _VAL_WORDS)
    if words & _LOSS_WORDS or "cross_entropy" in joined:
        return "val_loss" if is_val else "train_loss"
    if words & _ACC_WORDS:
        return "val_accuracy" if is_val else "train_accuracy"
    return "other"


def _array(values: ArrayLike | None, where: str) -> FloatArray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    return arr


@dataclass(frozen=True)
class Curve:
    """A metric's values over training, as one reader found them.

    Attributes:
        name: the metric's name as logged (``"train/loss"``, ``"lr-SGD"``).
        kind: its role, one of :data:`KINDS` (see :func:`classify`).
        values: the logged values, float64 (NaN and Inf kept: they are evidence).
        steps: the global update index of each value, or None when only epochs are known.
        epochs: training progress in epochs of each value (1.0 = one epoch done), or None.
        run: the run the curve belongs to (``""`` for a file holding one run).
        source: the reader that produced it (``"tensorboard"``, ``"keras"``, ...).
    """

    name: str
    kind: str
    values: FloatArray
    steps: FloatArray | None = None
    epochs: FloatArray | None = None
    run: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.steps is None and self.epochs is None:
            raise ValueError(f"curve {self.name!r}: needs steps or epochs")
        for axis in (self.steps, self.epochs):
            if axis is not None and len(axis) != len(self.values):
                raise ValueError(f"curve {self.name!r}: axis length {len(axis)} != "
                                 f"{len(self.values)} values")

    @classmethod
    def of(cls, name: str, values: ArrayLike, *, steps: ArrayLike | None = None,
           epochs: ArrayLike | None = None, kind: str | None = None, run: str = "",
           source: str = "", meta: dict[str, Any] | None = None) -> Curve:
        """Build a curve from plain sequences, sorted by its axis, kind guessed from the name.

        >>> Curve.of("loss", [3, 2, 1], steps=[20, 0, 10]).values.tolist()
        [2.0, 1.0, 3.0]
        """
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
        st = _array(steps, "steps")
        ep = _array(epochs, "epochs")
        key = st if st is not None else ep
        if key is not None and len(key) == len(vals) and len(vals) > 1:
            # A stable sort keeps repeated steps (a resumed run) in the order they were logged.
            order = np.argsort(key, kind="stable")
            if not np.array_equal(order, np.arange(len(order))):
                vals = vals[order]
                st = st[order] if st is not None else None
                ep = ep[order] if ep is not None and len(ep) == len(order) else ep
        return cls(name=name, kind=kind or classify(name), values=vals, steps=st, epochs=ep,
                   run=run, source=source, meta=dict(meta or {}))

    @property
    def axis(self) -> str:
        """``"step"`` when the curve has steps, else ``"epoch"``."""
        return "step" if self.steps is not None else "epoch"

    @property
    def x(self) -> FloatArray:
        """The curve's own axis: steps if known, else epochs."""
        x = self.steps if self.steps is not None else self.epochs
        assert x is not None  # guaranteed by __post_init__
        return x

    def __len__(self) -> int:
        return len(self.values)

    def to_dict(self) -> dict[str, Any]:
        """The curve as plain JSON-able data (NaN/Inf become None when dumped by the CLI)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "run": self.run,
            "source": self.source,
            "axis": self.axis,
            "steps": None if self.steps is None else self.steps.tolist(),
            "epochs": None if self.epochs is None else self.epochs.tolist(),
            "values": self.values.tolist(),
        }


def curves_of_kind(curves: Sequence[Curve], kind: str) -> list[Curve]:
    """The curves of one kind, longest first (ties: step axis before epoch axis)."""
    found = [c for c in curves if c.kind == kind]
    return sorted(found, key=lambda c: (-len(c), c.axis != "step", c.name))
