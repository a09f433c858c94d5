"""The Ray Tune backend with ASHA, on a single-node Ray started on this machine.

Ray 2.60 removed ``ray.init(local_mode=True)`` (it raises "local_mode is no longer
supported"), so "local mode" here is a local single-node Ray with 2 CPUs: real Ray
workers, real ASHA, no cluster.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="ray[tune] is not installed: pip install 'lrkit[ray]'")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


def test_ray_backend_runs_asha_and_prunes_divergence(local_ray, tasks_file: Path,
                                                      tmp_path) -> None:
    from lrkit.tune import SearchSpace
    from lrkit.tune.ray_backend import tune_ray

    # SGD linear regression: 10.0 goes to inf in epoch 1; the others train
    result = tune_ray(f"{tasks_file}:sgd_linreg", SearchSpace(1e-3, 20.0), sampler="random",
                      pruner="hyperband", n_trials=3, epochs=2, seeds=[10.0, 0.05],
                      storage_path=str(tmp_path), name="ray-test", seed=0)
    assert result.backend == "ray" and result.pruner == "asha"
    assert len(result.trials) == 3
    by_lr = {t.params["lr"]: t for t in result.trials}
    assert by_lr[10.0].diverged and by_lr[10.0].state == "pruned"
    assert by_lr[10.0].curve == {1: math.inf}
    for trial in result.trials:
        assert 1 <= len(trial.curve) <= 2
        assert (trial.state == "complete") == (len(trial.curve) == 2 and not trial.diverged)
    best = result.best
    assert best is not None and math.isfinite(best.value)
    assert best.value == min(t.value for t in result.trials if t.state == "complete")
    assert result.best_schedule == {"family": "constant", "base_lr": best.params["lr"]}
    # Ray wrote its own experiment folder where it was told to
    assert (tmp_path / "ray-test").is_dir()
