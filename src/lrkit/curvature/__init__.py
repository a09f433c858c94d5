"""Curvature of the loss and the learning-rate bounds it implies.

``hessian_top_eigenvalue`` estimates the sharpness ``L = lambda_max(H)`` with
Hessian-vector products (Lanczos or power iteration) on a fixed batch set;
``preconditioned_top_eigenvalue`` estimates Adam's ``lambda_max(P^-1 H)``;
``sgd_bounds`` / ``adam_bounds`` turn either into an LR ceiling and a quadratic optimum.
Importing this package imports torch.

>>> from lrkit.curvature import sgd_bounds
>>> sgd_bounds(20.0, momentum=0.9).max_stable_lr
0.19
"""

from lrkit.curvature.adam import adam_preconditioner, preconditioned_top_eigenvalue
from lrkit.curvature.batches import fixed_batches
from lrkit.curvature.bounds import StabilityBounds, adam_bounds, compare_lr, sgd_bounds
from lrkit.curvature.eigen import EigenResult, lanczos, power_iteration
from lrkit.curvature.estimate import METHODS, SharpnessEstimate, hessian_top_eigenvalue
from lrkit.curvature.hvp import HessianOperator
from lrkit.curvature.report import SharpnessReport, measure_task

__all__ = [
    "METHODS",
    "EigenResult",
    "HessianOperator",
    "SharpnessEstimate",
    "SharpnessReport",
    "StabilityBounds",
    "adam_bounds",
    "adam_preconditioner",
    "compare_lr",
    "fixed_batches",
    "hessian_top_eigenvalue",
    "lanczos",
    "measure_task",
    "power_iteration",
    "preconditioned_top_eigenvalue",
    "sgd_bounds",
]
