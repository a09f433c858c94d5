"""The learning-rate calculator: cited rules from what the user knows, before any training.

``calculate(CalcInput(...))`` returns a ``Calculation`` (initial and final LR, decay,
warmup, optimizer, the whole schedule and an estimated convergence epoch) whose ``rules``
record every rule applied with its numbers and its source. ``EVIDENCE`` is the table of
those rules as data.

>>> from lrkit.rules import CalcInput, calculate
>>> rec = calculate(CalcInput(optimizer="sgd", base_lr=0.1, base_batch_size=256,
...                           batch_size=8192, epochs=90, steps_per_epoch=157))
>>> round(rec.initial_lr, 10), rec.warmup_steps, [r.id for r in rec.rules][:2]
(3.2, 785, ['input.base-lr', 'scaling.linear'])
"""

from lrkit.rules.calculator import calculate
from lrkit.rules.evidence import EVIDENCE, Evidence, evidence
from lrkit.rules.inputs import CalcInput
from lrkit.rules.laws import LAWS, deepseek_flops_per_token, gpt3_lr
from lrkit.rules.losscurve import LossFit, fit_loss_curve, read_loss_history
from lrkit.rules.optimizers import MODEL_KINDS, OPTIMIZERS
from lrkit.rules.recommendation import AppliedRule, Calculation, Recommendation
from lrkit.rules.scaling import SCALING_RULES
from lrkit.rules.schedule import DECAYS

__all__ = [
    "DECAYS",
    "EVIDENCE",
    "LAWS",
    "MODEL_KINDS",
    "OPTIMIZERS",
    "SCALING_RULES",
    "AppliedRule",
    "CalcInput",
    "Calculation",
    "Evidence",
    "LossFit",
    "Recommendation",
    "calculate",
    "deepseek_flops_per_token",
    "evidence",
    "fit_loss_curve",
    "gpt3_lr",
    "read_loss_history",
]
