"""``compare``: each schedule (and adaptive optimizer) at its own best LR, on several seeds.

Two phases, both made of independent, stored units (``lrkit.compare.execute``):

1. **selection** — each searched row's peak LR: a grid of full runs on the selection
   seed (``grid``; the default grid, five LRs half a decade apart around the textbook LR,
   grows past the end its best LR sits on, up to two decades), or ``lrkit.auto`` at
   ``budget`` runs (``budget``). Rows whose method sets its own step size (Adam-HD,
   SGD-HD, Prodigy, D-Adaptation) run at their default.
2. **evaluation** — each row at its LR on ``seeds`` fresh seeds (0, 1, ...). The selection
   seed (``select_seed``, 1000 by default) is not among them, so the table does not reward
   the LR that happened to suit one seed.

The rows are ranked by mean final validation loss; each is tested against the first with
paired tests over the seeds (``lrkit.compare.stats``). Cost is counted as ``auto`` counts
it, in training-run equivalents (updates trained / updates of one run).

>>> res = compare("breast-cancer-logreg", ["constant", "cosine"], seeds=2,
...               grid=[0.03, 0.3], epochs=2)
>>> [r.name for r in res.rows] == sorted([r.name for r in res.rows],
...     key=lambda n: res.row(n).mean)
True
>>> res.cost_runs  # 2 rows x (2 grid runs + 2 seeds)
8.0
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lrkit._check import INPUT as check
from lrkit.compare.entries import Entry, entries
from lrkit.compare.execute import Context, Event, Unit, execute
from lrkit.compare.shapes import split_list
from lrkit.compare.stats import ALPHA, Paired, paired, spread
from lrkit.compare.store import JsonlStore, MemoryStore, OptunaStore, Store, unit_key
from lrkit.errors import ConfigError
from lrkit.tasks import Task, load_task

__all__ = ["DEFAULT_SCHEDULES", "SELECT_SEED", "CompareResult", "Row", "compare",
           "default_grid", "parse_grid"]

DEFAULT_SCHEDULES = ("constant", "step", "cosine", "warmup+cosine", "onecycle", "wsd")
SELECT_SEED = 1000
# default grid: 5 LRs a half-decade apart around the textbook LR (1/10x .. 10x)
_GRID_HALF_DECADES = (-2, -1, 0, 1, 2)
# ... and grows past the end its best LR sits on by up to this many LRs (2 decades)
MAX_EXTEND = 4


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of the table.

    Attributes:
        name: schedule or optimizer label; kind: ``schedule`` or ``optimizer``.
        lr: the peak LR it was evaluated at; lr_source: ``grid``, ``auto`` or ``default``.
        seeds, losses: the evaluation seeds and each one's final validation loss.
        mean, std: over the seeds (``inf`` mean if a seed diverged).
        metric_name, metric_mean, metric_std: the task's metric (None without one).
        vs_best: the paired comparison with the best row (None for the best row itself).
        selection_cost_runs, eval_cost_runs: cost in training-run equivalents.
        grid: ``[(lr, final val loss)]`` of a grid selection.
        edge: the selected LR is at an end of the grid (widen it).
        runs: each evaluation run's record (curves for the figure).
    """

    name: str
    kind: str
    lr: float
    lr_source: str
    seeds: tuple[int, ...]
    losses: tuple[float, ...]
    mean: float
    std: float
    metric_name: str | None
    metric_mean: float | None
    metric_std: float | None
    vs_best: Paired | None
    selection_cost_runs: float
    eval_cost_runs: float
    grid: tuple[tuple[float, float], ...] = ()
    edge: bool = False
    runs: tuple[dict[str, Any], ...] = ()

    def to_dict(self, curves: bool = True) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["vs_best"] = None if self.vs_best is None else {
            **dataclasses.asdict(self.vs_best), "verdict": self.vs_best.verdict()}
        out["grid"] = [list(p) for p in self.grid]
        if not curves:
            out.pop("runs")
        return out


