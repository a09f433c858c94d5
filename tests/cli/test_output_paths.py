"""Output paths (--save, --plot, --report): written through symlinks, never onto devices or
folders, and checked before a long run starts."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from lrkit._io import output_folder, output_target, write_atomic
from lrkit.errors import ConfigError

from ._invoke import run_cli


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made.json")
    write_atomic(link, "x")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "x"


def test_an_existing_file_keeps_its_permissions(tmp_path):
    p = tmp_path / "out.json"
    p.write_text("old")
    p.chmod(0o640)
    write_atomic(p, "new")
    assert stat.S_IMODE(p.stat().st_mode) == 0o640


@pytest.mark.parametrize("path", ["/dev/null", "/dev/zero"])
def test_devices_are_refused_and_left_alone(path):
    before = os.stat(path)
    with pytest.raises(ConfigError, match="device or special file"):
        write_atomic(path, "x")
    after = os.stat(path)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_fifo_and_a_folder_are_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="special file"):
        output_target(fifo, "--save")
    with pytest.raises(ConfigError, match="is a folder"):
        output_target(tmp_path, "--save")


@pytest.mark.parametrize(("path", "rule"), [
    ("", "empty path"),
    ("/proc/x.json", "cannot write"),
    ("/no/such/folder/x.json", "does not exist"),
    ("x" * 300 + ".json", "longer than 255"),
])
def test_unusable_paths_are_one_line_errors(path, rule):
    with pytest.raises(ConfigError, match=rule) as err:
        output_target(path, "--save")
    assert len(str(err.value)) < 400


def test_a_report_folder_is_checked(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        output_folder(tmp_path / "file")
    with pytest.raises(ConfigError, match="cannot write"):
        output_folder("/proc/lrkit-report")
    assert output_folder(tmp_path / "new") == (tmp_path / "new").resolve()


@pytest.mark.parametrize(("verb", "flag", "path"), [
    (["find", "--task", "digits-mlp", "--steps", "100000"], "--save", "/proc/x.json"),
    (["find", "--task", "digits-mlp", "--steps", "100000"], "--plot", "/proc/x.png"),
    (["find", "--task", "digits-mlp", "--steps", "100000"], "--save", ""),
    (["find", "--task", "digits-mlp", "--steps", "100000"], "--save", "/dev/null"),
    (["tune", "--task", "digits-mlp", "--trials", "1000"], "--plot", "/proc/x.png"),
    (["auto", "--task", "digits-mlp"], "--report", "/proc/report"),
    (["calc", "--batch-size", "64"], "--plot", "/dev/null.png"),
    (["schedule", "cosine(peak_lr=0.1,total_steps=100)"], "--plot", "/proc/s.png"),
])
def test_verbs_refuse_bad_outputs_before_the_run(capsys, tmp_path, verb, flag, path):
    log = tmp_path / "log.csv"
    log.write_text("step,loss\n0,1\n1,0.5\n")
    t0 = time.perf_counter()
    code, _, err = run_cli(capsys, *verb, flag, path)
    assert code == 2, err
    assert err.startswith("lrkit: error: ") and err.count("\n") == 1
    assert time.perf_counter() - t0 < 10  # the run itself would take minutes


def test_diagnose_refuses_a_folder_as_plot(capsys, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("step,loss\n0,1\n1,0.5\n")
    folder = tmp_path / "out.png"
    folder.mkdir()
    code, _, err = run_cli(capsys, "diagnose", log, "--plot", folder)
    assert code == 2 and "is a folder" in err


def test_plot_through_a_symlink_keeps_the_link(capsys, tmp_path):
    real = tmp_path / "real.png"
    real.write_bytes(b"old")
    link = tmp_path / "plot.png"
    link.symlink_to(real)
    code, _, err = run_cli(capsys, "schedule", "cosine(peak_lr=0.1,total_steps=100)",
                           "--plot", link)
    assert code == 0, err
    assert link.is_symlink() and Path(real).read_bytes().startswith(b"\x89PNG")
