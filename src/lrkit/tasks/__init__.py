"""The Task contract, built-in tasks on bundled data, and ``train`` (one full run).

Importing this package does not import torch; the built-in factories and ``train`` do.

>>> from lrkit.tasks import load_task, train
>>> task = load_task("breast-cancer-logreg")
>>> task.steps_per_epoch, task.total_steps
(26, 260)
"""

from lrkit.tasks.builtin import DEFAULT_TASK, builtin_tasks
from lrkit.tasks.loader import load_task
from lrkit.tasks.task import LR_PARAMETER, Task, fill_schedule
from lrkit.tasks.training import TrainResult, seeded_rng, train

__all__ = [
    "DEFAULT_TASK",
    "LR_PARAMETER",
    "Task",
    "TrainResult",
    "builtin_tasks",
    "fill_schedule",
    "load_task",
    "seeded_rng",
    "train",
]
