"""The zoo's oracle: each pair's best LR (eta*), its loss L*, noise floor and sanity flags.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zoo/oracle.py            # every pair
    .venv/bin/python benchmarks/zoo/oracle.py --pairs moons-mlp-nest-cos   # some pairs
    .venv/bin/python benchmarks/zoo/oracle.py --table                      # print only

Resumable: every run goes through the harness's on-disk cache (``cache/oracle.jsonl``), so a
killed or repeated invocation re-trains nothing it has already trained. One process by
default (``--workers N`` runs N pairs at once).

Protocol, per pair (grid points are ``textbook * sqrt(2)**k``, k an integer):

1. **Screen**: seed 0 on k = -17..17 (35 points, 5.1 decades around the optimizer's textbook
   LR). While the best point is within 2 points of an edge, add 4 points beyond that edge.
2. **Select**: seeds 0, 1, 2 on the window of +-5 points around the screen's best, widened
   to every point whose screen loss is within 20% of the untrained-to-best gap; eta* is
   the point with the lowest mean final val loss over the 3 seeds (a point where any seed
   diverges is out). While eta* is within 2 points of the window's edge, widen the window by
   3 points on that side (screening new grid points first).
3. **Score**: L* = mean over the 6 scoring seeds at eta*; the noise floor is the regret of
   eta* re-scored on 6 fresh seeds; the two grid neighbours of eta* are scored too.
4. **Sanity**: ``negative_regret`` (a neighbour scores below L*: picking it would show a
   negative regret), ``flat`` (every selected point within +-1 octave of eta* is within 1% of
   it), ``noisy`` (|floor| or L*'s standard error above 2%, or a
   scoring or fresh seed diverged), ``unstable_eta`` (the best selected point diverged on a
   scoring seed and the next best became eta*), ``edge`` (eta* at the edge of the
   largest grid allowed), ``scale_floored`` (L* below 5% of the untrained loss).

Divergence: a non-finite loss, or a final loss above the run's own untrained loss.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo import harness
from zoo.harness import FRESH_SEEDS, SCALE_FLOOR, SCORE_SEEDS, SELECT_SEEDS

from lrkit.tasks.zoo import SPLITS

K_SPAN = 17  # initial grid k in [-17, 17]: 35 points, 5.1 decades
K_MAX = 40  # never beyond 2**20 x the textbook LR either way
EDGE = 2  # "near an edge": within this many points
WINDOW = 5  # selection window half-width around the screen's best
GOOD = 0.2  # ...widened to every point within 20% of (untrained - best) of the best


def _lr(center: float, k: int) -> float:
    return harness.lr_grid(center, k, k)[0]


def _screen_loss(pair: str, center: float, k: int) -> float:
    row = harness.run(pair, _lr(center, k), SELECT_SEEDS[0])
    return math.inf if row["diverged"] else harness.loss_of(row)


def _argmin(values: dict[int, float]) -> int:
    return min(values, key=lambda k: (values[k], k))


def oracle_of(pair: str) -> dict[str, Any]:
    """Run the protocol of the module docstring on ``pair``; returns its oracle entry."""
    started = time.perf_counter()
    harness.task(pair)  # build the data once, before any run is timed
    from lrkit.tasks.zoo import ZOO

    meta = ZOO[pair]
    center = harness.textbook_lr(pair)
    lo, hi = -K_SPAN, K_SPAN
    screen = {k: _screen_loss(pair, center, k) for k in range(lo, hi + 1)}
    while True:  # 1. extend the screen while its best is near an edge
        best = _argmin(screen)
        if best - lo < EDGE and lo > -K_MAX:
            new = range(max(lo - 4, -K_MAX), lo)
            lo = new.start
        elif hi - best < EDGE and hi < K_MAX:
            new = range(hi + 1, min(hi + 4, K_MAX) + 1)
            hi = new.stop - 1
        else:
            break
        screen.update({k: _screen_loss(pair, center, k) for k in new})
    # every point whose screen loss is near the best joins the window too: one lucky seed-0
    # run in a chaotic region must not hide a good plateau elsewhere
    init = harness.run(pair, _lr(center, best), SELECT_SEEDS[0])["init_loss"]
    good = [k for k, v in screen.items() if v <= screen[best] + GOOD * (init - screen[best])]
    w_lo = max(min(*good, best - WINDOW), -K_MAX)
    w_hi = min(max(*good, best + WINDOW), K_MAX)
    selected: dict[int, float] = {}
    while True:  # 2. select on 3 seeds, widening the window while eta* is near its edge
        for k in range(w_lo, w_hi + 1):
            if k not in selected:
                if k not in screen:
                    screen[k] = _screen_loss(pair, center, k)
                selected[k] = harness.mean_loss(pair, _lr(center, k), SELECT_SEEDS)[0]
        k_star = _argmin(selected)
        if k_star - w_lo < EDGE and w_lo > -K_MAX:
            w_lo = max(w_lo - 3, -K_MAX)
        elif w_hi - k_star < EDGE and w_hi < K_MAX:
            w_hi = min(w_hi + 3, K_MAX)
        else:
            break
    lo, hi = min(lo, w_lo), max(hi, w_hi)
    # 3. score eta*, its noise floor and its neighbours. An eta* that diverges on a scoring
    # seed is no oracle: the next best selected point takes its place (flag unstable_eta).
    rejected = []
    for k in sorted(selected, key=lambda k: (selected[k], k)):
        rows = [harness.run(pair, _lr(center, k), s) for s in SCORE_SEEDS]
        if not any(r["diverged"] for r in rows) or not math.isfinite(selected[k]):
            break
        rejected.append(harness.lr_key(_lr(center, k)))
    k_star = k
    eta = _lr(center, k_star)
    losses = [harness.loss_of(r) for r in rows]
    l_star = statistics.fmean(losses)
    l0 = statistics.fmean(r["init_loss"] for r in rows)
    scale = max(l_star, SCALE_FLOOR * l0)
    se = (statistics.stdev(losses) / math.sqrt(len(losses)) / scale
          if all(math.isfinite(x) for x in losses) else math.inf)
    fresh, fresh_div = harness.mean_loss(pair, eta, FRESH_SEEDS)
    floor = (fresh - l_star) / scale
    neighbours = {}
    for dk in (-1, 1):
        loss, div = harness.mean_loss(pair, _lr(center, k_star + dk), SCORE_SEEDS)
        neighbours[harness.lr_key(_lr(center, k_star + dk))] = (
            math.inf if div else (loss - l_star) / scale)
    # smallest LR at which any selection or screen run diverged (a stability ceiling)
    div_ks = [k for k, v in screen.items() if v == math.inf] + [
        k for k, v in selected.items() if v == math.inf]
    ceiling = _lr(center, min(k for k in div_ks if k > k_star)) if any(
        k > k_star for k in div_ks) else None
    near = [selected[k] for k in range(k_star - 2, k_star + 3) if k in selected]
    flags = []
    if any(v < 0 for v in neighbours.values()):
        flags.append("negative_regret")
    if all(math.isfinite(v) for v in near) and (max(near) - selected[k_star]) / scale < 0.01:
        flags.append("flat")
    if abs(floor) > 0.02 or se > 0.02 or any(r["diverged"] for r in rows) or fresh_div:
        flags.append("noisy")
    if rejected:
        flags.append("unstable_eta")
    if k_star - EDGE <= -K_MAX or k_star + EDGE >= K_MAX:
        flags.append("edge")
    if l_star < SCALE_FLOOR * l0:
        flags.append("scale_floored")
    n_runs = len(screen) + 2 * len(selected) + 4 * len(SCORE_SEEDS)
    grid_seconds = sum(
        harness.run(pair, _lr(center, k), s)["seconds"]
        for k in selected for s in SELECT_SEEDS)
    return {
        "pair": pair, "family": meta.family, "split": meta.split,
        "version": harness.version(pair), "textbook_lr": center, "eta_star": eta,
        "k_star": k_star, "L_star": l_star, "L_star_se": se, "L0": l0, "scale": scale,
        "floor": floor, "fresh_loss": fresh, "scoring_losses": losses,
        "neighbour_regret": neighbours, "ceiling_lr": ceiling, "flags": flags,
        "rejected_eta": rejected,
        "grid_k": [lo, hi], "window_k": [w_lo, w_hi],
        "screen": {harness.lr_key(_lr(center, k)): v for k, v in sorted(screen.items())},
        "selection": {harness.lr_key(_lr(center, k)): v for k, v in sorted(selected.items())},
        "run_seconds": statistics.fmean(r["seconds"] for r in rows),
        "runs": n_runs, "grid_seconds": round(grid_seconds, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _write(entries: dict[str, dict[str, Any]]) -> None:
    doc = {"protocol": {"grid": "textbook * sqrt(2)**k, k in [-17, 17] extended near edges",
                        "select_seeds": SELECT_SEEDS, "score_seeds": SCORE_SEEDS,
                        "fresh_seeds": FRESH_SEEDS, "scale_floor": SCALE_FLOOR,
                        "regret": "(L - L_star) / max(L_star, scale_floor * L0)"},
           "pairs": {k: _jsonable(entries[k]) for k in sorted(entries)}}
    harness.ORACLE_PATH.write_text(json.dumps(doc, indent=1) + "\n")


def table(entries: dict[str, dict[str, Any]]) -> str:
    """The oracle table as GitHub markdown, dev pairs first."""
    lines = ["| pair | family | split | textbook | eta* | L* | floor | L* s.e. | "
             "neighbours | run (s) | flags |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in sorted(entries.values(), key=lambda e: (e["split"], e["family"], e["pair"])):
        lines.append(
            f"| {e['pair']} | {e['family']} | {e['split']} | {e['textbook_lr']:.3g} | "
            f"{float(e['eta_star']):.3g} | {float(e['L_star']):.4g} | "
            f"{float(e['floor']):+.1%} | {float(e['L_star_se']):.1%} | "
            + " / ".join(f"{float(v):+.1%}" for v in e["neighbour_regret"].values())
            + f" | {float(e['run_seconds']):.2f} | {', '.join(e['flags'])} |")
    return "\n".join(lines)


def summary(entries: dict[str, dict[str, Any]]) -> str:
    """Counts, noise floors and flags per split, as markdown lines."""
    lines = []
    for split in SPLITS:
        es = [e for e in entries.values() if e["split"] == split]
        if not es:
            continue
        floors = sorted(abs(float(e["floor"])) for e in es)
        flags: dict[str, int] = {}
        for e in es:
            for f in e["flags"]:
                flags[f] = flags.get(f, 0) + 1
        runs = sum(int(e["runs"]) for e in es)
        cpu = sum(float(e["run_seconds"]) * int(e["runs"]) for e in es)
        lines.append(
            f"- **{split}**: {len(es)} pairs, {len({e['family'] for e in es})} families; "
            f"|noise floor| median {statistics.median(floors):.1%}, "
            f"max {floors[-1]:.1%}; flags: "
            + (", ".join(f"{k} {v}" for k, v in sorted(flags.items())) or "none")
            + f"; {runs} runs, about {cpu / 60:.0f} min of run wall-clock")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="*", help="pair names (default: every pair)")
    parser.add_argument("--split", choices=SPLITS)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--table", action="store_true", help="print oracle.json's table only")
    parser.add_argument("--prune-cache", action="store_true",
                        help="drop cached runs of pairs whose definition changed or is gone")
    args = parser.parse_args(argv)
    from lrkit.tasks.zoo import zoo_pairs

    harness.set_writer("oracle")
    existing: dict[str, dict[str, Any]] = (
        json.loads(harness.ORACLE_PATH.read_text())["pairs"]
        if harness.ORACLE_PATH.exists() else {})
    from lrkit.tasks.zoo import ZOO

    existing = {k: v for k, v in existing.items() if k in ZOO}  # pairs removed from the zoo
    if args.prune_cache:
        print(prune_cache())
        return
    if args.table:
        print(summary(existing) + "\n\n" + table(existing))
        return
    names = args.pairs or [p.name for p in zoo_pairs(args.split)]
    if args.workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(args.workers) as pool:
            for entry in pool.imap_unordered(_worker, names):
                existing[entry["pair"]] = entry
                _write(existing)
                print(f"{entry['pair']}: eta*={entry['eta_star']:.3g} "
                      f"L*={entry['L_star']:.4g} {entry['flags']}", flush=True)
    else:
        for name in names:
            entry = oracle_of(name)
            existing[name] = entry
            _write(existing)
            print(f"{name}: eta*={entry['eta_star']:.3g} L*={entry['L_star']:.4g} "
                  f"floor={entry['floor']:+.2%} runs={entry['runs']} "
                  f"{entry['seconds']:.0f}s {entry['flags']}", flush=True)
    final = json.loads(harness.ORACLE_PATH.read_text())["pairs"]
    print(summary(final) + "\n\n" + table(final))


def prune_cache() -> str:
    """Rewrite cache/oracle.jsonl without runs of removed pairs or of old pair versions."""
    from lrkit.tasks.zoo import ZOO

    path = harness.CACHE_DIR / "oracle.jsonl"
    lines = path.read_text().splitlines()
    current = {name: harness.version(name) for name in ZOO}
    keep = [line for line in lines
            if current.get(json.loads(line)["pair"]) == json.loads(line)["version"]]
    path.write_text("".join(line + "\n" for line in keep))
    return f"kept {len(keep)} of {len(lines)} cached runs"


def _worker(name: str) -> dict[str, Any]:
    harness.set_writer("oracle")
    return oracle_of(name)


if __name__ == "__main__":
    main()
