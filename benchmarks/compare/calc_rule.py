"""Does the calculator's decay rule hold on the built-in tasks? Its decay against the rest.

``lrkit calc --schedule auto`` picks the decay from the model kind (docs/calculator.md,
"Decay"): cosine for MLPs and CNNs, linear for linear models. For each built-in task this
reads the oracle of ``bench.py`` (9 LRs per schedule, scoring seeds 10-14, the same stored
runs; the linear decay for the logistic regression is added here) and compares the
calculator's decay, each shape at its own best LR, with constant and with the best shape:
relative difference of the mean final validation loss and the paired t-test over the 5
scoring seeds.

    .venv/bin/python benchmarks/compare/calc_rule.py     # after bench.py --tasks builtin
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import bench

HERE = Path(__file__).resolve().parent
OUT = HERE / "calc_rule.json"
# the model kind each built-in task is, for the calculator
KINDS = {"digits-mlp": "mlp", "digits-cnn": "cnn", "breast-cancer-logreg": "linear",
         "diabetes-mlp": "mlp"}


def main() -> None:
    import torch

    from lrkit.compare.stats import paired
    from lrkit.rules import CalcInput, calculate

    torch.set_num_threads(1)
    doc = {}
    for task, kind in KINDS.items():
        decay = calculate(CalcInput(model=kind, batch_size=32, dataset_size=1000,
                                    epochs=10)).decay_type
        base = list(bench.SCHEDULES)
        bench.SCHEDULES = base + ([decay] if decay not in base else [])
        table = bench.oracle(task)["table"]
        bench.SCHEDULES = base

        def best(shape: str, table: dict = table) -> tuple[float, list[float]]:
            lr = min(table[shape], key=lambda k: bench._mean(table[shape][k]))
            return float(lr), table[shape][lr]

        ranked = sorted(table, key=lambda s: bench._mean(best(s)[1]))
        d_lr, d_losses = best(decay)
        c_lr, c_losses = best("constant")
        b_lr, b_losses = best(ranked[0])
        vs_const = paired(d_losses, c_losses)

        def metric(shape: str, lr: float, task: str = task) -> float | None:
            values = bench.METRICS.get((task, shape, repr(lr)))
            if not values or any(v is None for v in values):
                return None
            return float(sum(values) / len(values))

        vs_best = paired(d_losses, b_losses)
        doc[task] = {
            "kind": kind, "calculator_decay": decay, "decay_lr": d_lr,
            "decay_loss": bench._mean(d_losses), "constant_lr": c_lr,
            "constant_loss": bench._mean(c_losses), "best_shape": ranked[0], "best_lr": b_lr,
            "best_loss": bench._mean(b_losses),
            "decay_vs_constant": bench._mean(d_losses) / bench._mean(c_losses) - 1,
            "decay_vs_constant_t_p": vs_const.t_p, "decay_worse_than_constant": vs_const.worse,
            "constant_worse_than_decay": paired(c_losses, d_losses).worse,
            "decay_vs_best": bench._mean(d_losses) / bench._mean(b_losses) - 1,
            "decay_vs_best_t_p": vs_best.t_p, "decay_worse_than_best": vs_best.worse,
            "ranking": ranked,
            "decay_metric": metric(decay, d_lr), "constant_metric": metric("constant", c_lr),
            "best_metric": metric(ranked[0], b_lr),
        }
        print(task, json.dumps(doc[task]), flush=True)
    OUT.write_text(json.dumps(doc, indent=1, default=lambda v: None if v is None else float(v))
                   + "\n")
    for task, r in doc.items():
        p = r["decay_vs_constant_t_p"]
        print(f"| {task} | {r['calculator_decay']} | {r['decay_loss']:.4g} | "
              f"{r['constant_loss']:.4g} | {r['decay_vs_constant']:+.1%} (p "
              f"{p if p is None or math.isnan(p) else round(p, 3)}) | {r['best_shape']} "
              f"{r['best_loss']:.4g} | {r['decay_vs_best']:+.1%} | "
              f"{r['decay_metric']} / {r['constant_metric']} |")


if __name__ == "__main__":
    main()
