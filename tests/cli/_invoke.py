"""Run the ``lrkit`` command line in-process, as every CLI test module does."""

from __future__ import annotations

from typing import Any

from lrkit.cli.app import main


def run_cli(capsys: Any, *argv: object) -> tuple[int, str, str]:
    """Run ``lrkit ARGV`` in-process; return (exit code, stdout, stderr).

    ``main`` returns normally on success and raises SystemExit otherwise (2 for a user
    error), exactly as the installed ``lrkit`` command exits.
    """
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err
