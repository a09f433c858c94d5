"""benchmarks/zoo: the run cache, the oracle protocol and the regret API (tiny grids)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from zoo import harness, oracle

PAIR = "diabetes-linreg-nest-const"  # 300 updates of a linear model: ~0.1 s a run


@pytest.fixture
def tmp_harness(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(harness, "ORACLE_PATH", tmp_path / "oracle.json")
    monkeypatch.setattr(harness, "_cache", None)
    monkeypatch.setattr(harness, "_oracle_cache", None)
    monkeypatch.setattr(harness, "_writer", "test")
    return tmp_path


def test_grid_points_are_their_own_cache_keys():
    grid = harness.lr_grid(0.1, -3, 3)
    assert len(grid) == 7 and grid[3] == 0.1
    assert all(harness.lr_key(lr) == harness.lr_key(float(harness.lr_key(lr))) for lr in grid)
    assert grid[5] / grid[3] == pytest.approx(2.0)


def test_run_is_cached_on_disk_and_read_back(tmp_harness):
    first = harness.run(PAIR, 0.01, 100)
    lines = (tmp_harness / "cache" / "test.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0]) == first
    assert harness.run(PAIR, 0.01, 100) is first  # no second training run
    harness._cache = None  # a new process: reads the file
    assert harness.run(PAIR, 0.01 * (1 + 1e-14), 100) == first
    assert len((tmp_harness / "cache" / "test.jsonl").read_text().splitlines()) == 1
    assert first["version"] == harness.version(PAIR) and first["steps"] == 300
    assert 0 < first["loss"] < first["init_loss"] and not first["diverged"]


def test_divergence_counts_losses_above_the_untrained_loss(tmp_harness):
    row = harness.run(PAIR, 3.0, 100)
    assert row["diverged"]
    assert row["nonfinite"] or harness.loss_of(row) > row["init_loss"]
    assert harness.mean_loss(PAIR, 3.0, [100]) == (math.inf, True)


@pytest.mark.slow
def test_oracle_protocol_on_a_small_grid(tmp_harness, monkeypatch):
    monkeypatch.setattr(oracle, "K_SPAN", 4)
    monkeypatch.setattr(oracle, "WINDOW", 2)
    entry = oracle.oracle_of(PAIR)
    assert entry["split"] == "dev" and entry["family"] == "diabetes-linreg"
    # eta* is the best of the 3-seed selection and not at the window's edge
    sel = {float(k): v for k, v in entry["selection"].items()}
    assert sel[entry["eta_star"]] == min(sel.values())
    assert entry["window_k"][0] + 2 <= entry["k_star"] <= entry["window_k"][1] - 2
    assert entry["scale"] == max(entry["L_star"], 0.05 * entry["L0"])
    oracle._write({PAIR: entry})
    # regret of eta* is 0 by construction (same scoring seeds), a far LR is worse
    assert harness.regret(PAIR, entry["eta_star"]) == 0.0
    assert harness.regret(PAIR, entry["eta_star"] / 16) > 0.0
    assert harness.oracle(PAIR)["eta_star"] == entry["eta_star"]
    assert harness.diverged(PAIR, 3.0) and harness.regret(PAIR, 3.0) == math.inf
    with pytest.raises(KeyError, match="no oracle"):
        harness.oracle("moons-mlp-nest-cos")
