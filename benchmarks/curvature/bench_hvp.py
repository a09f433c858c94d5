"""Top Hessian eigenvalue: lrkit's Lanczos and power iteration against PyHessian 0.1.

For each problem, the reference ``lambda_max`` is either the explicit Hessian's top
eigenvalue (scipy ``eigvalsh`` of the float64 Hessian built with autograd) or, when the
Hessian is too big to build, a float64 Lanczos run of 120 iterations with full
reorthogonalisation (its residual bound is printed). Every method runs from 5 random
start vectors (seeds 0-4):

* at fixed budgets of 5, 10, 20 and 30 Hessian-vector products (tolerance 0), and
* with its own defaults: tol = 1e-3 and at most 30 HVPs (lrkit), maxIter = 100 (PyHessian).

HVPs are counted by the methods (lrkit) and, for PyHessian, by a forward hook on the
model: PyHessian is run in its data-loader mode, where each HVP does exactly one forward
pass per batch. PyHessian is the PyPI package ``pyhessian==0.1``, run unmodified.

Usage:
    .venv/bin/python benchmarks/curvature/bench_hvp.py            # everything (~5 min)
    .venv/bin/python benchmarks/curvature/bench_hvp.py --quick    # 2 seeds, small problems

Writes ``benchmarks/curvature/hvp_results.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scipy.linalg
import torch

from lrkit._io import write_atomic
from lrkit.curvature import HessianOperator, fixed_batches, hessian_top_eigenvalue, lanczos
from lrkit.curvature._state import measurement_mode
from lrkit.tasks import load_task

HERE = Path(__file__).resolve().parent
# PyHessian calls backward(create_graph=True); torch warns about the reference cycle.
warnings.filterwarnings("ignore", message=r"Using backward\(\) with create_graph=True")
BUDGETS = (5, 10, 20, 30)


# -- problems ---------------------------------------------------------------------------
Problem = tuple[str, torch.nn.Module, Callable[..., Any], list[tuple[Any, Any]], str]


def _digits(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return torch.tensor(x[:n] / 16.0, dtype=torch.float32), torch.tensor(y[:n])


def problems(quick: bool) -> list[Problem]:
    out: list[Problem] = []
    task = load_task("breast-cancer-logreg")
    assert task.loss_fn is not None  # built-in tasks have a loss_fn (no forward hook)
    torch.manual_seed(0)
    out.append(("breast-cancer logreg (31 params, 426 ex.)", task.model(), task.loss_fn,
                fixed_batches(task.train_data, 142, 3), "explicit"))
    x, y = _digits(512)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
    out.append(("digits MLP 64-16-10 (1,210 params, 512 ex.)", mlp,
                torch.nn.functional.cross_entropy,
                [(x[i:i + 128], y[i:i + 128]) for i in range(0, 512, 128)], "explicit"))
    if quick:
        return out
    for name in ("digits-mlp", "digits-cnn"):
        task = load_task(name)
        assert task.loss_fn is not None  # built-in tasks have a loss_fn (no forward hook)
        torch.manual_seed(0)
        model = task.model()
        out.append((f"{name} task at init (256 ex.)", model, task.loss_fn,
                    fixed_batches(task.train_data, 32, 8), "lanczos-120"))
    task = load_task("digits-mlp")
    assert task.loss_fn is not None  # built-in tasks have a loss_fn (no forward hook)
    torch.manual_seed(0)
    model = task.model()
    opt = task.optimizer(model.parameters(), 1e-3)
    gen = torch.Generator().manual_seed(0)
    from lrkit.tasks.data import epoch_batches

    done = 0
    while done < 200:
        for xb, yb in epoch_batches(task.train_data, 32, gen):
            opt.zero_grad()
            task.loss_fn(model(xb), yb).backward()
            opt.step()
            done += 1
            if done == 200:
                break
    out.append(("digits-mlp after 200 Adam steps (256 ex.)", model, task.loss_fn,
                fixed_batches(task.train_data, 32, 8), "lanczos-120"))
    return out


def explicit_top(model: torch.nn.Module, loss_fn: Any, batches: list[Any]) -> float:
    m64 = copy.deepcopy(model).double().eval()
    names = [n for n, _ in m64.named_parameters()]
    shapes = [p.shape for _, p in m64.named_parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in m64.parameters()])
    total = sum(len(b[1]) for b in batches)

    def loss(flat: torch.Tensor) -> torch.Tensor:
        params, start = {}, 0
        for n, s in zip(names, shapes, strict=True):
            params[n] = flat[start:start + s.numel()].view(s)
            start += s.numel()
        out = flat.new_zeros(())
        for xb, yb in batches:
            pred = torch.func.functional_call(m64, params, (xb.double(),))
            out = out + loss_fn(pred, yb.double() if yb.is_floating_point() else yb) * len(yb)
        return out / total

    h = torch.autograd.functional.hessian(loss, flat0, vectorize=True).numpy()
    return float(scipy.linalg.eigvalsh(h)[-1])


def lanczos_reference(model: torch.nn.Module, loss_fn: Any,
                      batches: list[Any]) -> tuple[float, float]:
    m64 = copy.deepcopy(model).double()
    b64 = [(xb.double(), yb.double() if yb.is_floating_point() else yb) for xb, yb in batches]
    with measurement_mode(m64):
        op = HessianOperator(m64, loss_fn, b64)
        res = lanczos(op.matvec, op.new_vector(torch.Generator().manual_seed(123)),
                      max_iter=120, tol=0.0)
    return res.value, res.residual


# -- methods ----------------------------------------------------------------------------
def run_lrkit(method: str, model: Any, loss_fn: Any, batches: list[Any], budget: int,
              tol: float, seed: int) -> tuple[float, int]:
    est = hessian_top_eigenvalue(model, loss_fn, batches, max_hvps=budget, tol=tol,
                                 method=method, seed=seed)
    return est.value, est.hvps


def run_pyhessian(model: Any, loss_fn: Any, batches: list[Any], budget: int, tol: float,
                  seed: int) -> tuple[float, int]:
    from pyhessian import hessian

    model = copy.deepcopy(model)  # PyHessian leaves the model in eval mode
    calls = [0]
    handle = model.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    torch.manual_seed(seed)  # PyHessian draws its start vector from the global RNG
    comp = hessian(model, loss_fn, dataloader=batches, cuda=False)
    values, _ = comp.eigenvalues(maxIter=budget, tol=tol)
    handle.remove()
    return float(values[0]), calls[0] // len(batches)


METHODS: dict[str, Callable[..., tuple[float, int]]] = {
    "lrkit lanczos": lambda *a: run_lrkit("lanczos", *a),
    "lrkit power": lambda *a: run_lrkit("power", *a),
    "pyhessian power": run_pyhessian,
}


def time_products(model: Any, loss_fn: Any, batches: list[Any], reps: int = 10) -> dict[str, float]:
    """Seconds per gradient and per HVP (cached / uncached graphs) on one problem."""
    out: dict[str, float] = {}
    with measurement_mode(model):
        for cache in (True, False):
            op = HessianOperator(model, loss_fn, batches, cache_graphs=cache)
            v = op.new_vector(torch.Generator().manual_seed(0))
            op.matvec(v)  # warm-up (and builds the cached graphs)
            t = time.perf_counter()
            for _ in range(reps):
                op.matvec(v)
            out[f"hvp_{'cached' if cache else 'fresh'}_s"] = (time.perf_counter() - t) / reps
        t = time.perf_counter()
        for _ in range(reps):
            op.gradient()
        out["gradient_s"] = (time.perf_counter() - t) / reps
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny models; one thread is steadier on a shared CPU
    seeds = range(2 if args.quick else 5)
    rows: list[dict[str, Any]] = []
    for name, model, loss_fn, batches, ref_kind in problems(args.quick):
        started = time.perf_counter()
        if ref_kind == "explicit":
            ref, ref_res = explicit_top(model, loss_fn, batches), 0.0
        else:
            ref, ref_res = lanczos_reference(model, loss_fn, batches)
        row: dict[str, Any] = {"problem": name, "reference": ref, "reference_kind": ref_kind,
                               "reference_residual": ref_res, "budgets": {}, "default": {}}
        for method, fn in METHODS.items():
            for k in BUDGETS:
                errs = [abs(fn(model, loss_fn, batches, k, 0.0, s)[0] - ref) / abs(ref)
                        for s in seeds]
                row["budgets"].setdefault(method, {})[str(k)] = {
                    "median_rel_err": statistics.median(errs), "max_rel_err": max(errs)}
            budget = 100 if method == "pyhessian power" else 30  # each one's default
            runs = [fn(model, loss_fn, batches, budget, 1e-3, s) for s in seeds]
            errs = [abs(v - ref) / abs(ref) for v, _ in runs]
            row["default"][method] = {
                "median_hvps": statistics.median([h for _, h in runs]),
                "max_hvps": max(h for _, h in runs),
                "median_rel_err": statistics.median(errs), "max_rel_err": max(errs)}
        row["timing"] = time_products(model, loss_fn, batches)
        row["seconds"] = time.perf_counter() - started
        rows.append(row)
        print(f"done: {name} ({row['seconds']:.0f}s)", flush=True)
    doc = {"created": str(datetime.date.today()), "machine": platform.machine(),
           "torch": torch.__version__, "seeds": list(seeds), "budgets": list(BUDGETS),
           "rows": rows}
    write_atomic(HERE / ("hvp_results_quick.json" if args.quick else "hvp_results.json"),
                 json.dumps(doc, indent=1))
    print(markdown(rows))


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        lines.append(f"\n#### {row['problem']}\n")
        lines.append(f"reference lambda_max = {row['reference']:.6g} ({row['reference_kind']}"
                     + (f", residual {row['reference_residual']:.1e}"
                        if row["reference_kind"] != "explicit" else "") + ")\n")
        head = " | ".join(f"{k} HVPs" for k in BUDGETS)
        lines.append(f"| method | {head} | default stop: HVPs | default stop: error |")
        lines.append("|---|" + "---|" * (len(BUDGETS) + 2))
        for method, by_k in row["budgets"].items():
            cells = " | ".join(f"{by_k[str(k)]['median_rel_err']:.1e} "
                               f"({by_k[str(k)]['max_rel_err']:.1e})" for k in BUDGETS)
            d = row["default"][method]
            lines.append(f"| {method} | {cells} | {d['median_hvps']:g} (max {d['max_hvps']}) "
                         f"| {d['median_rel_err']:.1e} ({d['max_rel_err']:.1e}) |")
        t = row["timing"]
        lines.append(f"\nper product: gradient {t['gradient_s'] * 1e3:.2f} ms, HVP cached "
                     f"{t['hvp_cached_s'] * 1e3:.2f} ms, HVP fresh {t['hvp_fresh_s'] * 1e3:.2f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