@dataclasses.dataclass(frozen=True)
class CompareResult:
    """The ranked table, what it cost, and where its runs are stored.

    Attributes:
        task: the task's name; total_steps: updates of one run.
        mode: ``grid`` or ``auto``; budget: auto's budget per row (auto mode).
        select_seed: the selection seed; seeds: the evaluation seeds.
        rows: best first.
        cost_runs: selection + evaluation, in training-run equivalents.
        compute_seconds: the units' own run time summed (what serial would take);
            wall_seconds: this call's elapsed time (stored units cost nothing).
        store: where the units are.
        alpha: the significance level of the verdicts.
    """

    task: str
    total_steps: int
    mode: str
    budget: float | None
    select_seed: int
    seeds: tuple[int, ...]
    rows: tuple[Row, ...]
    cost_runs: float
    compute_seconds: float
    wall_seconds: float
    store: str
    alpha: float = ALPHA

    @property
    def best(self) -> Row:
        """The top-ranked row."""
        return self.rows[0]

    def row(self, name: str) -> Row:
        """The row called ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def tied_with_best(self) -> list[str]:
        """Rows whose difference from the best is within the seed noise."""
        return [r.name for r in self.rows[1:] if r.vs_best is not None and not r.vs_best.worse]

    def to_dict(self, curves: bool = True) -> dict[str, Any]:
        """The ``--json`` document (``rows`` best first; ``curves=False`` drops the runs)."""
        return {"task": self.task, "total_steps": self.total_steps, "mode": self.mode,
                "budget": self.budget, "select_seed": self.select_seed,
                "seeds": list(self.seeds), "best": self.best.name,
                "tied_with_best": self.tied_with_best(), "alpha": self.alpha,
                "cost_runs": self.cost_runs, "compute_seconds": self.compute_seconds,
                "wall_seconds": self.wall_seconds, "store": self.store,
                "rows": [r.to_dict(curves) for r in self.rows]}


def parse_grid(text: str) -> list[float]:
    """LRs from ``"0.001,0.01,0.1"`` or ``"LOW:HIGH"`` (a half-decade log grid).

    Raises:
        ConfigError: not numbers, not positive, or LOW >= HIGH.

    >>> parse_grid("1e-3:1e-1")
    [0.001, 0.003, 0.01, 0.03, 0.1]
    >>> parse_grid("0.1, 0.01")
    [0.01, 0.1]
    """
    from lrkit.tune.space import log_grid

    fix = "pass e.g. 0.001,0.01,0.1 or 1e-4:1e-1"
    try:
        if ":" in text:
            low_text, high_text = text.split(":", 1)
            low, high = float(low_text), float(high_text)
            if not (0 < low < high and math.isfinite(high)):
                raise ConfigError(parameter="grid", value=text, rule="needs 0 < LOW < HIGH",
                                  fix=fix)
            return log_grid(low, high)
        values = sorted({float(v) for v in split_list(text, "grid")})
    except ValueError:
        raise ConfigError(parameter="grid", value=text,
                          rule="not a list of numbers or LOW:HIGH", fix=fix) from None
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ConfigError(parameter="grid", value=text,
                          rule="every LR must be a finite number > 0", fix=fix)
    return values


def default_grid(task: Task, entry: Entry) -> list[float]:
    """Five LRs half a decade apart centred on the textbook LR (the method's own default
    for an adaptive optimizer, the calculator's prior for the task's optimizer)."""
    if entry.optimizer is not None:
        center = entry.optimizer.default_lr
    else:
        from lrkit.auto import optimizer_prior

        center = optimizer_prior(task).lr
    return [float(f"{center * 10 ** (k / 2):.3g}") for k in _GRID_HALF_DECADES]


def _open_store(store: str | Path | Store | None, storage: str | None, study: str) -> Store:
    if storage is not None:
        return OptunaStore(storage, study)
    if isinstance(store, Store):
        return store
    if store is None:
        return MemoryStore()
    return JsonlStore(store)


def _check(seeds: Any, budget: Any, grid: Any, select_seed: Any) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise check.fail("seeds", seeds, "must be >= 1", "pass e.g. 3")
        seed_list = list(range(seeds))
    else:
        seed_list = list(seeds)
        if not seed_list or not all(isinstance(s, int) and s >= 0 for s in seed_list):
            raise check.fail("seeds", seeds, "must be a count >= 1 or a list of integers >= 0",
                             "pass e.g. 3")
    if select_seed in seed_list:
        raise check.fail("select_seed", select_seed, "is one of the evaluation seeds",
                         "choose another so the table is not scored on the seed that picked "
                         "the LRs")
    if budget is not None and grid is not None:
        raise ConfigError(parameter="budget", value=budget, rule="given with --grid",
                          fix="give one (auto's search at a budget, or a "
                          "grid of LRs), not both")
    return seed_list


def compare(task: Task | str, schedules: Sequence[str] | str = DEFAULT_SCHEDULES,
            optimizers: Sequence[str] | str = (), *, seeds: int | Sequence[int] = 3,
            grid: Sequence[float] | str | None = None, budget: float | None = None,
            select_seed: int = SELECT_SEED, epochs: int | None = None, workers: int = 1,
            backend: str = "local", store: str | Path | Store | None = None,
            storage: str | None = None, on_event: Event | None = None) -> CompareResult:
    """Rank schedules (and adaptive optimizers) on ``task``, each at its own best LR.

    Args:
        task: a Task, a built-in name or ``path/file.py:factory``.
        schedules: presets (``lrkit.compare.PRESETS``), ``warmup+NAME`` or specs; a list
            or one comma-separated string.
        optimizers: adaptive optimizers (``lrkit.compare.OPTIMIZERS``) to add as rows.
        seeds: how many evaluation seeds (0..n-1), or the list of them.
        grid: LRs for the grid selection (a list, or text for ``parse_grid``); None with no
            budget: five LRs around the textbook LR (``default_grid``).
        budget: select each row's LR with ``lrkit.auto`` at this budget (runs) instead.
        select_seed: the seed of the selection runs (not an evaluation seed).
        epochs: override the task's epochs (shorter comparisons).
        workers: parallel local processes (or Ray tasks in flight).
        backend: ``local`` or ``ray``.
        store: a JSON-lines file that makes the comparison resumable (None: in memory).
        storage: an Optuna storage URL (PostgreSQL) shared by several processes; replaces
            ``store``.
        on_event: progress events (``lrkit.compare.execute``).

    Returns:
        The CompareResult, rows best first.

    Raises:
        ConfigError: bad names, seeds, grid, budget or workers.
    """
    started = time.perf_counter()
    task_ref = task if isinstance(task, str) else None
    loaded = load_task(task) if isinstance(task, str) else task
    if epochs is not None:
        check.count("epochs", epochs, example="5 or leave it out", exact=True)
        loaded = dataclasses.replace(loaded, epochs=epochs)
        task_ref = None  # the reference names the unmodified task
    schedule_list = split_list(schedules, "schedules") if isinstance(schedules, str) \
        else list(schedules)
    optimizer_list = (split_list(optimizers, "optimizers") if optimizers else []) \
        if isinstance(optimizers, str) else list(optimizers)
    rows = entries(schedule_list, optimizer_list)
    seed_list = _check(seeds, budget, grid, select_seed)
    if budget is not None:
        check.positive("budget", budget, example="1 (training-run equivalents per row, spent "
                                                "by lrkit auto)")
    grid_list = parse_grid(grid) if isinstance(grid, str) else (
        None if grid is None else [float(v) for v in grid])
    if grid_list is not None:
        parse_grid(",".join(repr(v) for v in grid_list))  # same checks as the text form
    ident = _task_ident(loaded)
    study = "compare-" + hashlib.sha1(ident.encode()).hexdigest()[:12]
    the_store = _open_store(store, storage, study)
    ctx = Context(loaded, tuple(rows), task_ref, search=_auto_search)
    run = _Runner(ctx, ident, the_store, workers, backend, on_event)

    # phase 1: each searched row's LR
    choice: dict[int, tuple[float, str, float, tuple[tuple[float, float], ...], bool]] = {}
    select_units: list[Unit] = []
    grids: dict[int, list[float]] = {}
    for i, entry in enumerate(rows):
        if not entry.searched:
            continue
        if budget is not None:
            select_units.append(run.auto_unit(i, float(budget), select_seed))
        else:
            grids[i] = grid_list if grid_list is not None else default_grid(loaded, entry)
            select_units += [run.run_unit(i, lr, select_seed) for lr in grids[i]]
    selected = run.execute(select_units)
    if grid_list is None:  # the default grid grows past an edge; a given grid is kept
        selected.update(_extend_grids(run, grids, selected, select_seed))
    for i, entry in enumerate(rows):
        if not entry.searched:
            assert entry.optimizer is not None
            choice[i] = (entry.optimizer.default_lr, "default", 0.0, (), False)
        elif budget is not None:
            rec = selected[run.auto_unit(i, float(budget), select_seed).key]
            choice[i] = (float(rec["lr"]), "auto", float(rec["cost_runs"]), (), False)
        else:
            recs = [selected[run.run_unit(i, lr, select_seed).key] for lr in grids[i]]
            pts = tuple((lr, float(r["final_val_loss"])) for lr, r in zip(grids[i], recs,
                                                                          strict=True))
            lr, edge = _grid_best(pts)
            cost = sum(r["steps"] for r in recs) / loaded.total_steps
            choice[i] = (lr, "grid", cost, pts, edge)

    # phase 2: every row at its LR on the evaluation seeds
    eval_units = {(i, s): run.run_unit(i, choice[i][0], s)
                  for i in range(len(rows)) for s in seed_list}
    evaluated = run.execute(list(eval_units.values()))
    built = [_row(rows[i], choice[i], seed_list,
                  [evaluated[eval_units[(i, s)].key] for s in seed_list], loaded.total_steps)
             for i in range(len(rows))]
    ranked = _rank(built)
    units = [*selected.values(), *evaluated.values()]
    return CompareResult(
        task=loaded.name, total_steps=loaded.total_steps,
        mode="auto" if budget is not None else "grid", budget=budget, select_seed=select_seed,
        seeds=tuple(seed_list), rows=tuple(ranked),
        cost_runs=round(sum(r.selection_cost_runs + r.eval_cost_runs for r in ranked), 4),
        compute_seconds=round(sum(float(u.get("seconds", 0.0)) for u in units), 3),
        wall_seconds=round(time.perf_counter() - started, 3), store=the_store.describe())


def _auto_search(task: Task, *, budget: float, seed: int) -> Any:
    """An auto-mode row's search: ``lrkit.auto`` (module-level, so Ray pickles it)."""
    from lrkit.auto import auto

    return auto(task, budget=budget, seed=seed)


