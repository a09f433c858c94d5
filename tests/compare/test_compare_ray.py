"""The Ray backend on a local single-node Ray: the same table as local runs."""

from __future__ import annotations

import os

import pytest

ray = pytest.importorskip("ray", reason="ray[tune] is not installed: pip install 'lrkit[ray]'")

pytestmark = pytest.mark.slow


def test_ray_units_give_the_local_table(tmp_path) -> None:
    from lrkit.compare import JsonlStore, compare

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        # a built-in name travels as the reference and is loaded on the Ray worker
        remote = compare("breast-cancer-logreg", ["cosine"], seeds=1,
                         grid=[0.1, 1.0], backend="ray", workers=2,
                         store=tmp_path / "ray.jsonl")
    finally:
        ray.shutdown()
    local = compare("breast-cancer-logreg", ["cosine"], seeds=1, grid=[0.1, 1.0])
    assert [(r.name, r.losses) for r in remote.rows] == [(r.name, r.losses) for r in local.rows]
    assert len(JsonlStore(tmp_path / "ray.jsonl").load()) == 3
