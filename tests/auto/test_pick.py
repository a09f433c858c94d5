"""The choice logic, exactly, on known loss-against-LR curves (a fake trainer: no training)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
import torch

from lrkit.auto import (
    DEFAULT_DESIGN,
    MemoryRunCache,
    auto,
    expected_regret,
    fake_trainer,
    risk_offset,
    smooth_minimum,
    steepness,
)
from lrkit.auto.design import Design
from lrkit.auto.search import Trial

from ._helpers import regression_task

# the pick with every correction off: the fit's minimum is the answer (no scout: the
# ladder centres on the prior and finds the bowl itself; no rounding to the LR grid)
# v6's centred ladder {c/2, c, 2c} with no planned extension: the scenarios below are
# written around it (the shipped ladder is sequential: see the test of its third run)
CENTRED = {"ladder_low": -1, "extend_max": 0}
PLAIN = Design(range_test=False, curvature=False, horizon_probe=False, horizon_alpha=0.0,
               lean=0.0, scout=False, grid=0, horizon_margin=0.0, **CENTRED)


def bowl(best: float, width: float = 1.0):
    """Loss 1 + ((log2 lr - log2 best) / width)^2: an exact quadratic in octaves."""
    return lambda lr: 1.0 + ((math.log2(lr) - math.log2(best)) / width) ** 2


def by_length(short: Callable[[float], float], long: Callable[[float], float]):
    """A fake trainer whose runs under 50 updates (regression_task(epochs=30)'s scout)
    follow ``short`` and longer ones ``long``: a horizon effect, exactly."""
    runs = {False: fake_trainer(short), True: fake_trainer(long)}
    return lambda task, lr, seed, steps: runs[steps >= 50](task, lr, seed, steps)


def test_smooth_minimum_takes_the_fits_vertex_not_the_best_grid_point() -> None:
    xs = [-4.0, -3.0, -2.0, -1.0, 0.0]
    ys = [1 + (x + 2.4) ** 2 for x in xs]
    m = smooth_minimum(xs, ys)
    assert m.fitted and m.x == pytest.approx(-2.4) and m.best_x == -2.0 and m.edge == ""
    # at an edge there is no bracket: the best point, flagged
    edge = smooth_minimum([0.0, 1.0, 2.0], [3.0, 2.0, 1.0])
    assert not edge.fitted and edge.x == 2.0 and edge.edge == "high"
    # a cliff inside the window does not drag the vertex past the neighbours
    cliff = smooth_minimum([-2.0, -1.0, 0.0, 1.0, 2.0], [1.3, 1.1, 1.0, 1.2, 50.0])
    assert -1.0 <= cliff.x <= 1.0
    with pytest.raises(ValueError, match="no finite loss"):
        smooth_minimum([0.0, 1.0], [math.inf, math.nan])


def test_steepness_marks_a_diverged_side_as_a_cliff() -> None:
    xs = [-2.0, -1.0, 0.0, 1.0]
    ys = [1.8, 1.2, 1.0, math.inf]
    low, high = steepness(xs, ys, smooth_minimum(xs, ys))
    assert high == 1.0 and 0 < low < high


def test_the_risk_aware_offset_leans_low_only_when_the_high_side_is_steeper() -> None:
    assert risk_offset(0.5, k_low=0.2, k_high=0.2) == 0.0
    lean = risk_offset(0.5, k_low=0.1, k_high=1.0)
    assert -1.0 < lean < 0
    # wider spread, further lean; the lean is the minimiser of the expected regret
    assert risk_offset(1.0, k_low=0.1, k_high=1.0) < lean
    best = expected_regret(lean, 0.5, k_low=0.1, k_high=1.0)
    for other in (lean - 0.1, 0.0, lean + 0.1):
        assert expected_regret(other, 0.5, k_low=0.1, k_high=1.0) >= best


def test_with_no_corrections_the_pick_is_the_curves_minimum_between_grid_points() -> None:
    task = regression_task()
    # the prior for SGD+momentum is 0.1: the ladder is 0.05 .. 0.2; the bowl's floor is
    # at 0.07, between two candidates (0.05 is the best: the ladder grows one step down)
    rec = auto(task, design=PLAIN, trainer=fake_trainer(bowl(0.07)))
    assert rec.lr == pytest.approx(0.07, rel=1e-6)
    assert rec.stage("search").data["extensions"] == 1
    assert all(s.name != "range test" for s in rec.stages)


@pytest.mark.parametrize("best,third", [(0.03, 0.05), (0.4, 0.4)])
def test_the_shipped_ladder_runs_its_third_lr_where_the_first_two_point(best, third):
    # {c, 2c} = {0.1, 0.2} around the SGD-momentum prior, then one run past whichever
    # edge holds the best: below 0.1 when 0.1 wins, above 0.2 when 0.2 wins
    shipped = Design(**{**PLAIN.to_dict(), "ladder_low": DEFAULT_DESIGN.ladder_low,
                        "extend_max": DEFAULT_DESIGN.extend_max})
    rec = auto(regression_task(), design=shipped, trainer=fake_trainer(bowl(best)))
    ladder = [t.lr for t in rec.trials if t.rung == 0]
    assert ladder[:2] == pytest.approx([0.1, 0.2])
    assert ladder[2] == pytest.approx(third)
    assert rec.stage("search").data["extensions"] >= 1


def test_the_ladder_grows_past_the_edge_that_holds_the_best() -> None:
    task = regression_task()
    # the best LR, 1.6, sits three octaves above the ladder's top (0.2)
    rec = auto(task, design=PLAIN, trainer=fake_trainer(bowl(1.6)))
    search = rec.stage("search")
    assert search.data["extensions"] >= 3
    assert max(search.data["ladder"]) >= 1.6
    assert rec.lr == pytest.approx(1.6, rel=1e-6)
    # and downwards
    rec = auto(task, design=PLAIN, trainer=fake_trainer(bowl(0.005)))
    assert min(rec.stage("search").data["ladder"]) <= 0.005
    assert rec.lr == pytest.approx(0.005, rel=1e-6)


@pytest.mark.parametrize("best", [0.0004, 0.07, 3.0])
def test_the_scout_centres_the_ladder_on_the_bowl_at_no_more_than_the_budget(best) -> None:
    # short coarse runs find the bowl (here up to 8 octaves from the prior, 0.1), the
    # ladder of longer runs around it resolves it; the pick is rounded to 2**(1/4) steps
    # (a wide bowl: a loss 3x the best counts as a blow-up, which caps the choice)
    design = Design(range_test=False, horizon_alpha=0.0)
    rec = auto(regression_task(epochs=30), design=design,
               trainer=fake_trainer(bowl(best, width=3.0)))
    scout = [t for t in rec.trials if t.rung == 2]
    ladder = [t for t in rec.trials if t.rung == 0]
    assert scout and ladder and max(t.steps for t in scout) < min(t.steps for t in ladder)
    assert best / 2 ** 0.25 <= rec.lr <= best * 2 ** 0.25
    assert rec.cost_runs <= 2.0


def test_the_choice_never_exceeds_the_lowest_unstable_lr() -> None:
    # the loss keeps falling up to 0.4 and diverges from there: the fit would go higher
    def cliff(lr: float) -> float:
        return math.inf if lr >= 0.4 else 1.0 - 0.1 * math.log2(lr)

    rec = auto(regression_task(), design=PLAIN, trainer=fake_trainer(cliff))
    choice = rec.stage("choice").data
    assert choice["ceilings"]["unstable search run"] == pytest.approx(0.4)
    assert rec.lr <= 0.4 * DEFAULT_DESIGN.ceiling_factor
    # a full run destabilises at a lower LR than a short one: with the horizon margin the
    # ceiling drops by margin octaves per octave of extrapolation (here 1 per octave)
    task = regression_task()
    rec = auto(task, design=Design(**{**PLAIN.to_dict(), "horizon_margin": 1.0}),
               trainer=fake_trainer(cliff))
    steps = rec.stage("search").data["steps"]
    ceiling = rec.stage("choice").data["ceilings"]["unstable search run"]
    assert ceiling == pytest.approx(0.4 * steps / task.total_steps)
    assert rec.lr <= ceiling
    # a blow-up (finite but 3x the best) counts as unstable too
    def blowup(lr: float) -> float:
        return 10.0 if lr >= 0.4 else 1.0 - 0.1 * math.log2(lr)

    rec = auto(regression_task(), design=PLAIN, trainer=fake_trainer(blowup))
    assert rec.lr < 0.4


def test_the_range_tests_divergence_gets_the_same_horizon_margin() -> None:
    # a 100-update sweep that blew up at 1.0, for a 400-update run: two octaves of
    # extrapolation at one octave per octave put the ceiling at 0.25; no margin, at 1.0
    from lrkit.auto.choice import stability_ceilings

    margin = Design(horizon_margin=1.0)
    assert stability_ceilings(1.0, [], margin, 400, rt_steps=100) == {
        "range test divergence": pytest.approx(0.25)}
    assert stability_ceilings(1.0, [], Design(horizon_margin=0.0), 400, rt_steps=100)[
        "range test divergence"] == pytest.approx(1.0)
    # a sweep as long as the run needs no margin
    assert stability_ceilings(1.0, [], margin, 400, rt_steps=400)[
        "range test divergence"] == pytest.approx(1.0)


def test_unstable_progress_judges_a_run_by_its_share_of_the_best_runs_progress() -> None:
    from lrkit.auto.choice import stability_ceilings

    def trial(lr: float, loss: float) -> Trial:
        return Trial(lr=lr, rung=0, steps=100, val_losses=(loss,), loss=loss, cost_runs=0.1)

    # untrained 2.0, best 0.5: the run at 0.4 ends at 1.4, under 3x the best (stable by the
    # blow-up rule) but with 40% of the best run's progress (unstable at a 50% share)
    trials = [trial(0.1, 0.5), trial(0.4, 1.4)]
    plain = Design(horizon_margin=0.0)
    assert "unstable search run" not in stability_ceilings(math.inf, trials, plain, 100, 2.0)
    by_progress = Design(horizon_margin=0.0, unstable_progress=0.5)
    assert stability_ceilings(math.inf, trials, by_progress, 100, 2.0)["unstable search run"] == 0.4
    assert "unstable search run" not in stability_ceilings(
        math.inf, trials, Design(horizon_margin=0.0, unstable_progress=0.3), 100, 2.0)


def test_extend_up_off_grows_the_ladder_only_downwards() -> None:
    # the scout's short runs see a bowl at 0.01, the ladder's longer runs a loss that keeps
    # falling towards LR 1000: the ladder's best sits at its top edge
    trainer = by_length(bowl(0.01, width=3.0), bowl(1000.0, width=3.0))

    def top_of_ladder(extend_up: bool) -> tuple[float, float]:
        design = Design(range_test=False, ladder_low=-1, extend_max=1, extend_up=extend_up)
        rec = auto(regression_task(epochs=30), design=design, trainer=trainer)
        ladder = [t.lr for t in rec.trials if t.rung == 0]
        return max(ladder[:3]), max(ladder)

    first, grown = top_of_ladder(True)
    assert grown > first  # the default grows past the top edge
    first, grown = top_of_ladder(False)
    assert grown == first


def test_a_scout_that_grew_shortens_the_ladder_so_the_budget_holds() -> None:
    # the best LR is 1e-6, decades below where the search starts: the scout grows past
    # its edge several times and spends more than its plan reserved
    def far_below(lr: float) -> float:
        return 1.0 + 0.1 * (math.log2(lr) - math.log2(1e-6)) ** 2

    def run(fill_down: bool) -> tuple[float, int]:
        rec = auto(regression_task(epochs=20), design=Design(fill_down=fill_down),
                   trainer=fake_trainer(far_below))
        return rec.cost_runs, rec.stage("search").data["steps"]

    cost, steps = run(True)
    cost_planned, steps_planned = run(False)
    assert cost_planned > 1.0 >= cost  # without it the plan's ladder overspends
    assert steps < steps_planned


def test_scout_real_length_shifts_the_scouts_minimum_to_the_ladders_real_length() -> None:
    # the scout grows far past its edge, so the budget runs the ladder shorter than
    # planned: by default its minimum is moved for the planned length; with
    # scout_real_length for the length the ladder really ran
    def far_below(lr: float) -> float:
        return 1.0 + 0.1 * (math.log2(lr) - math.log2(1e-6)) ** 2

    def search(**knobs) -> dict:
        # grid 0: no rounding, so the centre's move is the shift's difference exactly
        rec = auto(regression_task(epochs=20), design=Design(grid=0, **knobs),
                   trainer=fake_trainer(far_below))
        return rec.stage("search").data | {"planned": rec.stage("budget").data["rung_steps"]}

    planned, real = search(), search(scout_real_length=True)
    assert real["steps"] == planned["steps"] < planned["planned"]  # the ladder ran shorter
    # a shorter horizon is a smaller shift: the centre moves up by alpha octaves per
    # octave of the length the plan over-counted
    over = math.log2(planned["planned"] / planned["steps"])
    moved = math.log2(real["center"] / planned["center"])
    assert over > 0 and moved == pytest.approx(DEFAULT_DESIGN.horizon_alpha * over)


def _slow_start_trainer(task, long_blowup: bool):
    """Short runs (under 30% of the run) above 0.3 sit at the untrained loss (a slow start
    that reads as instability); longer runs follow a bowl at 0.2, or blow up above 0.1."""
    from lrkit.auto.pipeline import _untrained_loss
    from lrkit.tasks import TrainResult

    untrained = _untrained_loss(task, 0)

    def trainer(task, lr: float, seed: int, total_steps: int) -> TrainResult:
        short = total_steps <= 0.3 * task.total_steps
        if short and lr > 0.3:
            loss = 1.02 * untrained
        elif not short and long_blowup and lr > 0.1:
            loss = 10 * untrained
        else:
            loss = 0.1 * untrained * (1 + (math.log2(lr / 0.2)) ** 2)
        return TrainResult(val_losses=[loss], train_losses=[loss], final_val_loss=loss,
                           diverged=False, steps=total_steps, seconds=0.0, lr=lr, seed=seed)

    return trainer


@pytest.mark.parametrize("long_blowup", [False, True])
def test_a_ceiling_far_below_the_fit_is_confirmed_by_longer_runs(long_blowup) -> None:
    # ladder runs of a tenth of the run: the ceiling drops 3.3 octaves below the slow start
    task = regression_task(epochs=24)
    design = Design(**{**PLAIN.to_dict(), "horizon_margin": 1.0, "grid": 2, "max_rung": 0.1,
                       "confirm_octaves": 0.0})
    capped = auto(task, design=design, trainer=_slow_start_trainer(task, long_blowup))
    assert capped.stage("choice").data["capped_by"] == "unstable search run"
    assert capped.lr < 0.2 / 2 and capped.stage("confirm") is None
    confirm = Design(**{**design.to_dict(), "confirm_octaves": DEFAULT_DESIGN.confirm_octaves})
    rec = auto(task, design=confirm, trainer=_slow_start_trainer(task, long_blowup))
    stage = rec.stage("confirm")
    assert stage is not None and stage.cost_runs > 0
    runs = [t for t in rec.trials if t.rung == 3]
    assert len(runs) == 3 and min(t.steps for t in runs) > 0.3 * task.total_steps
    assert rec.cost_runs <= 2.0 + 1e-9  # paid from what max_budget leaves
    if long_blowup:  # the longer runs find the instability too, above the capped pick:
        # the pick rises only to their own ceiling (0.105 blew up at 45% of the run)
        steps = runs[0].steps
        ceiling = 0.105 * steps / task.total_steps
        assert capped.lr <= rec.lr <= ceiling and "unstable from 0.105" in stage.summary
    else:  # they show the slow start was no instability: the pick is the fit's again
        assert rec.lr == rec.stage("choice").data["uncapped_lr"] > 2 * capped.lr


def test_confirm_edge_trains_past_a_ladder_whose_best_was_its_top_run() -> None:
    from lrkit.auto.pipeline import _confirm
    from lrkit.auto.prior import optimizer_prior
    from lrkit.auto.runs import Runner

    # the ladder's best was its top run, 0.088, and the pick sat below it at 0.0625; the
    # longer runs' bowl is at 0.3: the next LR up wins there
    task = regression_task(epochs=24)
    choice = {"lr": 0.0625, "data": {"uncapped_lr": 0.0625, "edge": "high", "slope": 0.0,
                                     "best_x": math.log2(0.088)}}

    def confirm(design: Design):
        return _confirm(task, Runner(fake_trainer(bowl(0.3)), None), choice, design, seed=0,
                        steps=20, room=1.0, untrained=math.inf, rt_ceiling=math.inf,
                        metric="val", tick=lambda t: None, prior=optimizer_prior(task))

    assert confirm(DEFAULT_DESIGN) is None  # off as shipped
    stage, runs, lr = confirm(Design(confirm_edge=True))
    assert stage.name == "confirm" and "top run" in stage.summary
    assert min(t.steps for t in runs) > 20 and max(t.lr for t in runs) > 0.088
    assert lr == max(t.lr for t in runs)


def test_the_users_regression_case_is_not_picked_two_decades_low() -> None:
    # issue 13: SGD-momentum, cosine, MSE, best LR 0.1; the old auto picked 0.0015. Here the
    # curve is steep above 0.1 and the blocks disagree by a seed-dependent shift
    def curve(lr: float) -> float:
        x = math.log2(lr / 0.1)
        return 1.0 + (0.05 * x * x if x < 0 else 0.6 * x * x)

    def noise(lr: float, seed: int) -> float:
        return 0.02 * (seed % 3) + 0.01 * math.sin(7 * math.log2(lr) + seed)

    # (the fake runs have no horizon effect: the horizon correction is off)
    design = Design(range_test=False, curvature=False, horizon_probe=False, horizon_alpha=0.0)
    rec = auto(regression_task(), design=design, trainer=fake_trainer(curve, noise=noise))
    assert 0.1 / 3 <= rec.lr <= 0.1 * 1.5


def test_an_uncertain_steep_estimate_buys_more_blocks_up_to_the_max_budget() -> None:
    def curve(lr: float) -> float:
        return 1.0 + 2.0 * (math.log2(lr / 0.1)) ** 2

    def noise(lr: float, seed: int) -> float:  # each seed moves the minimum by an octave
        return 4.0 * math.log2(lr / 0.1) * (1 if seed % 2 else -1)

    design = Design(range_test=False, curvature=False, horizon_probe=False, blocks=2,
                    max_blocks=4, scout=False)
    rec = auto(regression_task(), design=design, budget=1.0, max_budget=2.5,
               trainer=fake_trainer(curve, noise=noise))
    search = rec.stage("search")
    assert search.data["blocks"] > 2
    assert rec.cost_runs <= 2.5 + 1e-9
    assert "added" in search.summary and any("added" in n for n in rec.notes)
    # a tight estimate stops at the design's blocks, and says why
    tight = auto(regression_task(), design=design, trainer=fake_trainer(bowl(0.1, 4.0)))
    assert tight.stage("search").data["blocks"] == 2
    assert "stopped at 2 block(s)" in tight.stage("search").summary


def test_stages_that_disagree_by_more_than_a_decade_are_said(tmp_path) -> None:
    # the prior (0.1) is two decades above the curve's minimum (0.001)
    rec = auto(regression_task(), design=Design(range_test=False, curvature=False,
                                                horizon_probe=False, extend_max=10),
               trainer=fake_trainer(bowl(0.001)))
    assert any(n.startswith("stages disagree: the textbook prior (0.1)") for n in rec.notes)
    from lrkit.report.auto_report import write_report

    page = write_report(rec, tmp_path / "report").read_text()
    assert "Note: stages disagree: the textbook prior (0.1)" in page
    close = auto(regression_task(), design=PLAIN, trainer=fake_trainer(bowl(0.07)))
    assert not any("disagree" in n for n in close.notes)


def test_every_candidate_diverging_falls_back_below_the_lowest_tried() -> None:
    rec = auto(regression_task(), design=PLAIN, trainer=fake_trainer(lambda lr: math.inf))
    assert math.isfinite(rec.lr) and rec.lr > 0 and rec.measured is None
    assert rec.lr < min(t.lr for t in rec.trials)


def test_an_injected_cache_trains_each_run_once() -> None:
    calls = []
    inner = fake_trainer(bowl(0.07))

    def counting(task, lr, seed, steps):
        calls.append((lr, seed, steps))
        return inner(task, lr, seed, steps)

    cache = MemoryRunCache()
    first = auto(regression_task(), design=PLAIN, trainer=counting, cache=cache)
    n = len(calls)
    assert n == len(first.trials) == len(set(calls))
    second = auto(regression_task(), design=PLAIN, trainer=counting, cache=cache)
    assert len(calls) == n and second.lr == first.lr and second.cost_runs == first.cost_runs


def test_a_search_with_no_validation_signal_ranks_by_the_training_loss() -> None:
    # the docs tutorial's wine MLP: its validation rows are one class the short runs have
    # not learned yet, so every run ends above the untrained validation loss; the training
    # loss still has its bowl (here at 0.07)
    train_bowl = bowl(0.07, width=3.0)
    rec = auto(regression_task(epochs=30),
               design=Design(range_test=False, horizon_alpha=0.0),
               trainer=fake_trainer(lambda lr: 100.0 + lr, train_curve=train_bowl))
    assert 0.07 / 2 ** 0.25 <= rec.lr <= 0.07 * 2 ** 0.25
    assert all(t.metric == "train" for t in rec.trials)
    assert any("ranked by their training loss" in n for n in rec.notes)


def test_a_curve_still_falling_at_the_ladders_top_climbs_until_it_turns() -> None:
    # the scout's short runs see a bowl at 0.01, the ladder's longer runs one at 0.15:
    # the ladder {c, 2c} and its one extension end at 0.04, still falling (wide bowls far
    # below the untrained loss: no run counts as unstable)
    trainer = by_length(lambda lr: 0.01 * bowl(0.01, width=5.0)(lr),
                        lambda lr: 0.01 * bowl(0.15, width=5.0)(lr))
    task = regression_task(epochs=30)
    base = Design(range_test=False, horizon_alpha=0.0, ladder_low=0, ladder_high=1,
                  extend_max=1, extend_top=0)
    stuck = auto(task, design=base, trainer=trainer)
    assert stuck.stage("search").data["extensions"] == 1
    assert stuck.stage("choice").data["edge"] == "high" and stuck.lr < 0.05
    climbed = auto(task, design=dataclasses.replace(base, extend_top=4), trainer=trainer)
    # 0.08, 0.16 and 0.32: at 0.32 the curve turns, so the climb stops short of its four
    assert climbed.stage("search").data["extensions"] == 1 + 3
    assert climbed.stage("choice").data["edge"] == ""
    assert climbed.lr == pytest.approx(0.15, rel=0.2)
    assert stuck.cost_runs < climbed.cost_runs <= 2.0  # paid from --max-budget


def test_a_search_whose_best_run_is_its_top_one_says_so_with_the_measured_miss_rates() -> None:
    # the scout's short runs see a bowl at 0.01, the ladder's longer runs one far above
    top = auto(regression_task(epochs=30), design=Design(range_test=False),
               trainer=by_length(bowl(0.01, width=3.0), bowl(1000.0, width=3.0)))
    assert top.stage("search").data["best_at"] == "high"
    m = top.measured
    note = next(n for n in top.notes if n.startswith("the best search run was the highest"))
    assert f"{m.top_edge_miss:.0%} of such picks" in note and f"({m.other_miss:.0%}" in note
    assert "confirm_edge" in note
    # a bowl the ladder brackets: no such note
    inside = auto(regression_task(epochs=30), design=Design(range_test=False),
                  trainer=fake_trainer(bowl(0.07, width=3.0)))
    assert inside.stage("search").data["best_at"] == "inside"
    assert not any(n.startswith("the best search run was") for n in inside.notes)
    # with the knob on, the confirm stage does the re-check: no advice to turn it on
    confirmed = auto(regression_task(epochs=30),
                     design=Design(range_test=False, confirm_edge=True),
                     trainer=by_length(bowl(0.01, width=3.0), bowl(1000.0, width=3.0)))
    assert not any("confirm_edge" in n for n in confirmed.notes)


def test_radams_own_warm_up_moves_the_pick_down_by_the_octaves_it_implies() -> None:
    from lrkit.auto.prior import builtin_warmup_octaves, optimizer_prior

    # RAdam's rectified step grows over ~2000 updates: a short search run meets a smaller
    # step than the full run at the same LR, so the short runs' best LR is too high by
    # what the two runs' mean multipliers say; with the slope prior off that is the shift
    task = regression_task(optimizer=lambda p, lr: torch.optim.RAdam(p, lr=lr))
    assert optimizer_prior(task).rectified_beta2 == 0.999
    on = auto(task, design=Design(**{**PLAIN.to_dict(), "builtin_warmup": True}),
              trainer=fake_trainer(bowl(0.07)))
    off = auto(task, design=PLAIN, trainer=fake_trainer(bowl(0.07)))
    steps = on.stage("search").data["steps"]
    expected = builtin_warmup_octaves(0.999, steps, task.total_steps)
    assert expected > 1.0
    assert off.lr == pytest.approx(0.07, rel=1e-6)
    assert math.log2(off.lr / on.lr) == pytest.approx(expected, rel=1e-6)
    assert "optimizer's own warm-up" in on.stage("choice").summary
    # Adam's bias correction is no warm-up of the step: nothing moves
    adam = regression_task(optimizer=lambda p, lr: torch.optim.Adam(p, lr=lr))
    assert optimizer_prior(adam).rectified_beta2 == 0.0
    assert auto(adam, design=Design(**{**PLAIN.to_dict(), "builtin_warmup": True}),
                trainer=fake_trainer(bowl(0.07))).lr == pytest.approx(0.07, rel=1e-6)
    # off by default (v8 again after the sixth holdout): the shipped design leaves RAdam alone
    assert not Design().builtin_warmup
