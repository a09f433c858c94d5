"""``CalcInput``: everything the calculator can be told, validated on construction.

Field names equal the ``lrkit calc`` flags in snake_case (``base_batch_size`` is
``--base-batch-size``), so the CLI, the web form and the JSON API share one vocabulary.
Every field is optional; an invalid value raises ConfigError naming the flag, the value
and the fix, so an invalid CalcInput never exists.

>>> CalcInput(optimizer="SGD", base_lr=0.1, batch_size=8192, base_batch_size=256).optimizer
'sgd'
>>> CalcInput(batch_size=0)
Traceback (most recent call last):
...
lrkit.errors.ConfigError: batch_size = 0: must be >= 1; pass e.g. 256
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from lrkit._check import INPUT as check
from lrkit.rules.laws import LAWS
from lrkit.rules.optimizers import MODEL_KINDS, OPTIMIZERS
from lrkit.rules.scaling import SCALING_RULES
from lrkit.rules.schedule import DECAYS
from lrkit.rules.warmup import parse_warmup

__all__ = ["MAX_TOTAL_STEPS", "CalcInput"]

MAX_TOTAL_STEPS = 1_000_000_000

# optional float fields that must be > 0, and optional integer fields >= 1 (with examples)
_POSITIVE = {"model_params": "1e9", "base_lr": "0.1", "epochs": "90", "compute_flops": "1e20",
             "tokens": "2e12", "lipschitz": "10", "eps": "1e-8"}
_COUNTS = {"batch_size": "256", "base_batch_size": "256", "dataset_size": "50000",
           "steps_per_epoch": "500", "total_steps": "10000", "layers": "12",
           "n_layers": "30", "d_model": "4096", "seq_len": "4096"}
_FRACTIONS = ("layer_decay", "end_lr_ratio", "momentum", "beta1", "beta2")
# Upper bounds on sizes: far above any real run, and low enough that the work and the
# answer stay small (one LR per layer is listed; a schedule is sampled per step).
_MAXIMA = {"batch_size": 2**31, "base_batch_size": 2**31, "layers": 10_000,
           "steps_per_epoch": MAX_TOTAL_STEPS, "epochs": 10_000_000, "n_layers": 100_000,
           "d_model": 10_000_000, "seq_len": 100_000_000, "dataset_size": 10**15}


def _settle(obj: CalcInput, **values: Any) -> None:
    for name, value in values.items():
        object.__setattr__(obj, name, value)


@dataclasses.dataclass(frozen=True)
class CalcInput:
    """What the user knows before training. Every field is a ``lrkit calc`` flag.

    Attributes:
        optimizer: sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad, lamb, lars,
            lion, adafactor, or ``auto`` (chosen from ``model``).
        model: Model kind: cnn, resnet, mlp, rnn, linear, transformer, vit, llm.
        model_params: Number of parameters N (LLM laws; non-embedding for Step Law).
        base_lr: The LR a recipe used at ``base_batch_size`` (default: the optimizer's).
        batch_size: The batch size you will train with (sequences for LLMs).
        base_batch_size: The batch size ``base_lr`` was tuned at.
        scaling: Batch-size rule: linear, sqrt, none, or ``auto`` (follows the optimizer).
        dataset_size: Training examples; steps per epoch = ceil(dataset_size / batch_size).
        steps_per_epoch: Updates per epoch (instead of ``dataset_size``).
        epochs: Training epochs (may be fractional).
        total_steps: Updates in the run (instead of ``epochs``).
        fine_tune: Start from pre-trained weights (LR about 10x smaller).
        layers: Number of layers L for discriminative rates.
        layer_decay: Per-layer factor gamma in eta_l = eta * gamma^(L - l).
        schedule: cosine, linear, step, multistep, wsd, inverse_sqrt, exponential,
            constant, or ``auto`` (from the model kind or the scaling law's recipe).
        warmup: ``auto``, ``none``, steps (``500``), epochs (``5ep``) or a share (``6%``).
        end_lr_ratio: Final LR as a fraction of the peak (default depends on the decay).
        momentum: SGD momentum (default from the optimizer).
        beta1, beta2, eps: Adam-family moment parameters at ``base_batch_size``.
        scaling_law: LLM law: deepseek, step-law, porian.
        compute_flops: Training compute C in FLOPs (DeepSeek: C = M x D).
        tokens: Training tokens D.
        n_layers, d_model, seq_len: Transformer shape (DeepSeek's M; seq_len converts a
            token batch to sequences and tokens to steps).
        lipschitz: Largest Hessian eigenvalue / smoothness constant L, if known.
        loss_history: CSV/JSON file (or a list of (epoch, loss) pairs) of observed losses.
        max_points: Most schedule points in the output (first/last/warmup end kept).
    """

    optimizer: str = "auto"
    model: str | None = None
    model_params: float | None = None
    base_lr: float | None = None
    batch_size: int | None = None
    base_batch_size: int | None = None
    scaling: str = "auto"
    dataset_size: int | None = None
    steps_per_epoch: int | None = None
    epochs: float | None = None
    total_steps: int | None = None
    fine_tune: bool = False
    layers: int | None = None
    layer_decay: float | None = None
    schedule: str = "auto"
    warmup: str | int = "auto"
    end_lr_ratio: float | None = None
    momentum: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    eps: float | None = None
    scaling_law: str | None = None
    compute_flops: float | None = None
    tokens: float | None = None
    n_layers: int | None = None
    d_model: int | None = None
    seq_len: int | None = None
    lipschitz: float | None = None
    loss_history: str | os.PathLike[str] | Sequence[Any] | None = None
    max_points: int = 2000

    def __post_init__(self) -> None:
        self._check_names()
        self._check_numbers()
        self._check_together()

    def _check_names(self) -> None:
        _settle(
            self,
            optimizer=check.lookup("optimizer", self.optimizer, ["auto", *OPTIMIZERS]),
            model=None if self.model is None else check.lookup("model", self.model,
                                                               MODEL_KINDS),
            scaling=check.lookup("scaling", self.scaling, ["auto", *SCALING_RULES]),
            schedule=check.lookup("schedule", self.schedule, ["auto", *DECAYS]),
            scaling_law=None if self.scaling_law is None
            else check.lookup("scaling_law", self.scaling_law, LAWS),
        )
        if not isinstance(self.fine_tune, bool):
            raise check.fail("fine_tune", self.fine_tune, "must be true or false",
                             "pass true for pre-trained weights")
        parse_warmup(self.warmup)  # raises on a bad value
        if self.loss_history is not None and not isinstance(
                self.loss_history, str | os.PathLike | Sequence):
            raise check.fail("loss_history", self.loss_history, "must be a file path",
                             "pass a CSV or JSON file of epoch,loss rows")

    def _check_numbers(self) -> None:
        for name, example in _POSITIVE.items():
            value = getattr(self, name)
            if value is not None:
                _settle(self, **{name: check.positive(name, value, example=example)})
        for name, example in _COUNTS.items():
            value = getattr(self, name)
            if value is not None:
                _settle(self, **{name: check.count(name, value, example=example)})
        for name, most in _MAXIMA.items():
            value = getattr(self, name)
            if value is not None and value > most:
                raise check.fail(name, value, f"more than {most:,}",
                                 f"pass a real run's value (<= {most:,})")
        if self.total_steps is not None and self.total_steps > MAX_TOTAL_STEPS:
            raise check.fail("total_steps", self.total_steps,
                             f"more than {MAX_TOTAL_STEPS:,} updates",
                             "check the run length")
        _settle(self, max_points=check.count("max_points", self.max_points, minimum=10,
                                             example="2000"))
        for name, low, high, lo_open, hi_open, example in (
            ("layer_decay", 0.0, 1.0, True, False, "0.8"),
            ("end_lr_ratio", 0.0, 1.0, False, False, "0.1"),
            ("momentum", 0.0, 1.0, False, True, "0.9"),
            ("beta1", 0.0, 1.0, False, True, "0.9"),
            ("beta2", 0.0, 1.0, False, True, "0.999"),
        ):
            value = getattr(self, name)
            if value is not None:
                _settle(self, **{name: check.fraction(name, value, low=low, high=high,
                                                      low_open=lo_open, high_open=hi_open,
                                                      example=example)})

    def _check_together(self) -> None:
        spe = self.steps_per_epoch
        if spe is None and self.dataset_size is not None and self.batch_size is not None:
            spe = math.ceil(self.dataset_size / self.batch_size)
        if self.epochs is not None and spe is not None and self.epochs * spe > MAX_TOTAL_STEPS:
            raise check.fail("epochs", self.epochs,
                             f"x {spe:,} steps per epoch is more than {MAX_TOTAL_STEPS:,} "
                             "updates", "check the run length")
        if self.layer_decay is not None and self.layers is None:
            raise check.fail("layer_decay", self.layer_decay, "needs --layers",
                             "pass the number of layers, e.g. --layers 12")
        if self.dataset_size is not None and self.batch_size is None:
            raise check.fail("dataset_size", self.dataset_size,
                             "needs --batch-size to count steps per epoch",
                             "pass --batch-size, or give --steps-per-epoch instead")
        if (self.dataset_size is not None and self.steps_per_epoch is not None
                and self.batch_size is not None
                and math.ceil(self.dataset_size / self.batch_size) != self.steps_per_epoch):
            implied = math.ceil(self.dataset_size / self.batch_size)
            raise check.fail("steps_per_epoch", self.steps_per_epoch,
                             f"disagrees with ceil(--dataset-size / --batch-size) = {implied}",
                             "give only one of --steps-per-epoch and --dataset-size")
        if (self.epochs is not None and self.total_steps is not None
                and self.steps_per_epoch is not None
                and math.ceil(self.epochs * self.steps_per_epoch) != self.total_steps):
            raise check.fail("total_steps", self.total_steps,
                             f"disagrees with --epochs x steps per epoch = "
                             f"{math.ceil(self.epochs * self.steps_per_epoch)}",
                             "give only one of --epochs and --total-steps")
        law_only = ("compute_flops", "n_layers", "d_model")
        for name in law_only:
            if getattr(self, name) is not None and self.scaling_law is None:
                raise check.fail(name, getattr(self, name), "is only used by a scaling law",
                                 "add --scaling-law deepseek")
        if self.scaling_law is not None:
            if self.fine_tune:
                raise check.fail("scaling_law", self.scaling_law,
                                 "the laws are fitted on pre-training from scratch",
                                 "drop --fine-tune or --scaling-law")
            if self.base_lr is not None:
                raise check.fail("base_lr", self.base_lr,
                                 "conflicts with --scaling-law, which sets the LR",
                                 "drop one of them")
        if self.base_batch_size is not None and self.batch_size is None:
            raise check.fail("base_batch_size", self.base_batch_size,
                             "needs --batch-size to scale to",
                             "pass the batch size you will train with")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalcInput:
        """Build from a mapping (e.g. a JSON body); unknown keys are refused by name.

        ``None`` values (and ``""`` from HTML forms) mean "not given".

        >>> CalcInput.from_dict({"optimizer": "adam", "batch_size": "", "epochs": 3}).epochs
        3.0
        >>> CalcInput.from_dict({"batchsize": 3})
        Traceback (most recent call last):
        ...
        lrkit.errors.ConfigError: batchsize: unknown calculator field; did you mean 'batch_size'?
        """
        from lrkit.errors import ConfigError

        names = [f.name for f in dataclasses.fields(cls)]
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in names:
                hint = difflib.get_close_matches(str(key), names, n=1)
                fix = f"did you mean {hint[0]!r}?" if hint else f"valid: {', '.join(names)}"
                raise ConfigError(f"{key}: unknown calculator field; {fix}")
            if value is None or (isinstance(value, str) and not value.strip()
                                 and key != "warmup"):
                continue
            kwargs[key] = _coerce(key, value)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The given (non-default) fields, JSON-ready."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value != field.default:
                out[field.name] = os.fspath(value) if isinstance(value, os.PathLike) else value
        return out


def _coerce(name: str, value: Any) -> Any:
    """Turn form strings into numbers/bools for numeric and boolean fields."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if name == "fine_tune":
        if text.lower() in ("true", "on", "yes", "1"):
            return True
        if text.lower() in ("false", "off", "no", "0"):
            return False
        raise check.fail(name, value, "must be true or false", "pass true or false")
    if name in _POSITIVE or name in _COUNTS or name in _FRACTIONS or name == "max_points":
        try:
            number = float(text)
        except ValueError:
            raise check.fail(name, value, "must be a number", "pass e.g. "
                             + (_POSITIVE.get(name) or _COUNTS.get(name) or "0.9")) from None
        return int(number) if number.is_integer() and name in (*_COUNTS, "max_points") \
            else number
    return value
