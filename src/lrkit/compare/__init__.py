"""``lrkit.compare``: which schedule (or LR-free optimizer) is best for a task, measured.

Each schedule gets its own best LR (a grid of full runs, or ``lrkit.auto`` at a stated
budget), then trains on several seeds; rows are ranked by mean final validation loss and
tested against the best with paired tests over the seeds. Every (row, LR, seed) run is a
stored unit: parallel on local processes or Ray, shared through an Optuna storage
(PostgreSQL), and resumed after a kill.

>>> from lrkit.compare import PRESETS, compare
>>> "warmup+cosine" in PRESETS, "cosine" in PRESETS
(False, True)
"""

from lrkit.compare.api import (
    DEFAULT_SCHEDULES,
    SELECT_SEED,
    CompareResult,
    Row,
    compare,
    default_grid,
    parse_grid,
)
from lrkit.compare.entries import Entry, ShapedTask, entries
from lrkit.compare.optimizers import OPTIMIZERS, OptimizerEntry, optimizer_entry
from lrkit.compare.pick import SHAPE_CANDIDATES, ShapeChoice, expected_extra_cost, pick_schedule
from lrkit.compare.shapes import PRESETS, Shape, shape, split_list
from lrkit.compare.stats import Paired, paired
from lrkit.compare.store import JsonlStore, OptunaStore, Store

__all__ = [
    "DEFAULT_SCHEDULES",
    "OPTIMIZERS",
    "PRESETS",
    "SELECT_SEED",
    "SHAPE_CANDIDATES",
    "CompareResult",
    "Entry",
    "JsonlStore",
    "OptimizerEntry",
    "OptunaStore",
    "Paired",
    "Row",
    "Shape",
    "ShapeChoice",
    "ShapedTask",
    "Store",
    "compare",
    "default_grid",
    "entries",
    "expected_extra_cost",
    "optimizer_entry",
    "paired",
    "parse_grid",
    "pick_schedule",
    "shape",
    "split_list",
]
