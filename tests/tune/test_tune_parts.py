"""The pieces of the search: space and grid, storage URLs, worker records, seeds, the plot."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys

import pytest

from lrkit.errors import ConfigError, DataError
from lrkit.tune import SearchSpace, log_grid, suggestions_from_calc, suggestions_from_rangetest
from lrkit.tune.objective import configure_task, data_fractions
from lrkit.tune.result import TrialRecord, TuneResult
from lrkit.tune.storage import driver_url, open_storage, redact
from lrkit.tune.workers import is_dead, worker_identity

# --- space -------------------------------------------------------------------------------


def test_default_grid_is_the_1_3_10_sequence() -> None:
    assert log_grid(1e-5, 1.0) == [1e-05, 3e-05, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03,
                                   0.1, 0.3, 1.0]


def test_anchored_grid_is_centred_on_the_suggestion() -> None:
    grid = log_grid(0.001, 0.1, factor=3.0, anchor=0.01)
    assert 0.01 in grid
    ratios = [b / a for a, b in itertools.pairwise(grid)]
    assert all(r == pytest.approx(3.0) for r in ratios)
    assert min(grid) >= 0.001 and max(grid) <= 0.1


def test_grid_crosses_the_searched_axes() -> None:
    space = SearchSpace(1e-3, 1e-2, schedules=("cosine", "constant"), warmup=(0.0, 0.1),
                        weight_decay=(1e-4, 1e-2))
    grid = space.grid()
    assert grid == {"lr": [0.001, 0.003, 0.01], "schedule": ["cosine", "constant"],
                    "warmup": [0.0, 0.05, 0.1], "weight_decay": [0.0001, 0.001, 0.01]}
    assert space.grid_size() == 3 * 2 * 3 * 3


def test_suggest_uses_optuna_distributions() -> None:
    import optuna

    space = SearchSpace(1e-4, 1e-1, schedules=("cosine",), warmup=(0.0, 0.2))
    trial = optuna.trial.FixedTrial({"lr": 0.01, "schedule": "cosine", "warmup": 0.1})
    assert space.suggest(trial) == {"lr": 0.01, "schedule": "cosine", "warmup": 0.1}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    lrs = [space.suggest(study.ask())["lr"] for _ in range(200)]
    assert min(lrs) >= 1e-4 and max(lrs) <= 1e-1
    # log-uniform: about as many draws per decade
    per_decade = [sum(10.0**k <= v < 10.0 ** (k + 1) for v in lrs) for k in (-4, -3, -2)]
    assert min(per_decade) > 40


def test_around_narrows_to_a_band_and_round_trips() -> None:
    space = SearchSpace.around([0.003, 0.03], factor=10, schedules=("cosine",))
    assert (space.lr_min, space.lr_max) == pytest.approx((3e-4, 0.3))
    assert SearchSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space
    assert space.contains({"lr": 0.01}) and not space.contains({"lr": 1.0})


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lr_min": 0.0}, "lr range"),
    ({"lr_min": 1.0, "lr_max": 0.1}, "lr range"),
    ({"warmup": (0.0, 1.0)}, "warmup"),
    ({"warmup": (0.2, 0.1)}, "warmup"),
    ({"weight_decay": (0.0, 0.1)}, "weight_decay"),
    ({"schedules": ("join",)}, "no LR parameter"),
    ({"schedules": ("cosin",)}, "cosin"),
])
def test_bad_space_is_a_config_error(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        SearchSpace(**kwargs)


def test_around_needs_a_positive_suggestion() -> None:
    with pytest.raises(ConfigError, match="none is a positive number"):
        SearchSpace.around([float("nan"), -1.0])


# --- objective helpers -------------------------------------------------------------------


def test_data_fractions_end_with_the_whole_set() -> None:
    assert data_fractions(4, 2) == [0.125, 0.25, 0.5, 1.0]


def test_weight_decay_needs_an_optimizer_that_has_it() -> None:
    import torch

    from lrkit.tasks import Task

    task = Task("t", model=lambda: torch.nn.Linear(2, 1),
                optimizer=lambda p, lr: torch.optim.Rprop(p, lr=lr),
                loss_fn=torch.nn.functional.mse_loss, train_data=[0] * 4, val_data=[0],
                batch_size=2, epochs=1)
    # Rprop has no weight_decay: a clear error, not a silent no-op
    variant = configure_task(task, {"lr": 0.1, "weight_decay": 1e-3})
    with pytest.raises(ConfigError, match="Rprop has no weight_decay"):
        variant.optimizer(variant.model().parameters(), 0.1)


# --- storage -----------------------------------------------------------------------------


def test_redact_hides_passwords_only() -> None:
    assert redact("postgresql://u:s3cret@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert redact("postgresql://u@h/d") == "postgresql://u@h/d"
    assert redact(None) == "memory"


def test_bare_postgresql_url_gets_the_installed_driver() -> None:
    url = driver_url("postgresql://u@h/d")
    import importlib.util

    if importlib.util.find_spec("psycopg") is None and \
            importlib.util.find_spec("psycopg2") is not None:
        assert url == "postgresql+psycopg2://u@h/d"
    else:  # psycopg 3 is SQLAlchemy's default driver for a bare URL
        assert url == "postgresql://u@h/d"
    assert driver_url("postgresql+psycopg2://u@h/d") == "postgresql+psycopg2://u@h/d"


def test_sqlite_storage_has_a_heartbeat(tmp_path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'a.db'}", heartbeat_interval=2,
                           grace_period=5)
    assert storage.get_heartbeat_interval() == 2
    assert storage.get_heartbeat_stale_trial_callback() is not None
    with pytest.raises(ConfigError, match="must exceed heartbeat_interval"):
        open_storage(f"sqlite:///{tmp_path / 'b.db'}", heartbeat_interval=5, grace_period=5)
    with pytest.raises(ConfigError, match="heartbeat_interval = -1: must be >= 0"):
        open_storage(f"sqlite:///{tmp_path / 'c.db'}", heartbeat_interval=-1)


def test_a_file_that_is_not_a_database_is_a_config_error(tmp_path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("these are notes, not a database\n" * 20)
    with pytest.raises(ConfigError, match=r"cannot open \(file is not a database\)") as err:
        open_storage(f"sqlite:///{notes}")
    assert "\n" not in str(err.value)


# --- workers -----------------------------------------------------------------------------


def test_worker_records_tell_live_dead_and_foreign_workers_apart() -> None:
    me = worker_identity(3)
    assert me["pid"] == os.getpid() and not is_dead(me)
    child = subprocess.run(
        [sys.executable, "-c", "import json; from lrkit.tune.workers import worker_identity; "
                               "print(json.dumps(worker_identity(0)))"],
        capture_output=True, text=True, check=True)
    gone = json.loads(child.stdout)
    if gone["start"] is None:
        pytest.skip("no /proc on this system: only the heartbeat detects dead workers")
    assert is_dead(gone)  # the process has exited
    assert not is_dead(gone | {"host": "another-machine"})  # left to the heartbeat
    assert not is_dead(gone | {"boot": "before-a-reboot"})
    assert not is_dead({})


# --- seeds -------------------------------------------------------------------------------


def test_seed_readers_take_files_dicts_and_objects(tmp_path) -> None:
    calc = tmp_path / "calc.json"
    calc.write_text(json.dumps({"initial_lr": 3e-4, "rules": []}))
    assert suggestions_from_calc(calc) == [3e-4]

    class Found:
        suggestion = 0.01
        peak_lr = None  # no task schedule: the constant-LR suggestion is the seed

    assert suggestions_from_rangetest(Found()) == [0.01]
    assert suggestions_from_rangetest({"suggested_lr": 0.02, "peak_lr": None}) == [0.02]


@pytest.mark.parametrize(("reader", "source", "match"), [
    (suggestions_from_calc, {"final_lr": 1e-3}, "no positive 'initial_lr'"),
    (suggestions_from_rangetest, {"suggested_lr": None}, "no positive 'peak_lr'"),
    (suggestions_from_rangetest, {"suggested_lr": math.nan}, "no positive 'peak_lr'"),
    (suggestions_from_calc, "/no/such/calc.json", "no such file"),
])
def test_seed_readers_reject_unusable_documents(reader, source, match) -> None:
    with pytest.raises(DataError, match=match):
        reader(source)


def test_seed_reader_rejects_malformed_json(tmp_path) -> None:
    bad = tmp_path / "find.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not readable JSON"):
        suggestions_from_rangetest(bad)


# --- plot --------------------------------------------------------------------------------


def test_plot_marks_pruned_diverged_and_best(tmp_path) -> None:
    from lrkit.report.tune_plot import plot_trials

    trials = (
        TrialRecord(0, "complete", {"lr": 0.01, "schedule": "cosine"}, 0.3, {1: 0.3}, 1.0),
        TrialRecord(1, "pruned", {"lr": 0.001, "schedule": "constant"}, 0.9, {1: 0.9}, 0.1),
        TrialRecord(2, "pruned", {"lr": 5.0, "schedule": "cosine"}, math.inf, {1: math.inf},
                    0.1, diverged=True),
        TrialRecord(3, "failed", {"lr": 0.1}, None, {}, 0.0),
    )
    result = TuneResult("s", "memory", "t", "tpe", "hyperband", "epochs", 4, trials, trials[0],
                        None)
    out = plot_trials(result, tmp_path / "trials.svg")
    text = out.read_text()
    for label in ("pruned, last reported loss (constant)", "diverged (pruned at once)",
                  "best: lr=0.01", "complete (cosine)"):
        assert label in text
    with pytest.raises(ConfigError, match="unsupported file type"):
        plot_trials(result, tmp_path / "trials.gif")
