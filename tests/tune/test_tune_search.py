"""``lrkit.tune.tune`` on real tasks: samplers, pruners, divergence, fidelities, resume."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import pytest

from lrkit.errors import ConfigError
from lrkit.tasks import load_task, train
from lrkit.tune import SearchSpace, configure_task, tune

# every test here runs real Optuna searches that train the task (make test-fast leaves them out)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def logreg():
    return load_task("breast-cancer-logreg")


def test_random_search_reports_every_trial_and_the_best_as_a_schedule(logreg) -> None:
    result = tune(logreg, SearchSpace(1e-3, 1.0), sampler="random", pruner="none",
                  n_trials=4, epochs=2)
    assert result.n_finished == 4 and result.count("complete") == 4
    values = [t.value for t in result.trials]
    assert result.best is not None and result.best.value == min(values)
    assert result.best_schedule == {"family": "constant", "base_lr": result.best.params["lr"]}
    assert result.cost_runs == pytest.approx(4.0)
    # each value is the final validation loss of a full run at that LR, reproducible
    again = train(dataclasses.replace(logreg, epochs=2), result.best.params["lr"])
    assert again.final_val_loss == pytest.approx(result.best.value, rel=1e-6)


def test_successive_halving_prunes_at_rungs_and_saves_compute(logreg) -> None:
    result = tune(logreg, SearchSpace(1e-5, 1.0), sampler="random", pruner="sha",
                  n_trials=10, epochs=9)
    pruned = [t for t in result.trials if t.state == "pruned"]
    assert pruned, "successive halving pruned nothing in 10 trials"
    for trial in pruned:
        assert max(trial.curve) in (1, 3)  # stopped at a rung: eta = 3, min resource 1
        assert trial.cost == pytest.approx(len(trial.curve) / 9)
    assert all(len(t.curve) == 9 for t in result.trials if t.state == "complete")
    assert result.cost_runs < 10 - len(pruned) * (9 - 3) / 9 + 1e-9


def test_diverging_trials_are_pruned_at_once(tasks_file: Path) -> None:
    task = load_task(f"{tasks_file}:sgd_linreg")  # SGD on regression: inf at lr 10
    result = tune(task, SearchSpace(1e-3, 20.0), seeds=[10.0, 0.3], sampler="random",
                  pruner="none", n_trials=2)
    by_lr = {t.params["lr"]: t for t in result.trials}
    nan_run, blow_up = by_lr[10.0], by_lr[0.3]
    assert nan_run.state == "pruned" and nan_run.diverged
    assert nan_run.curve == {1: math.inf} and nan_run.cost <= 1 / 5
    # 0.3 stays finite but grows ~1000x per epoch: pruned after epoch 2, not 5
    assert blow_up.state == "pruned" and blow_up.diverged
    assert max(blow_up.curve) == 2 and blow_up.cost == pytest.approx(2 / 5)
    assert result.best is None and result.best_schedule is None


def test_data_fidelity_trains_early_rungs_on_subsets(logreg) -> None:
    result = tune(logreg, SearchSpace(1e-4, 1.0), sampler="random", pruner="sha",
                  fidelity="data", n_trials=6, epochs=3)
    for trial in result.trials:
        assert set(trial.curve) <= {1, 3, 9}
    complete = [t for t in result.trials if t.state == "complete"]
    assert complete
    # 1/9 + 1/3 + all of the data, each for the whole 3-epoch schedule
    full = logreg.steps_per_epoch * 3
    expected = sum(train(logreg, 0.1, epochs=3, train_fraction=f).steps
                   for f in (1 / 9, 1 / 3, 1.0)) / full
    assert complete[0].cost == pytest.approx(expected)
    for trial in result.trials:
        if trial.state == "pruned":
            assert trial.cost < expected


def test_seeds_run_first_and_narrow_the_space(logreg) -> None:
    result = tune(logreg, seeds=[0.05], sampler="tpe", pruner="none", n_trials=4, epochs=1)
    assert result.trials[0].params["lr"] == 0.05
    assert all(0.005 <= t.params["lr"] <= 0.5 for t in result.trials)


def test_grid_covers_the_practitioners_grid_once(logreg) -> None:
    result = tune(logreg, SearchSpace(1e-3, 0.1), sampler="grid", pruner="none",
                  n_trials=50, epochs=1)
    lrs = sorted(t.params["lr"] for t in result.trials)
    assert lrs == [0.001, 0.003, 0.01, 0.03, 0.1] and result.n_trials == 5


def test_schedule_shape_warmup_and_weight_decay_are_searched(logreg) -> None:
    space = SearchSpace(1e-3, 0.5, schedules=("cosine", "constant"), warmup=(0.05, 0.2),
                        weight_decay=(1e-5, 1e-2))
    result = tune(logreg, space, sampler="random", pruner="none", n_trials=3, epochs=2)
    best = result.best
    assert best is not None and set(best.params) == {"lr", "schedule", "warmup", "weight_decay"}
    spec = result.best_schedule
    assert spec is not None and spec["family"] == "join"  # the warmup joined to the shape
    assert spec["pieces"][1]["family"] == best.params["schedule"]
    assert result.best_weight_decay == best.params["weight_decay"]
    variant = configure_task(logreg, best.params)
    optimizer = variant.optimizer(variant.model().parameters(), 0.1)
    assert optimizer.param_groups[0]["weight_decay"] == best.params["weight_decay"]


def test_resume_continues_the_study_without_repeating_configurations(logreg, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'lrkit.db'}"
    first = tune(logreg, SearchSpace(1e-4, 1.0), study="s", storage=url, sampler="random",
                 pruner="none", n_trials=3, epochs=1)
    second = tune(logreg, SearchSpace(1e-4, 1.0), study="s", storage=url, sampler="random",
                  pruner="none", n_trials=5, epochs=1)
    assert second.n_finished == 5
    assert [t.params for t in second.trials[:3]] == [t.params for t in first.trials]
    # a resumed worker must not replay the first run's random stream
    assert len({t.params["lr"] for t in second.trials}) == 5


def test_resume_with_other_options_is_refused(logreg, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'lrkit.db'}"
    tune(logreg, SearchSpace(1e-4, 1.0), study="s", storage=url, sampler="random",
         pruner="none", n_trials=1, epochs=1)
    with pytest.raises(ConfigError, match="sampler = 'random', not 'grid'"):
        tune(logreg, SearchSpace(1e-4, 1.0), study="s", storage=url, sampler="grid",
             pruner="none", n_trials=1, epochs=1)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sampler": "bayes"}, "sampler = 'bayes'"),
    ({"pruner": "asha"}, "pruner = 'asha'"),
    ({"n_trials": 0}, "n_trials = 0"),
    ({"fidelity": "time"}, "fidelity = 'time'"),
    ({"seeds": [5.0]}, "seeds = 5.0: outside"),
    ({"seeds": [-1.0]}, "seeds = -1.0"),
    ({"epochs": 0}, "epochs = 0"),
    ({"storage": "ftp://host/db"}, "storage = 'ftp://host/db'"),
])
def test_bad_arguments_raise_one_line_config_errors(logreg, kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match) as err:
        tune(logreg, SearchSpace(1e-4, 1.0), n_trials=kwargs.pop("n_trials", 1), **kwargs)
    assert "\n" not in str(err.value)


def test_progress_callbacks_count_finished_trials(logreg) -> None:
    seen: list[tuple[int, int, int]] = []
    starts: list[tuple[int, int]] = []
    tune(logreg, SearchSpace(1e-3, 1.0), sampler="random", pruner="none", n_trials=3, epochs=1,
         on_trial=lambda rec, done, total: seen.append((rec.number, done, total)),
         on_start=lambda done, total: starts.append((done, total)))
    assert starts == [(0, 3)] and seen == [(0, 1, 3), (1, 2, 3), (2, 3, 3)]


def test_timeout_stops_the_worker_and_the_study_stays_resumable(logreg, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'lrkit.db'}"
    stopped = tune(logreg, SearchSpace(1e-3, 1.0), study="t", storage=url, sampler="random",
                   pruner="none", n_trials=3, epochs=1, timeout=0.0)
    assert stopped.n_finished == 0 and stopped.best is None
    done = tune(logreg, SearchSpace(1e-3, 1.0), study="t", storage=url, sampler="random",
                pruner="none", n_trials=3, epochs=1)
    assert done.n_finished == 3


def test_grid_is_centred_on_a_seed(logreg) -> None:
    result = tune(logreg, seeds=[0.02], sampler="grid", pruner="none", n_trials=100, epochs=1,
                  grid_factor=3.0)
    lrs = sorted(t.params["lr"] for t in result.trials)
    assert 0.02 in lrs and all(0.002 <= lr <= 0.2 for lr in lrs)
    assert [round(b / a, 9) for a, b in itertools.pairwise(lrs)] == [3.0] * (len(lrs) - 1)


def test_a_resumed_grid_visits_every_point_exactly_once(logreg, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'lrkit.db'}"
    space = SearchSpace(1e-4, 1.0)  # 9 grid points
    tune(logreg, space, study="g", storage=url, sampler="grid", pruner="none", n_trials=4,
         epochs=1, seed=7)
    result = tune(logreg, space, study="g", storage=url, sampler="grid", pruner="none",
                  n_trials=9, epochs=1, seed=7)
    assert sorted(t.params["lr"] for t in result.trials) == space.grid()["lr"]
