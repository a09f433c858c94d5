"""Two ``compare`` processes sharing one PostgreSQL-backed Optuna study split the units."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
SCRIPT = """
import json, sys
from lrkit.compare import compare
res = compare(sys.argv[1], ["constant", "cosine"], seeds=2, grid=[0.1, 1.0],
              storage=sys.argv[2])
print(json.dumps({"rows": [[r.name, list(r.losses)] for r in res.rows]}))
"""


def test_two_processes_train_each_unit_once_and_agree(postgres_url: str) -> None:
    import optuna

    from lrkit.tune.storage import open_storage

    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "src"), "OMP_NUM_THREADS": "1",
           "LRKIT_TEST_DELAY": "0.02"}
    task = f"{HERE.parent / 'fixtures/slow_tasks.py'}:slow_logreg"
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, task, postgres_url], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    tables = [json.loads(out)["rows"] for out, _ in outs]
    assert tables[0] == tables[1]
    storage = open_storage(postgres_url, heartbeat_interval=0)
    (summary,) = [s for s in optuna.get_all_study_summaries(storage)
                  if s.study_name.startswith("compare-")]
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    done = [t.user_attrs["lrkit_unit"] for t in study.get_trials()
            if t.state == optuna.trial.TrialState.COMPLETE]
    # 2 rows x 2 grid LRs on the selection seed + 2 rows x 2 seeds, each exactly once
    assert len(done) == len(set(done)) == 8
    workers = {t.user_attrs["lrkit_worker"]["pid"] for t in study.get_trials()
               if t.state == optuna.trial.TrialState.COMPLETE}
    assert len(workers) == 2  # both processes trained some
