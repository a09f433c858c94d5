"""Odd values on the command line: every one is a one-line error with exit 2, found
before any work (none of these may run without bound, block, or pass silently)."""

from __future__ import annotations

import os
import time

import pytest

from lrkit.schedules import parse as parse_schedule

from ._invoke import run_cli

TUNE = ["tune", "--storage", "memory", "--trials", "1"]

CASES = [
    (["find", "--seed", str(2**64)], "--seed = 18446744073709551616: must be between 0 and"),
    ([*TUNE, "--seed", "-1"], "--seed = -1"),
    (["find", "--steps", "1000000000"], "--steps = 1000000000"),
    (["find", "--repeats", "100000"], "--repeats"),
    (["sharpness", "--warm-steps", "100000000"], "--warm-steps = 100000000"),
    (["tune", "--storage", "memory", "--trials", str(10**20)], "--trials"),
    ([*TUNE, "--epochs", "100000000"], "--epochs = 100000000"),
    ([*TUNE, "--grid-factor", "-1"], "--grid-factor = -1.0"),
    ([*TUNE, "--grid-factor", "0"], "--grid-factor"),
    ([*TUNE, "--grid-factor", "nan"], "--grid-factor = nan"),
    ([*TUNE, "--grid-factor", "inf"], "--grid-factor = inf"),
    ([*TUNE, "--narrow", "0"], "--narrow = 0.0"),
    ([*TUNE, "--narrow", "nan"], "--narrow = nan"),
    ([*TUNE, "--heartbeat", "0"], "--heartbeat = 0"),
    ([*TUNE, "--grace", "-1"], "--grace = -1"),
    ([*TUNE, "--timeout", "0"], "--timeout = 0.0"),
    ([*TUNE, "--seed-lr", "-0.1"], "--seed-lr"),
    (["tune", "--storage", "sqlite://", "--trials", "1"], "in-memory SQLite"),
    (["tune", "--storage", "sqlite:///:memory:", "--trials", "1"], "in-memory SQLite"),
    (["schedule", "exponential(init_lr=0.1,decay_rate=1e308,decay_steps=1)", "--steps", "10"],
     "overflows"),
    (["schedule", 'exponential(init_lr=0.1,decay_rate=0.5,decay_steps=1,staircase="maybe")',
      "--steps", "3"], "staircase = 'maybe': must be true or false"),
    (["schedule", "--from", "torch:StepLR", "step_size=2", "name=x"], "StepLR.name = 'x'"),
    (["schedule", "--from", "keras:ExponentialDecay", "class_name=x"], "class_name"),
    (["serve", "--host", "a" * 300], "--host"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_odd_values_are_one_line_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    code, _, err = run_cli(capsys, *argv)
    assert code == 2, err
    assert err.startswith("lrkit: error: ") and err.count("\n") == 1, err
    assert message in err
    assert time.perf_counter() - t0 < 60  # no run, no wait: seconds even on a busy machine


def test_staircase_false_as_text_means_false():
    s = parse_schedule('exponential(init_lr=1,decay_rate=0.5,decay_steps=2,staircase="false")')
    assert s.staircase is False
    assert float(s(1)) == pytest.approx(0.5 ** 0.5)


@pytest.fixture()
def odd_inputs(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    binary = tmp_path / "bin.json"
    binary.write_bytes(bytes(range(256)) * 10)
    wide = tmp_path / "wide.csv"
    wide.write_text("epoch,loss\n1," + "9" * 1_000_000 + "\n")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    log = tmp_path / "log.csv"
    log.write_text("step,loss\n0,1\n1,0.5\n")
    return {"fifo": fifo, "bin": binary, "wide": wide, "deep": deep, "log": log,
            "long": tmp_path / ("x" * 300 + ".csv")}


INPUTS = [
    ([*TUNE, "--calc", "{fifo}"], "FIFO"),
    ([*TUNE, "--rangetest", "{fifo}"], "FIFO"),
    ([*TUNE, "--rangetest", "/dev/zero"], "device"),
    ([*TUNE, "--calc", "/dev/zero"], "device"),
    ([*TUNE, "--rangetest", "{bin}"], "not UTF-8"),
    ([*TUNE, "--calc", "{deep}"], "not readable JSON"),
    (["sharpness", "--rangetest", "{bin}"], "not UTF-8"),
    (["calc", "--batch-size", "32", "--loss-history", "{fifo}"], "FIFO"),
    (["calc", "--batch-size", "32", "--loss-history", "{wide}"], "not a readable CSV"),
    (["calc", "--batch-size", "32", "--loss-history", "{deep}"], "nested too deeply"),
    (["diagnose", "{long}"], "cannot be looked up"),
    (["diagnose", "{log}", "--model-kind", "banana"], "--model-kind = 'banana': unknown name"),
    (["diagnose", "{fifo}"], ""),
]


@pytest.mark.parametrize(("argv", "message"), INPUTS,
                         ids=[" ".join(c[0])[:60] for c in INPUTS])
def test_odd_inputs_never_block_and_fail_in_one_line(capsys, odd_inputs, tmp_path, monkeypatch,
                                                      argv, message):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    code, _, err = run_cli(capsys, *(a.format(**odd_inputs) for a in argv))
    assert code == 2, err
    assert err.startswith("lrkit: error: ") and err.count("\n") == 1, err
    assert message in err
    assert time.perf_counter() - t0 < 60  # no run, no wait: seconds even on a busy machine


def test_diagnose_root_does_not_walk_the_disk(capsys, tmp_path):
    # a folder tree bigger than the walk limit stands in for '/'
    from lrkit.diagnose.readers import _common

    for i in range(30):
        (tmp_path / f"d{i}").mkdir()
        for j in range(20):
            (tmp_path / f"d{i}" / f"f{j}").write_text("")
    limit = _common.MAX_WALK
    try:
        _common.MAX_WALK = 100
        _common.find_files.__kwdefaults__["limit"] = 100
        code, _, err = run_cli(capsys, "diagnose", tmp_path)
    finally:
        _common.MAX_WALK = limit
        _common.find_files.__kwdefaults__["limit"] = limit
    assert code == 2 and "holds more than 100 files and folders" in err
