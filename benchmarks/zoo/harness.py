"""Score learning rates on the task zoo: a cached full-run trainer and the oracle's regret.

Every number comes from ``lrkit.tasks.train`` (the shipped trainer) on a zoo pair
(``lrkit.tasks.zoo``). Runs are cached on disk as JSON lines, keyed by (pair, lr, seed,
version), where the version is a fingerprint of the pair's definition (data, model,
optimizer, schedule, budget, torch version): editing a pair invalidates only its runs.

Use it from another benchmark (``benchmarks`` is put on ``sys.path``; ``zoo`` is then a
namespace package, no ``__init__`` needed)::

    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # .../benchmarks
    from zoo import harness
    harness.set_writer("auto")            # your own cache file: cache/auto.jsonl
    harness.regret("moons-mlp-nest-cos", 0.05)      # -> 0.012 (1.2% worse than L*)
    harness.diverged("moons-mlp-nest-cos", 30.0)    # -> True
    harness.oracle("moons-mlp-nest-cos")["eta_star"]

**Seeds.** ``SELECT_SEEDS`` choose eta*, ``SCORE_SEEDS`` score (L* and every method's
pick), ``FRESH_SEEDS`` measure the noise floor. A method under test must not train on
``SCORE_SEEDS`` itself; give it seeds from ``TOOL_SEEDS`` (or any seed >= 1000).

**Regret.** ``regret = (L(lr) - L*) / scale`` with ``L`` the mean final validation loss
over the 6 scoring seeds and ``scale = max(L*, 0.05 * L0)``, L0 the untrained model's
validation loss. Where L* is at least 5% of L0 (every zoo pair, see oracle.json's
``scale_floored``) this is exactly ``L/L* - 1``; the floor only keeps a loss that
approaches 0 from turning a tiny absolute gap into a huge ratio. A run *diverges* when its
loss is non-finite or ends above its own untrained loss; ``regret`` is ``inf`` when any
scoring seed diverges.

>>> lr_grid(1e-3, -2, 2)
[0.0005, 0.000707106781187, 0.001, 0.00141421356237, 0.002]
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE_DIR = HERE / "cache"
ORACLE_PATH = HERE / "oracle.json"

SELECT_SEEDS = (0, 1, 2)
SCORE_SEEDS = (100, 101, 102, 103, 104, 105)
FRESH_SEEDS = (200, 201, 202, 203, 204, 205)
TOOL_SEEDS = tuple(range(1000, 1010))
SCALE_FLOOR = 0.05  # regret denominator is at least this fraction of the untrained loss

_writer = os.environ.get("LRKIT_ZOO_WRITER", "extra")
_cache: dict[tuple[str, str, int, str], dict[str, Any]] | None = None
_versions: dict[str, str] = {}
_tasks: dict[str, Any] = {}


def set_writer(name: str) -> None:
    """Append new runs to ``cache/<name>.jsonl`` (one file per benchmark: no merge conflicts).

    Every ``*.jsonl`` in the cache folder is read; only the writer's file is appended to.
    """
    global _writer
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"writer = {name!r}: use letters, digits, - or _; e.g. 'auto'")
    _writer = name


def lr_key(lr: float) -> str:
    """The cache's spelling of an LR (12 significant digits: grid points match exactly)."""
    return f"{float(lr):.12g}"


def lr_grid(center: float, k_low: int, k_high: int) -> list[float]:
    """``center * sqrt(2) ** k`` for k in [k_low, k_high], rounded to 12 significant digits."""
    return [float(lr_key(center * 2 ** (k / 2))) for k in range(k_low, k_high + 1)]


def task(pair: str) -> Any:
    """The Task of zoo pair ``pair`` (built once per process)."""
    if pair not in _tasks:
        from lrkit.tasks import load_task

        _tasks[pair] = load_task(f"zoo:{pair}")
    return _tasks[pair]


def version(pair: str) -> str:
    """A fingerprint of the pair's definition: data bytes, model and optimizer, schedule,
    batch size, budget, loss and torch version. Changing any of them re-runs the pair."""
    if pair not in _versions:
        import torch

        t = task(pair)
        h = hashlib.sha1()
        for ds in (t.train_data, t.val_data):
            for tensor in ds.tensors:
                h.update(tensor.numpy().tobytes())
        with torch.random.fork_rng():
            model = t.model()
        opt = t.optimizer(model.parameters(), 1.0)
        parts = [repr(model), type(opt).__name__, repr(sorted(opt.defaults.items())),
                 repr(t.schedule), str(t.batch_size), str(t.epochs),
                 getattr(t.loss_fn, "__qualname__", repr(t.loss_fn)), torch.__version__]
        h.update("\n".join(parts).encode())
        _versions[pair] = h.hexdigest()[:12]
    return _versions[pair]


def _load() -> dict[tuple[str, str, int, str], dict[str, Any]]:
    global _cache
    if _cache is None:
        _cache = {}
        for path in sorted(CACHE_DIR.glob("*.jsonl")):
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a killed writer
                _cache[(row["pair"], row["lr"], row["seed"], row["version"])] = row
    return _cache


def _untrained_loss(t: Any, seed: int) -> float:
    from lrkit.tasks import seeded_rng
    from lrkit.tasks.data import evaluate, fixed_batches

    with seeded_rng(seed):  # the same initial weights as train(t, lr, seed)
        model = t.model()
    return evaluate(model, t.loss_fn, fixed_batches(t.val_data, 512))


