"""Minibatch bias of the sharpness estimate: lambda_max on batch sets of growing size.

On the built-in ``digits-mlp`` and ``breast-cancer-logreg`` tasks at initialisation
(seed 0), estimate ``lambda_max`` (Lanczos, 30 HVPs, tol 1e-4) on disjoint batch sets of
n = 16 .. all training examples, 5 sets per size where the data allow it. Jensen's
inequality says the mean over sets of ``lambda_max(H_set)`` is at least the full-data
value; this shows by how much.

Usage:
    .venv/bin/python benchmarks/curvature/bench_bias.py

Prints a Markdown table and writes ``benchmarks/curvature/bias_results.json``.
"""

from __future__ import annotations

import datetime
import json
import statistics
from pathlib import Path

import torch

from lrkit._io import write_atomic
from lrkit.curvature import hessian_top_eigenvalue
from lrkit.tasks import load_task

HERE = Path(__file__).resolve().parent
SIZES = (16, 64, 256, 1024)


def main() -> None:
    torch.set_num_threads(1)
    out = {}
    lines = ["| task | examples per set | sets | mean lambda_max | min | max | mean / full |",
             "|---|---|---|---|---|---|---|"]
    for name in ("breast-cancer-logreg", "digits-mlp"):
        task = load_task(name)
        assert task.loss_fn is not None  # built-in tasks have a loss_fn (no forward hook)
        torch.manual_seed(0)
        model = task.model()
        x, y = task.train_data.tensors
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
        full = hessian_top_eigenvalue(model, task.loss_fn, [(x, y)], tol=1e-4).value
        rows = {}
        for n in (*[s for s in SIZES if s < len(x)], len(x)):
            sets = min(5, len(x) // n)
            vals = [hessian_top_eigenvalue(model, task.loss_fn,
                                           [(x[order[i * n:(i + 1) * n]],
                                             y[order[i * n:(i + 1) * n]])], tol=1e-4).value
                    for i in range(sets)]
            rows[n] = vals
            lines.append(f"| {name} | {n} | {sets} | {statistics.mean(vals):.4g} | "
                         f"{min(vals):.4g} | {max(vals):.4g} | "
                         f"{statistics.mean(vals) / full:.3f} |")
        out[name] = {"full": full, "sets": {str(k): v for k, v in rows.items()}}
    write_atomic(HERE / "bias_results.json",
                 json.dumps({"created": str(datetime.date.today()), "results": out}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
