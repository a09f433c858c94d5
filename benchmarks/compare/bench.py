"""Regret of ``lrkit compare``'s top-ranked schedule against a full grid per schedule.

For each task:

- **oracle**: every schedule of ``SCHEDULES`` on a 9-LR half-decade grid (1/100x..100x the
  calculator's textbook LR for the task's optimizer), each (schedule, LR) trained on the
  5 *scoring* seeds 10-14. L*(s) is the best mean over the grid; the true best schedule
  s* has the lowest L*.
- **compare**: ``lrkit.compare`` as a user runs it by default (the 5 middle LRs of that
  grid on the selection seed 1000, then the chosen LR on seeds 0-2): its top-ranked
  schedule s^ with its LR lr^.
- **scores** (on the scoring seeds, which compare never saw):
  shape regret (L*(s^) - L*(s*)) / L*(s*) (the shape, each at its oracle LR);
  end-to-end regret (L(s^, lr^) - L*(s*)) / L*(s*) (what the user trains);
  indistinguishable: s^ = s*, or a paired t-test over the scoring seeds between s^ at its
  oracle LR and s* at its LR does not reject at 0.05 (and the same for lr^).

Every run is a unit in one ``JsonlStore`` (``cache/runs.jsonl``), shared by the oracle and
compare (the same (schedule, LR, seed) is trained once), so the benchmark resumes after a
kill. One process (``OMP_NUM_THREADS=1``): the machine is shared.

    .venv/bin/python benchmarks/compare/bench.py --tasks builtin
    .venv/bin/python benchmarks/compare/bench.py --tasks zoo-test-subset
    .venv/bin/python benchmarks/compare/bench.py --summary
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
STORE = HERE / "cache" / "runs.jsonl"
RESULTS = HERE / "results.json"
SCHEDULES = ["constant", "step", "cosine", "warmup+cosine", "onecycle", "wsd"]
ORACLE_K = range(-4, 5)  # prior * 10 ** (k / 2)
SCORING_SEEDS = [10, 11, 12, 13, 14]
# (task, schedule, repr(lr)) -> the task's metric on the scoring seeds (None without one)
METRICS: dict[tuple[str, str, str], list[Any]] = {}
TASK_SETS = {
    "builtin": ["digits-mlp", "digits-cnn", "breast-cancer-logreg", "diabetes-mlp"],
    # two pairs (optimizers) from each of the 6 cheapest test-half families; the CNN, GRU,
    # ResNet and transformer families are left out (2 cores shared by 8 engineers)
    "zoo-test-subset": ["zoo:wine-logreg-adam-cos", "zoo:illcond-linreg-mom-wcos",
                        "zoo:imbalanced-mlp-adam-cos", "zoo:circles-deepmlp-adam-wsd",
                        "zoo:sinc-mlp-mom-cos", "zoo:cancer-dae-adam-lin",
                        "zoo:wine-logreg-sgd-step", "zoo:illcond-linreg-sgd-const",
                        "zoo:imbalanced-mlp-sgd-const", "zoo:circles-deepmlp-mom-const",
                        "zoo:sinc-mlp-adamax-const", "zoo:cancer-dae-rmsprop-cos"],
}


def _grid(task: Any) -> list[float]:
    from lrkit.auto import optimizer_prior

    center = optimizer_prior(task).lr
    return [float(f"{center * 10 ** (k / 2):.3g}") for k in ORACLE_K]


def configure(oracle_half_decades: int, scoring_seeds: int) -> None:
    """A smaller oracle (the zoo run): +-N half-decades, the first M scoring seeds."""
    global ORACLE_K, SCORING_SEEDS
    ORACLE_K = range(-oracle_half_decades, oracle_half_decades + 1)
    SCORING_SEEDS = [10 + k for k in range(scoring_seeds)]


def _scoring(ref: str, schedules: list[str], lrs: list[float]) -> dict[str, dict[str, list]]:
    """{schedule: {repr(lr): losses on the scoring seeds}} through the shared store."""
    from lrkit.compare.api import _Runner, _task_ident
    from lrkit.compare.entries import entries
    from lrkit.compare.execute import Context
    from lrkit.compare.store import JsonlStore
    from lrkit.tasks import load_task

    task = load_task(ref)
    rows = entries(schedules, [])
    runner = _Runner(Context(task, tuple(rows)), _task_ident(task), JsonlStore(STORE), 1,
                     "local", None)
    units = {(i, lr, s): runner.run_unit(i, lr, s) for i in range(len(rows)) for lr in lrs
             for s in SCORING_SEEDS}
    records = runner.execute(list(units.values()))
    for i in range(len(rows)):
        for lr in lrs:
            METRICS[(ref, rows[i].name, repr(lr))] = [
                records[units[(i, lr, s)].key].get("metric") for s in SCORING_SEEDS]
    return {rows[i].name: {repr(lr): [records[units[(i, lr, s)].key]["final_val_loss"]
                                      for s in SCORING_SEEDS] for lr in lrs}
            for i in range(len(rows))}


def oracle(ref: str) -> dict[str, Any]:
    """Every (schedule, LR) on the scoring seeds: {schedule: {lr: [losses]}}.

    When some schedule's best LR sits at an end of the grid, the grid grows by one
    half-decade on that side for every schedule (at most 2 times per side), so the "full
    grid" brackets every schedule's best.
    """
    from lrkit.tasks import load_task

    task = load_task(ref)
    grid = _grid(task)
    center = grid[len(grid) // 2]
    lo, hi = min(ORACLE_K), max(ORACLE_K)
    table = _scoring(ref, SCHEDULES, grid)
    for _ in range(4):
        best = [_best_lr(table[s], table[s]) for s in table]
        grow_lo = lo > min(ORACLE_K) - 2 and repr(grid[0]) in best
        grow_hi = hi < max(ORACLE_K) + 2 and repr(grid[-1]) in best
        if not (grow_lo or grow_hi):
            break
        new = []
        if grow_lo:
            lo -= 1
            new.append(float(f"{center * 10 ** (lo / 2):.3g}"))
        if grow_hi:
            hi += 1
            new.append(float(f"{center * 10 ** (hi / 2):.3g}"))
        grid = sorted(grid + new)
        extra = _scoring(ref, SCHEDULES, new)
        for s in table:
            table[s].update(extra[s])
    return {"grid": grid, "table": table, "total_steps": task.total_steps}


def _mean(losses: list[float]) -> float:
    return float(np.mean(losses)) if all(math.isfinite(v) for v in losses) else math.inf


def _best_lr(lrs: Iterable[str], losses: dict[str, list[float]]) -> str:
    """The LR key of ``lrs`` with the lowest mean loss (the first of equals)."""
    return min(lrs, key=lambda lr: _mean(losses[lr]))


def score(ref: str) -> dict[str, Any]:
    from lrkit.compare import compare
    from lrkit.compare.stats import paired

    orc = oracle(ref)
    table = orc["table"]
    started = time.perf_counter()
    res = compare(ref, SCHEDULES, store=STORE)
    grid_keys = {repr(lr) for lr in orc["grid"]}  # L* over the oracle's grid only
    best_lr = {s: _best_lr(grid_keys, table[s]) for s in table}
    l_star = {s: _mean(table[s][best_lr[s]]) for s in table}
    s_star = min(l_star, key=lambda s: l_star[s])
    s_hat, lr_hat = res.best.name, res.best.lr
    if repr(lr_hat) not in table[s_hat]:  # compare's grid grew past the oracle's
        table[s_hat].update(_scoring(ref, [s_hat], [lr_hat])[s_hat])
    e2e_losses = table[s_hat].get(repr(lr_hat))
    shape_test = paired(table[s_hat][best_lr[s_hat]], table[s_star][best_lr[s_star]])
    e2e_test = None if e2e_losses is None else paired(e2e_losses, table[s_star][best_lr[s_star]])
    out = {
        "task": ref, "total_steps": orc["total_steps"], "grid": orc["grid"],
        "oracle_best": s_star, "oracle_lr": float(best_lr[s_star]), "oracle_loss": l_star[s_star],
        "oracle_by_schedule": {s: {"lr": float(best_lr[s]), "loss": l_star[s]} for s in table},
        "top_ranked": s_hat, "top_lr": lr_hat,
        "compare_ranking": [r.name for r in res.rows],
        "compare_tied_with_best": res.tied_with_best(),
        "shape_regret": (l_star[s_hat] - l_star[s_star]) / l_star[s_star],
        "e2e_regret": (math.inf if e2e_losses is None else
                       (_mean(e2e_losses) - l_star[s_star]) / l_star[s_star]),
        "shape_indistinguishable": s_hat == s_star or not shape_test.worse,
        "shape_t_p": shape_test.t_p,
        "e2e_indistinguishable": e2e_test is not None and (
            (s_hat == s_star and float(lr_hat) == float(best_lr[s_star])) or not e2e_test.worse),
        "e2e_t_p": None if e2e_test is None else e2e_test.t_p,
        "oracle_in_compare_tie_set": s_star == s_hat or s_star in res.tied_with_best(),
        "compare_cost_runs": res.cost_runs,
        "oracle_cost_runs": len(SCHEDULES) * len(orc["grid"]) * len(SCORING_SEEDS),
        "compare_grid": {r.name: [lr for lr, _ in r.grid] for r in res.rows},
        "scoring_seeds": list(SCORING_SEEDS),
        "compare_wall_seconds_this_call": time.perf_counter() - started,
    }
    return out


def _load() -> dict[str, Any]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def _save(doc: dict[str, Any]) -> None:
    RESULTS.write_text(json.dumps(doc, indent=1, default=float) + "\n")


def summary(doc: dict[str, Any]) -> str:
    lines = ["| task | true best (L*) | compare's top (its LR) | shape regret | end-to-end "
             "regret | indistinguishable (shape / e2e, t p) | true best in compare's tie set |",
             "|---|---|---|---|---|---|---|"]
    for ref, r in doc.items():
        e2e_p = "n/a" if r["e2e_t_p"] is None else format(r["e2e_t_p"], ".2g")
        lines.append(
            f"| {ref} | {r['oracle_best']} @ {r['oracle_lr']:.3g} ({r['oracle_loss']:.4g}) | "
            f"{r['top_ranked']} @ {r['top_lr']:.3g} | {r['shape_regret']:.2%} | "
            f"{r['e2e_regret']:.2%} | {'yes' if r['shape_indistinguishable'] else 'no'} / "
            f"{'yes' if r['e2e_indistinguishable'] else 'no'} "
            f"(p {r['shape_t_p']:.2g} / {e2e_p}) | "
            f"{'yes' if r['oracle_in_compare_tie_set'] else 'no'} |")
    shapes = [r["shape_regret"] for r in doc.values()]
    e2e = [r["e2e_regret"] for r in doc.values()]
    if shapes:
        lines.append("")
        lines.append(f"{len(shapes)} tasks: shape regret median {np.median(shapes):.2%}, worst "
                     f"{max(shapes):.2%}; end-to-end regret median {np.median(e2e):.2%}, worst "
                     f"{max(e2e):.2%}; top-ranked = true best on "
                     f"{sum(r['top_ranked'] == r['oracle_best'] for r in doc.values())}, "
                     f"indistinguishable (shape) on "
                     f"{sum(r['shape_indistinguishable'] for r in doc.values())}, "
                     f"(end-to-end) on {sum(r['e2e_indistinguishable'] for r in doc.values())}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="builtin",
                        help="builtin, zoo-test-subset, or comma-separated task refs")
    parser.add_argument("--summary", action="store_true", help="print the table and exit")
    parser.add_argument("--oracle-half-decades", type=int, default=4,
                        help="oracle grid: the textbook LR x 10^(k/2), |k| <= N (default 4)")
    parser.add_argument("--scoring-seeds", type=int, default=5,
                        help="scoring seeds 10, 11, ... (default 5)")
    args = parser.parse_args(argv)
    configure(args.oracle_half_decades, args.scoring_seeds)
    import torch

    torch.set_num_threads(1)
    STORE.parent.mkdir(exist_ok=True)
    doc = _load()
    if not args.summary:
        refs = TASK_SETS.get(args.tasks) or args.tasks.split(",")
        for ref in refs:
            started = time.perf_counter()
            doc[ref] = score(ref)
            _save(doc)
            print(f"{ref}: {doc[ref]['top_ranked']} vs {doc[ref]['oracle_best']} "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    print(summary(doc))


if __name__ == "__main__":
    main()