def _task_ident(task: Task) -> str:
    # what a stored unit's result depends on besides the row, LR and seed
    return f"{task.name}|epochs={task.epochs}|batch={task.batch_size}|n={len(task.train_data)}"


class _Runner:
    def __init__(self, ctx: Context, ident: str, store: Store, workers: int, backend: str,
                 on_event: Event | None) -> None:
        self.ctx, self.ident, self.store = ctx, ident, store
        self.workers, self.backend, self.on_event = workers, backend, on_event

    def run_unit(self, i: int, lr: float, seed: int) -> Unit:
        entry = self.ctx.entries[i]
        return Unit(unit_key(self.ident, entry.ident, float(lr), int(seed)), i, float(lr),
                    int(seed), None, f"{entry.name} lr={lr:.3g} seed {seed}")

    def auto_unit(self, i: int, budget: float, seed: int) -> Unit:
        entry = self.ctx.entries[i]
        return Unit(unit_key(self.ident, entry.ident, "auto", float(budget), int(seed)), i,
                    math.nan, int(seed), float(budget), f"{entry.name} auto (budget {budget:g})")

    def execute(self, units: list[Unit]) -> dict[str, dict[str, Any]]:
        return execute(self.ctx, units, self.store, workers=self.workers, backend=self.backend,
                       on_event=self.on_event)


