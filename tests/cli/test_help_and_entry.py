"""The help every verb prints, and ``python -m lrkit``: what a new user sees first."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer.main

from lrkit.cli.app import app
from tests.cli._invoke import run_cli

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _help(capsys, monkeypatch, verb: str) -> str:
    # wide enough that no help line wraps: each help text is then one contiguous string
    monkeypatch.setenv("COLUMNS", "400")
    code, out, err = run_cli(capsys, verb, "--help")
    assert code == 0, err
    return out


@pytest.mark.parametrize("verb", COMMANDS)
def test_flags_carry_no_type_label_and_usage_has_no_braces(capsys, monkeypatch, verb) -> None:
    out = _help(capsys, monkeypatch, verb)
    assert "<bool>" not in out
    usage = next(line for line in out.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage


@pytest.mark.parametrize("verb", COMMANDS)
def test_every_option_help_is_shown_in_full(capsys, monkeypatch, verb) -> None:
    # rich markup ate "[min seed/NARROW, ...]" in --narrow's help: check every text whole
    out = re.sub(r"\s+", " ", _help(capsys, monkeypatch, verb))
    command = typer.main.get_command(app).commands[verb]  # type: ignore[attr-defined]
    for param in command.params:
        text = getattr(param, "help", None)
        if text:  # a help text writes a literal "[" as "\\[" (rich markup's escape)
            assert re.sub(r"\s+", " ", text.replace("\\[", "[")) in out, (param.name, text)


def test_diagnose_usage_names_its_argument_in_capitals(capsys, monkeypatch) -> None:
    out = _help(capsys, monkeypatch, "diagnose")
    assert re.search(r"Usage: lrkit diagnose \[OPTIONS\] PATH\b", out), out


def test_python_dash_m_lrkit_is_the_lrkit_command() -> None:
    version = subprocess.run([sys.executable, "-m", "lrkit", "--version"], capture_output=True,
                             text=True, timeout=120)
    assert version.returncode == 0, version.stderr
    import lrkit

    assert version.stdout.strip() == lrkit.__version__
    bad = subprocess.run([sys.executable, "-m", "lrkit", "calc", "--optimiser", "sgd"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "lrkit calc" in bad.stderr  # the program is named lrkit, not __main__.py