def run(pair: str, lr: float, seed: int) -> dict[str, Any]:
    """One full run of ``pair`` at ``lr`` with ``seed``, from the cache or trained now.

    Returns:
        ``{"pair", "lr", "seed", "version", "loss", "init_loss", "nonfinite", "diverged",
        "seconds", "steps"}``; ``loss`` is the final validation loss (``inf`` when the run
        went non-finite); ``diverged`` also counts a finite loss above ``init_loss``.
    """
    key = (pair, lr_key(lr), int(seed), version(pair))
    cache = _load()
    if key in cache:
        return cache[key]
    import torch

    from lrkit.tasks import train

    torch.set_num_threads(1)
    t = task(pair)
    started = time.perf_counter()
    res = train(t, float(key[1]), int(seed))
    init = _untrained_loss(t, int(seed))
    loss = res.final_val_loss
    row = {"pair": pair, "lr": key[1], "seed": int(seed), "version": key[3],
           "loss": loss if math.isfinite(loss) else "inf", "init_loss": init,
           "nonfinite": bool(res.diverged),
           "diverged": bool(res.diverged or not math.isfinite(loss) or loss > init),
           "seconds": round(time.perf_counter() - started, 4), "steps": res.steps}
    CACHE_DIR.mkdir(exist_ok=True)
    # one write of one line in append mode: concurrent writers never interleave a line
    with open(CACHE_DIR / f"{_writer}.jsonl", "a") as fh:
        fh.write(json.dumps(row) + "\n")
    cache[key] = row
    return row


def loss_of(row: dict[str, Any]) -> float:
    """A cached run's final loss as a float (``inf`` for a non-finite run)."""
    return float(row["loss"])


def mean_loss(pair: str, lr: float, seeds: Iterable[int]) -> tuple[float, bool]:
    """(mean final val loss over ``seeds``, whether any of them diverged); inf if diverged."""
    rows = [run(pair, lr, s) for s in seeds]
    if any(r["diverged"] for r in rows):
        return math.inf, True
    return sum(loss_of(r) for r in rows) / len(rows), False


_oracle_cache: dict[str, Any] | None = None


def oracles() -> dict[str, dict[str, Any]]:
    """Every pair's oracle from ``oracle.json`` (written by ``oracle.py``)."""
    global _oracle_cache
    if _oracle_cache is None:
        if not ORACLE_PATH.exists():
            raise FileNotFoundError(f"{ORACLE_PATH} is missing; run benchmarks/zoo/oracle.py")
        _oracle_cache = json.loads(ORACLE_PATH.read_text())["pairs"]
    return _oracle_cache


def oracle(pair: str) -> dict[str, Any]:
    """The oracle of ``pair``: ``eta_star``, ``L_star``, ``L0``, ``scale``, ``floor``, flags, ...

    Raises:
        KeyError: the pair has no oracle yet (or is not a zoo pair).
    """
    table = oracles()
    if pair not in table:
        raise KeyError(f"pair = {pair!r}: no oracle in {ORACLE_PATH.name} "
                       f"({len(table)} pairs); run benchmarks/zoo/oracle.py --pairs {pair}")
    return table[pair]


def score(pair: str, lr: float, seeds: Sequence[int] = SCORE_SEEDS) -> dict[str, Any]:
    """Score ``lr`` on ``pair``: mean loss over ``seeds``, per-seed losses, divergence, regret.

    The regret is against the oracle (``oracle(pair)``), ``inf`` if any seed diverged.
    """
    rows = [run(pair, lr, s) for s in seeds]
    div = any(r["diverged"] for r in rows)
    losses = [loss_of(r) for r in rows]
    mean = math.inf if div else sum(losses) / len(losses)
    ref = oracle(pair)
    reg = math.inf if div else (mean - ref["L_star"]) / ref["scale"]
    return {"pair": pair, "lr": float(lr_key(lr)), "loss": mean, "losses": losses,
            "diverged": div, "regret": reg, "seconds": sum(r["seconds"] for r in rows)}


def regret(pair: str, lr: float) -> float:
    """Regret of ``lr`` on ``pair`` over the 6 scoring seeds (see the module docstring)."""
    return float(score(pair, lr)["regret"])


def diverged(pair: str, lr: float) -> bool:
    """True when a full run of ``pair`` at ``lr`` diverges on any of the 6 scoring seeds."""
    return mean_loss(pair, lr, SCORE_SEEDS)[1]


def textbook_lr(pair: str) -> float:
    """The textbook default LR of the pair's optimizer (lrkit's calculator table, else torch's
    own default): the centre of the oracle's grid and the "textbook default" baseline."""
    import inspect

    import torch

    from lrkit.rules import OPTIMIZERS

    opt = task(pair).optimizer([torch.nn.Parameter(torch.zeros(1))], 1.0)
    name = type(opt).__name__.lower()
    if name == "sgd":
        momentum = opt.defaults.get("momentum", 0.0)
        name = "nesterov" if opt.defaults.get("nesterov") else "momentum" if momentum else "sgd"
    if name in OPTIMIZERS:
        return float(OPTIMIZERS[name].lr)
    return float(inspect.signature(type(opt)).parameters["lr"].default)
