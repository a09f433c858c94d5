"""A new user's first look at the web pages: exported code fits, lengths compare, labels agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrkit.diagnose import diagnose
from lrkit.diagnose.curves import classify

pytestmark = pytest.mark.browser

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
SHORT = "cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)"
LONG = "cosine(peak_lr=0.1, total_steps=10000, warmup_steps=1000)"


def _ready(page, server) -> None:
    page.goto(f"{server}/schedules")
    page.wait_for_selector("body[data-ready=schedules]")


def test_exported_code_gets_the_full_width_and_is_not_cut(page, server, tmp_path) -> None:
    _ready(page, server)
    page.select_option("#exp-which", "0")
    page.select_option("#exp-framework", "torch")
    page.locator("#export").click()
    page.wait_for_selector("#snippet:not(.hidden)")
    box = page.locator("#snippet").bounding_box()
    explorer = page.locator(".explorer").bounding_box()
    assert box is not None and explorer is not None
    assert box["width"] > 0.9 * explorer["width"], (box, explorer)
    # every line is visible without scrolling sideways
    assert page.evaluate("() => { const p = document.querySelector('#snippet');"
                         " return p.scrollWidth <= p.clientWidth; }")
    # nothing sits under the chart: the export panel starts below it
    chart = page.locator(".area-chart").bounding_box()
    export = page.locator(".area-export").bounding_box()
    assert chart is not None and export is not None
    assert export["y"] >= chart["y"] + chart["height"] - 1
    page.screenshot(path=str(tmp_path / "schedules-export.png"), full_page=True)


def test_a_normalised_axis_puts_runs_of_different_lengths_on_one_scale(page, server) -> None:
    _ready(page, server)
    specs = page.locator(".schedule-row .spec")
    specs.nth(0).fill(SHORT)
    specs.nth(1).fill(LONG)
    page.wait_for_function("() => document.querySelector('#chart').dataset.steps === '10000'")
    short_max = page.evaluate("() => Math.max(...document.querySelector('#chart').data[0].x)")
    assert short_max == 9999  # both on the step axis: the short run fills a tenth of it
    page.locator("#normalise").check()
    page.wait_for_function("() => document.querySelector('#chart').layout.xaxis.title.text"
                           " === 'fraction of the run'")
    spans = page.evaluate("() => document.querySelector('#chart').data.map("
                          "t => [Math.min(...t.x), Math.max(...t.x), t.x.length])")
    for low, high, n in spans:
        assert low == 0 and 0.99 <= high <= 1.0 and n > 100
    page.locator("#normalise").uncheck()
    page.wait_for_function("() => document.querySelector('#chart').layout.xaxis.title.text"
                           " === 'step'")


def test_diagnose_placeholder_names_the_metric_it_diagnoses(page, server) -> None:
    log = LOGS / "keras3" / "training.log"  # logs both loss and val_loss
    expected = diagnose(log)
    assert classify(expected.metric) == "train_loss"
    page.goto(server + "/diagnose")
    placeholder = page.locator("#metric").get_attribute("placeholder") or ""
    assert "training loss" in placeholder and "validation" not in placeholder
    page.set_input_files("#file", str(log))
    page.wait_for_selector("body[data-state=ready]")
    assert page.locator("#r-format").inner_text().endswith(f"· {expected.metric}")
