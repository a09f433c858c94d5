"""``lrkit.auto``: one LR recommendation for a task, near the oracle, at a stated cost.

>>> from lrkit.auto import DEFAULT_DESIGN, Recommendation, auto
>>> callable(auto), DEFAULT_DESIGN.blocks, DEFAULT_DESIGN.scout
(True, 1, True)
"""

from lrkit.auto.design import DEFAULT_DESIGN, Design, fit_to_budget
from lrkit.auto.executor import Executor
from lrkit.auto.measured import MeasuredRegret, measured_regret
from lrkit.auto.pick import expected_regret, risk_offset, smooth_minimum, steepness
from lrkit.auto.pipeline import Recommendation, Stage, auto, check_budget
from lrkit.auto.prior import Prior, optimizer_prior
from lrkit.auto.runs import JsonlRunCache, MemoryRunCache, Runner, fake_trainer
from lrkit.auto.search import Trial, successive_halving

__all__ = [
    "DEFAULT_DESIGN",
    "Design",
    "Executor",
    "JsonlRunCache",
    "MeasuredRegret",
    "MemoryRunCache",
    "Prior",
    "Recommendation",
    "Runner",
    "Stage",
    "Trial",
    "auto",
    "check_budget",
    "expected_regret",
    "fake_trainer",
    "fit_to_budget",
    "measured_regret",
    "optimizer_prior",
    "risk_offset",
    "smooth_minimum",
    "steepness",
    "successive_halving",
]
