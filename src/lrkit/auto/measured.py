"""The regret ``auto`` states: what its design measured on tasks it was never tuned on.

``auto`` cannot measure the regret of its own pick on the user's task: that takes the full
runs it exists to save. A model of the compressed runs was no guide either (the first
design's parabola depth had a median of 0.004% where the measured median regret was 4%,
rank correlation -0.18). So it quotes the measurement: regret (L - L*) / L* and octave
error |log2(lr / eta*)| of the shipped design over every selection of
``benchmarks/auto/study.py --score exact`` on the task zoo's *test* pairs and its
*holdouts* (``lrkit.tasks.zoo``), pooled: no knob was fitted on them (the holdouts were
added once test had been read for ideas), several tool seeds each, scored on the zoo's
held-out scoring seeds. The study writes ``measured_regret.json`` beside this module; the
lookup takes the largest measured budget that does not exceed the one given (the
smallest when none does).

>>> m = measured_regret(1.0)
>>> m.budget, m.selections >= 25, 0 <= m.median <= m.p90 <= m.worst
(1.0, True, True)
>>> measured_regret(3.0).budget, best_measured_budget().budget
(1.0, 1.0)
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from importlib import resources
from typing import Any

__all__ = ["MeasuredRegret", "best_measured_budget", "measured_regret"]


@dataclasses.dataclass(frozen=True)
class MeasuredRegret:
    """How far ``auto``'s LR landed from the best LR on the zoo's held-out pairs, at one budget.

    Attributes:
        budget: the budget (runs) it was measured at.
        selections: how many selections (task, schedule, seed) were measured.
        tasks: how many task/schedule pairs they cover.
        mean, median, p90, worst: relative regret (L - L*) / L* of the final validation
            loss; ``mean`` is what ``Recommendation.expected_regret`` reports.
        median_octaves, p90_octaves: |log2(lr / eta*)|, eta* the oracle's best LR.
        source: the script that measured it, its date and commit.
        miss_regret: the regret above which a pick counts as a miss ...
        top_edge_miss: ... the share of misses among picks whose search's best run was
            its highest LR (``lrkit.auto.search.best_at``), and ``other_miss`` among the
            rest (None where not measured).
    """

    budget: float
    selections: int
    tasks: int
    mean: float
    median: float
    p90: float
    worst: float
    median_octaves: float
    p90_octaves: float
    source: str
    miss_regret: float = 0.2
    top_edge_miss: float | None = None
    other_miss: float | None = None

    def summary(self) -> str:
        """One line for people: the typical and the 90th-percentile outcome."""
        return (f"measured on {self.tasks} held-out zoo task/schedule pairs at budget "
                f"{self.budget:g}: the best LR within {2 ** self.median_octaves:.1f}x of "
                f"this one in half the cases, {2 ** self.p90_octaves:.1f}x in 9 of 10; "
                f"regret median {self.median:.1%}, 90th percentile {self.p90:.1%}, worst "
                + (f"{self.worst:.1%}" if math.isfinite(self.worst) else "a divergence")
                + f" ({self.selections} selections)")


@functools.cache
def _table() -> tuple[MeasuredRegret, ...]:
    doc = json.loads(resources.files("lrkit.auto").joinpath("measured_regret.json")
                     .read_text(encoding="utf-8"))
    source = f"{doc['source']} ({doc['date']}, commit {doc['commit']})"
    return tuple(sorted(
        (MeasuredRegret(budget=b["budget"], selections=b["selections"], tasks=b["tasks"],
                        mean=b["mean_regret"], median=b["median_regret"],
                        p90=b["p90_regret"], worst=b["worst_regret"],
                        median_octaves=b["median_octaves"], p90_octaves=b["p90_octaves"],
                        source=source, **_edge_rates(b)) for b in doc["budgets"]),
        key=lambda m: m.budget))


def _edge_rates(b: dict[str, Any]) -> dict[str, Any]:
    """The miss shares of one budget's entry: top-edge picks and the rest."""
    e = b.get("by_best_at")
    if not e:
        return {}
    top, rest = e["high"], e["other"]
    return {"miss_regret": e["miss_regret"],
            "top_edge_miss": top["misses"] / top["selections"] if top["selections"] else None,
            "other_miss": rest["misses"] / rest["selections"] if rest["selections"] else None}


def measured_regret(budget: float) -> MeasuredRegret:
    """The measurement at the largest budget <= ``budget`` (the smallest if none is)."""
    table = _table()
    return max((m for m in table if m.budget <= budget), key=lambda m: m.budget,
               default=table[0])


def best_measured_budget() -> MeasuredRegret:
    """The measured budget with the smallest 90th-percentile regret (ties: the cheaper)."""
    return min(_table(), key=lambda m: (m.p90, m.budget))
