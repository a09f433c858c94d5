"""Wall-clock of one ``lrkit compare`` serially and with 2 local worker processes.

digits-mlp, the 6 default schedules, the default 5-LR grid and 3 seeds: 48 units of
about a third of a second each. Each variant starts from an empty in-memory store, so
both train all 48 units; the table must be identical. The machine's load average is
recorded beside the times: on a shared 2-core machine the speed-up is what the other
jobs leave.

    .venv/bin/python benchmarks/compare/wallclock.py
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "wallclock.json"


def main() -> None:
    import torch

    from lrkit.compare import compare

    torch.set_num_threads(1)
    rows: dict[str, list[dict[str, float]]] = {}
    tables = {}
    for workers in (1, 2, 1, 2):  # interleaved: the load drifts
        load = os.getloadavg()[0]
        started = time.perf_counter()
        res = compare("digits-mlp", workers=workers)
        wall = time.perf_counter() - started
        tables[workers] = [(r.name, r.losses) for r in res.rows]
        rows.setdefault(str(workers), []).append(
            {"wall_seconds": round(wall, 2), "compute_seconds": res.compute_seconds,
             "load_before": load,
             "units": sum(len(r.grid) + len(r.seeds) for r in res.rows)})
        print(workers, round(wall, 1), res.compute_seconds, load, flush=True)
    assert tables[1] == tables[2], "parallel and serial tables differ"
    doc = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
           "command": "compare('digits-mlp', workers=1 | 2): 6 schedules x (5 grid + 3 seeds)",
           "runs": rows, "identical_tables": True}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
