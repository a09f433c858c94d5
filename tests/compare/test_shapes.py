"""Schedule shapes: the presets follow the calculator's recipes at every run length."""

from __future__ import annotations

import numpy as np
import pytest

from lrkit.compare import PRESETS, entries, shape, split_list
from lrkit.errors import ConfigError


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("total", [7, 90, 1000])
def test_every_preset_peaks_at_its_lr_and_stays_positive(name: str, total: int) -> None:
    values = shape(name).build(0.5, total).values(total)
    # on integer steps a short one-cycle or triangle can miss its apex by a fraction
    assert values.max() == pytest.approx(0.5, rel=0.05) and values.max() <= 0.5 + 1e-12
    assert np.all(values > 0) or name in ("cosine", "linear", "wsd", "cosine_restarts")
    assert np.all(values >= 0)


def test_step_drops_tenfold_at_a_third_two_thirds_and_eight_ninths() -> None:
    lrs = shape("step").build(1.0, 90).values(90)
    assert [lrs[29], lrs[30], lrs[59], lrs[60], lrs[79], lrs[80]] == pytest.approx(
        [1.0, 0.1, 0.1, 0.01, 0.01, 0.001])


def test_exponential_and_time_reach_their_stated_ends() -> None:
    assert shape("exponential").build(1.0, 200)(200) == pytest.approx(0.01)
    assert shape("time").build(1.0, 200)(200) == pytest.approx(0.1)
    assert shape("multistep").build(1.0, 100)(95) == pytest.approx(0.1)


def test_wsd_holds_then_decays_over_the_last_fifth() -> None:
    lrs = shape("wsd").build(2.0, 100).values(100)
    assert np.all(lrs[:80] == 2.0) and lrs[99] < 0.5


def test_warmup_prefix_adds_five_percent_linear_warmup() -> None:
    s = shape("warmup+cosine").build(1.0, 200)
    assert s(0) == 0.0 and s(10) == pytest.approx(1.0) and s(5) == pytest.approx(0.5)
    assert shape("warmup+step").build(1.0, 90)(5) == pytest.approx(1.0)


def test_relative_parameters_follow_the_run_length() -> None:
    # auto's compressed runs build the same shape over fewer updates
    assert shape("wsd").spec(50)["decay_steps"] == 10
    assert shape("step").spec(9)["milestones"] == [3, 6, 8]


def test_cyclic_base_follows_the_peak() -> None:
    lrs = shape("cyclic").build(1.0, 80).values(80)
    assert lrs.min() == pytest.approx(0.1) and lrs.max() == pytest.approx(1.0)


def test_a_spec_is_accepted_and_a_bad_one_is_refused() -> None:
    assert shape("cosine(end_lr=0.001)").build(0.1, 10)(10) == pytest.approx(0.001)
    with pytest.raises(ConfigError, match="'cosin'"):
        shape("cosin")
    with pytest.raises(ConfigError, match="noam"):
        shape("noam(d_model=512, warmup_steps=10)")
    with pytest.raises(ConfigError, match="listed twice"):
        entries(["cosine", "cosine"], [])


def test_split_list_keeps_spec_commas() -> None:
    assert split_list("a,b(x=1, y=[1,2]), c", "--s") == ["a", "b(x=1, y=[1,2])", "c"]
    with pytest.raises(ConfigError, match="unbalanced"):
        split_list("cosine(end_lr=0", "--schedules")
