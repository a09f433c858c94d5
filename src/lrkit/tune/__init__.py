"""Search the LR (and optionally schedule, warmup, weight decay) of a task with Optuna.

Strategies: a log-scale grid (factor about 3), random log-uniform, TPE; pruning by
median, successive halving or Hyperband on the validation loss; NaN or diverging runs are
pruned at once. Storage: a study in SQLite by default; a PostgreSQL URL lets N workers on
N machines share one study. ``tune_ray`` runs the same search on Ray Tune with ASHA.

>>> space = SearchSpace(lr_min=1e-4, lr_max=1e-2)
>>> space.grid()["lr"]
[0.0001, 0.0003, 0.001, 0.003, 0.01]
"""

from lrkit.tune.objective import DIVERGENCE_FACTOR, FIDELITIES, Objective, configure_task
from lrkit.tune.result import TrialRecord, TuneResult
from lrkit.tune.seeds import suggestions_from_calc, suggestions_from_rangetest
from lrkit.tune.space import SearchSpace, log_grid
from lrkit.tune.storage import DEFAULT_STORAGE, open_storage
from lrkit.tune.strategies import PRUNERS, SAMPLERS
from lrkit.tune.study import load_result, tune

__all__ = [
    "DEFAULT_STORAGE",
    "DIVERGENCE_FACTOR",
    "FIDELITIES",
    "PRUNERS",
    "SAMPLERS",
    "Objective",
    "SearchSpace",
    "TrialRecord",
    "TuneResult",
    "configure_task",
    "load_result",
    "log_grid",
    "open_storage",
    "suggestions_from_calc",
    "suggestions_from_rangetest",
    "tune",
]
