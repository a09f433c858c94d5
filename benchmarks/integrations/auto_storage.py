"""``lrkit.auto`` with its candidates shared by 2 processes through one Optuna database,
against one process alone: same pick and cost; what the database costs in wall-clock.

The task is the executor tests' ``slow_logreg`` with 4x the epochs (each update waits
4 ms off-CPU, a stand-in for a device step). One process runs ``auto(task, budget=1.0)``
alone; then two processes run the same call with ``Executor(storage=sqlite:///...)``
on one fresh SQLite file (one machine; PostgreSQL is the many-machine case), for each
poll interval. Written to ``auto_storage.json``. Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/integrations/auto_storage.py
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("auto_storage.json")
TASK = f"{ROOT}/tests/fixtures/slow_tasks.py:slow_logreg_cosine"
POLLS = (2.0, 0.5)


def child(storage: str, poll: float) -> None:
    from lrkit.auto import Executor, auto
    from lrkit.tasks import load_task

    task = load_task(TASK)
    task = dataclasses.replace(task, epochs=task.epochs * 4, name=task.name + "-x4")
    ex = None if storage == "none" else Executor(storage=storage, poll_seconds=poll)
    started = time.perf_counter()
    rec = auto(task, budget=1.0, executor=ex)
    print(json.dumps({"lr": rec.lr, "cost_runs": rec.cost_runs,
                      "wall_s": round(time.perf_counter() - started, 2)}))


def run(storage: str, poll: float, n: int) -> list[dict]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, __file__, "--child", storage, str(poll)],
                              env=env, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    return [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in procs]


def main() -> None:
    rows = [{"setting": "one process, no storage", **run("none", 0.0, 1)[0]}]
    for poll in POLLS:
        db = Path(tempfile.mkdtemp()) / "auto.db"
        for i, r in enumerate(run(f"sqlite:///{db}", poll, 2)):
            rows.append({"setting": f"2 processes sharing SQLite, poll {poll} s, #{i}", **r})
    if len({(r["lr"], r["cost_runs"]) for r in rows}) != 1:
        sys.exit("the pick or cost differs between the settings")
    for r in rows:
        print(json.dumps(r))
    OUT.write_text(json.dumps({"load_average": os.getloadavg(), "rows": rows}, indent=1)
                   + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], float(sys.argv[3]))
    else:
        main()
