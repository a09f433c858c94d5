"""The range-test figure reads a result through its protocol (no import of lrkit.rangetest)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from lrkit.rangetest import RangeTestResult
from lrkit.report.rangetest_plot import plot_range_test

SOURCE = Path(__file__).resolve().parents[2] / "src/lrkit/report/rangetest_plot.py"


def _result() -> RangeTestResult:
    lrs = np.logspace(-5, 0, 40)
    x = np.log10(lrs)
    return RangeTestResult.from_curves([(lrs, 1 - np.tanh(x + 3) + np.exp(3 * x))],
                                       stop_reasons=["diverged"])


def test_a_result_draws_through_the_method_and_the_function(tmp_path):
    res = _result()
    assert res.plot(tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert plot_range_test(res, tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")


def test_the_figure_module_does_not_import_the_range_test():
    # RangeTestResult.plot imports this module: an import back would be a loop
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(m and m.startswith("lrkit.rangetest") for m in imported)
