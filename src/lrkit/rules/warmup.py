"""Warmup: when a run needs one, and how long it should be.

``parse_warmup`` reads the ``--warmup`` value (``auto``, ``none``, a number of steps,
``5ep`` for epochs or ``6%`` of the run). ``auto_warmup`` applies the warmup rules and
returns one candidate per rule that fires; the calculator keeps the longest.

>>> parse_warmup("5ep"), parse_warmup(2000), parse_warmup("6%"), parse_warmup("none")
(WarmupSpec(kind='epochs', amount=5.0), WarmupSpec(kind='steps', amount=2000.0), \
WarmupSpec(kind='fraction', amount=0.06), WarmupSpec(kind='none', amount=0.0))
>>> adam_warmup_steps(0.999)
2000
"""

from __future__ import annotations

import dataclasses
import math
import re

from lrkit._check import INPUT as check

__all__ = [
    "GRADUAL_EPOCHS",
    "TRANSFORMER_FRACTION",
    "WARMUP_CAP",
    "Candidate",
    "WarmupSpec",
    "adam_warmup_steps",
    "auto_warmup",
    "parse_warmup",
]

GRADUAL_EPOCHS = 5.0       # Goyal et al. 2017 §2.2
TRANSFORMER_FRACTION = 0.01  # lrkit heuristic for attention models (BERT: 10k of 1M)
WARMUP_CAP = 0.25          # an automatic warmup never takes more than this share of the run

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"


@dataclasses.dataclass(frozen=True)
class WarmupSpec:
    """A parsed ``--warmup``: kind is auto, none, steps, epochs or fraction."""

    kind: str
    amount: float = 0.0


def parse_warmup(value: object) -> WarmupSpec:
    """Parse ``--warmup``.

    Raises:
        ConfigError: the value is none of the accepted forms.
    """
    fix = "pass auto, none, a number of steps (500), epochs (5ep) or a share of the run (6%)"
    if isinstance(value, bool):
        raise check.fail("warmup", value, "must be a warmup length", fix)
    if isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
    else:
        raise check.fail("warmup", value, "must be a warmup length", fix)
    if text == "auto":
        return WarmupSpec("auto")
    if text in ("none", "off", "no", "0", "0.0"):
        return WarmupSpec("none")
    match = re.fullmatch(rf"({_NUMBER})(ep|epoch|epochs|%|steps?)?", text)
    if match is None:
        raise check.fail("warmup", value, "not a warmup length", fix)
    amount = float(match.group(1))
    unit = match.group(3) or "steps"
    if unit.startswith("ep"):
        if amount <= 0:
            return WarmupSpec("none")
        return WarmupSpec("epochs", amount)
    if unit == "%":
        if not 0 <= amount < 100:
            raise check.fail("warmup", value, "a share of the run must lie in [0, 100)%",
                       "pass e.g. 6%")
        return WarmupSpec("fraction", amount / 100.0) if amount else WarmupSpec("none")
    if not amount.is_integer():
        raise check.fail("warmup", value, "a number of steps must be a whole number",
                   "pass e.g. 500, or 5ep for epochs")
    return WarmupSpec("steps", amount) if amount else WarmupSpec("none")


def adam_warmup_steps(beta2: float) -> int:
    """Ma & Yarats 2021: warm up over 2 / (1 - beta2) steps (rounded up).

    >>> adam_warmup_steps(0.95), adam_warmup_steps(0.98)
    (40, 100)
    """
    return math.ceil(2.0 / (1.0 - beta2) - 1e-9)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One warmup rule that fired: its evidence id, its length and the arithmetic."""

    evidence: str
    steps: int | None
    epochs: float | None
    text: str


def auto_warmup(*, adaptive: bool, beta2: float | None, attention: bool,
                large_batch: bool, recipe_steps: int | None,
                steps_per_epoch: int | None, total_steps: int | None) -> list[Candidate]:
    """The warmup rules that apply to this run (empty: no warmup needed).

    Args:
        adaptive: The optimizer keeps a second-moment average (Adam's rule applies).
        beta2: That average's beta2 (after any batch scaling).
        attention: The model is a transformer, ViT or LLM.
        large_batch: The LR was linearly scaled up for a larger batch (Goyal's warmup).
        recipe_steps: The warmup of a scaling law's recipe, if one sets the LR (it then
            replaces every other rule: the law was fitted with it).
        steps_per_epoch: Updates per epoch, when known.
        total_steps: Updates in the run, when known.

    >>> [c.steps for c in auto_warmup(adaptive=True, beta2=0.999, attention=False,
    ...  large_batch=False, recipe_steps=None, steps_per_epoch=None, total_steps=None)]
    [2000]
    """
    if recipe_steps is not None:  # a law's LR was fitted with its own warmup: keep it
        return [Candidate("warmup.recipe", recipe_steps, None,
                          f"{recipe_steps} steps (the scaling law's recipe)")]
    out: list[Candidate] = []
    if adaptive and beta2 is not None:
        steps = adam_warmup_steps(beta2)
        out.append(Candidate("warmup.adam", steps, None,
                             f"2 / (1 - {beta2:g}) = {steps} steps"))
    if large_batch:
        ramp = (math.ceil(GRADUAL_EPOCHS * steps_per_epoch)
                if steps_per_epoch is not None else None)
        text = f"{GRADUAL_EPOCHS:g} epochs" + (
            f" x {steps_per_epoch} steps/epoch = {ramp} steps" if ramp is not None else "")
        out.append(Candidate("warmup.gradual", ramp, GRADUAL_EPOCHS, text))
    if attention:
        if total_steps is not None:
            steps = max(1, math.ceil(TRANSFORMER_FRACTION * total_steps))
            out.append(Candidate("warmup.transformer", steps, None,
                                 f"{TRANSFORMER_FRACTION:.0%} of {total_steps} steps = "
                                 f"{steps} steps"))
        else:
            out.append(Candidate("warmup.transformer", None, None,
                                 f"{TRANSFORMER_FRACTION:.0%} of the run (length unknown)"))
    return out
