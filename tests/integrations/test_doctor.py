"""The live doctor on a plain PyTorch loop: what it reports live, ``lrkit diagnose`` says after."""

from __future__ import annotations

import logging
import math

import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
from lrkit.diagnose import diagnose  # noqa: E402
from lrkit.diagnose.detectors import LR_HIGH_KINDS, LR_LOW_KINDS  # noqa: E402
from lrkit.errors import ConfigError  # noqa: E402
from lrkit.integrations.doctor import Doctor  # noqa: E402


def run(lr: float, doctor: Doctor, steps: int = 300, seed: int = 0):
    """A small regression trained by hand with SGD at ``lr``, reporting to the doctor."""
    torch.manual_seed(seed)
    x = torch.randn(2048, 10)
    y = x @ torch.randn(10, 1) + 0.1 * torch.randn(2048, 1)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    if doctor.mode == "act":
        doctor.optimizer = opt
    lrs = []
    for t in range(steps):
        i = (t * 32) % 2048
        loss = torch.nn.functional.mse_loss(model(x[i:i + 32]), y[i:i + 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
        doctor.step(loss.item(), lr=lrs[-1])
        if doctor.should_stop:
            break
    return lrs


@pytest.mark.parametrize(("lr", "verdict"), [(3e-4, "too_low"), (0.9, "too_high")])
def test_live_finding_agrees_with_diagnose_afterwards(tmp_path, caplog, lr, verdict):
    # this toy's update takes ~0.2 ms, a check a few ms: a budget of 90% lets the doctor
    # look every ~10-20 updates, as the default 0.5% does for a model 200x slower
    doctor = lrkit.Doctor(overhead=0.9, total_steps=300)
    with caplog.at_level(logging.WARNING, logger="lrkit.doctor"):
        run(lr, doctor)
        doctor.finish()  # the last word, on the whole run
    live = [f.kind for f in doctor.findings]
    assert live, "the doctor saw nothing"
    log_file = doctor.write_csv(tmp_path / "run.csv")
    # the whole run's log: the same verdict, in the same LR direction
    after = diagnose(log_file)
    assert after.verdict == verdict
    kinds_after = {f.kind for f in after.findings}
    same_class = LR_LOW_KINDS if verdict == "too_low" else LR_HIGH_KINDS
    assert live[0] in kinds_after or (live[0] in same_class and kinds_after & same_class)
    # the log up to the update where the doctor spoke: exactly that finding
    rows = log_file.read_text().splitlines()
    first = doctor.findings[0]
    upto = tmp_path / "prefix.csv"
    upto.write_text("\n".join(rows[:2 + int(doctor.reported_at[first.kind])]) + "\n")
    assert first.kind in [f.kind for f in diagnose(upto).findings]
    # said once per kind, with the evidence and a corrected LR, through logging
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == len(live)
    assert "evidence" in messages[0] and "corrected LR" in messages[0]
    lower = doctor.suggested_lr < lr if verdict == "too_high" else doctor.suggested_lr > lr
    assert lower


def test_act_lowers_the_lr_by_the_advised_factor_and_stop_stops():
    acting = Doctor(mode="act")
    lrs = run(0.5, acting)  # explodes without a NaN: act lowers the LR, the run goes on
    first = next(f for f in acting.findings if f.lr_direction == "lower")
    assert lrs[0] == 0.5 and len(lrs) == 300 and lrs[-1] == pytest.approx(first.suggested_lr)
    stopping = Doctor(mode="stop")
    assert len(run(0.9, stopping)) < 300 and stopping.should_stop
    assert not Doctor().should_stop


def test_without_a_total_a_check_judges_a_run_in_progress():
    # 25 updates of a loss that has made 90% of its drop and still falls: a run in
    # progress, not a finished run that never converged (judged as finished, the verdict
    # said "too low", and a doctor in "stop" mode stopped a good run)
    fast, slow = Doctor(), Doctor()
    for t in range(30):
        fast.step(2.0 * 0.9 ** t + 0.1, lr=0.5)
        slow.step(2.0 - 0.005 * t + 0.01 * math.sin(t), lr=1e-4)  # barely moving
        if t == 24:
            assert "lr_too_low" not in {f.kind for f in fast.check()}
    assert "lr_too_low" in {f.kind for f in slow.check()}


def test_nan_is_reported_at_once():
    doctor = Doctor()
    for t in range(40):
        doctor.step(1.0 / (t + 1), lr=0.1)
    found = doctor.step(math.nan, lr=0.1)
    assert found is not None and found.kind == "nan_loss"


def test_checks_are_spaced_to_stay_within_the_overhead_budget(monkeypatch):
    """The spacing rule on a simulated clock (no real timing: speed is benchmarked in
    benchmarks/integrations/doctor_overhead.py): updates take 1 ms, a check 20 ms."""
    import types

    import lrkit.integrations.doctor as doctor_module

    clock = {"now": 0.0}
    monkeypatch.setattr(doctor_module, "time",
                        types.SimpleNamespace(perf_counter=lambda: clock["now"]))
    doctor = Doctor(overhead=0.05)
    check = doctor.check

    def costly_check():
        clock["now"] += 0.020
        return check()

    monkeypatch.setattr(doctor, "check", costly_check)
    checked_at = []
    for t in range(3000):
        clock["now"] += 0.001  # one training update
        before = doctor.checks
        doctor.step(2.0 * 0.999 ** t, lr=0.1)
        if doctor.checks > before:
            checked_at.append((t + 1, doctor.check_seconds))
    assert checked_at[0][0] == doctor.min_points  # the first check whatever it costs
    assert len(checked_at) >= 3
    for n, spent in checked_at[1:]:
        # every later check comes only once all the checks so far fit the 5% budget
        assert spent <= 0.05 * (n * 0.001) + 1e-9
    # and not much later than that: the gaps are sized, not a fixed long interval
    n, spent = checked_at[-1]
    assert spent > 0.05 * (n * 0.001) * 0.8


def test_bad_options_are_one_line_errors():
    with pytest.raises(ConfigError, match="mode = 'fix'"):
        Doctor(mode="fix")
    with pytest.raises(ConfigError, match="overhead = 2"):
        Doctor(overhead=2)
    with pytest.raises(ConfigError, match="min_points = 3"):
        Doctor(min_points=3)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"overhead": True}, "overhead = True: must be a number"),
    ({"overhead": 1.0}, "overhead = 1.0: must lie in (0, 1); pass e.g. 0.005"),
    ({"min_points": 30.0}, "min_points = 30.0: must be an integer; pass e.g. 30"),
    ({"min_points": 9}, "min_points = 9: must be >= 10"),
    ({"steps_per_epoch": 0}, "steps_per_epoch = 0: must be positive"),
    ({"total_steps": False}, "total_steps = False: must be an integer"),
    ({"total_steps": 0}, "total_steps = 0: must be >= 1"),
])
def test_the_doctors_numeric_options_use_the_shared_checks(kwargs, words):
    # lrkit._check's rules and fixes, with the Python name from Python and a flag on the CLI
    with pytest.raises(ConfigError) as err:
        Doctor(**kwargs)
    assert str(err.value).startswith(words), str(err.value)
    name = next(iter(kwargs))
    assert err.value.render("cli").startswith("--" + name.replace("_", "-") + " = ")


def test_finish_judges_the_whole_run_whatever_checks_came_before(tmp_path) -> None:
    # a budget so small that no check runs during training: finish() alone speaks, and it
    # says what ``lrkit diagnose`` says of the finished log (progress 1, not "half done")
    doctor = lrkit.Doctor(overhead=1e-6, min_points=290, total_steps=300)
    run(3e-4, doctor)
    assert doctor.checks <= 1
    doctor.finish()
    after = diagnose(doctor.write_csv(tmp_path / "run.csv"))
    assert after.verdict == "too_low"
    assert {f.kind for f in doctor.findings} & LR_LOW_KINDS