def _extend_grids(run: _Runner, grids: dict[int, list[float]],
                  selected: dict[str, dict[str, Any]], seed: int) -> dict[str, dict[str, Any]]:
    """Grow each default grid past the end its best LR sits on (up to ``MAX_EXTEND`` LRs
    per row, at the grid's own ratio), a round of one run per row at a time; a grid
    whose every LR diverged grows downwards. ``grids`` is extended in place.

    >>> [float(f"{0.01 * 10 ** (k / 2):.3g}") for k in (3, 4)]  # what follows 0.1
    [0.316, 1.0]
    """
    out = dict(selected)
    added = dict.fromkeys(grids, 0)
    centers = {i: sorted(lrs)[len(lrs) // 2] for i, lrs in grids.items()}
    while True:
        units = []
        for i, lrs in grids.items():
            pts = [(lr, float(out[run.run_unit(i, lr, seed).key]["final_val_loss"]))
                   for lr in lrs]
            best, edge = _grid_best(pts)
            if not edge or added[i] >= MAX_EXTEND or len(lrs) < 2:
                continue
            ordered = sorted(lrs)
            low = best == ordered[0] or not any(math.isfinite(v) for _, v in pts)
            # the default grid is centre x 10^(k/2): the next k past the end, rounded alike
            center = centers[i]
            k = round(2 * math.log10((ordered[0] if low else ordered[-1]) / center))
            new = float(f"{center * 10 ** ((k - 1 if low else k + 1) / 2):.3g}")
            lrs.append(new)
            added[i] += 1
            units.append(run.run_unit(i, new, seed))
        if not units:
            return out
        out.update(run.execute(units))


def _grid_best(points: Sequence[tuple[float, float]]) -> tuple[float, bool]:
    """The LR of the lowest loss (ties: the lower LR); whether it sits at a grid end."""
    finite = [(loss, lr) for lr, loss in points if math.isfinite(loss)]
    lrs = sorted(lr for lr, _ in points)
    if not finite:
        return lrs[0], True  # all diverged: the smallest, flagged
    best = min(finite)[1]
    return best, len(lrs) > 1 and best in (lrs[0], lrs[-1])


def _row(entry: Entry, choice: tuple[float, str, float, tuple[tuple[float, float], ...], bool],
         seeds: list[int], recs: list[dict[str, Any]], total_steps: int) -> Row:
    lr, source, select_cost, grid, edge = choice
    losses = tuple(float(r["final_val_loss"]) for r in recs)
    mean, std = spread(losses)
    metric_name = recs[0].get("metric_name")
    metric_values = [r.get("metric") for r in recs]
    metric_mean = metric_std = None
    if metric_name is not None and all(isinstance(v, int | float) for v in metric_values):
        metric_mean, metric_std = spread([float(v) for v in metric_values])  # type: ignore[arg-type]
    eval_cost = sum(r["steps"] for r in recs) / total_steps
    return Row(entry.name, entry.kind, lr, source, tuple(seeds), losses, mean, std,
               metric_name, metric_mean, metric_std, None, round(select_cost, 4),
               round(eval_cost, 4), grid, edge, tuple(recs))


def _rank(rows: list[Row]) -> list[Row]:
    ordered = sorted(rows, key=lambda r: (r.mean if math.isfinite(r.mean) else math.inf,
                                          r.std if math.isfinite(r.std) else math.inf))
    best = ordered[0]
    return [best] + [dataclasses.replace(r, vs_best=paired(r.losses, best.losses))
                     for r in ordered[1:]]
