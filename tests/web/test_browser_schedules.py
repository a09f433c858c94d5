"""The schedule explorer in a real headless Chromium."""

from __future__ import annotations

import pytest

from lrkit.interop import from_library
from lrkit.schedules import parse
from lrkit.web.pages import IMPORT_EXAMPLES

pytestmark = pytest.mark.browser


def chart_points(page, selector="#chart") -> list[int]:
    """Number of points of each trace plotly drew (and that the SVG has drawn lines)."""
    page.wait_for_selector(f"{selector} .scatterlayer .trace path.js-line", state="attached")
    return page.evaluate(f"() => document.querySelector('{selector}').data.map(t => t.x.length)")


def traces(page) -> int:
    return page.evaluate("() => document.querySelector('#chart').data.length")


def test_explorer_compares_imports_and_exports(page, server, shots_dir):
    page.goto(f"{server}/schedules")
    page.wait_for_selector("body[data-ready=schedules]")
    points = chart_points(page)  # two starting schedules of 10,000 steps, downsampled
    assert len(points) == 2 and all(100 < p <= 2000 for p in points)

    # add a third schedule and edit it: the chart and the table follow
    page.select_option("#example", label="step decay")
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#chart').data.length === 3")
    spec = "step(base_lr=0.2, step_size=100, gamma=0.5)"
    third = page.locator(".schedule-row .spec").nth(2)
    third.fill(spec)
    page.locator("#steps").fill("400")
    page.wait_for_function("() => document.querySelector('#chart').data[2].x.length === 400")
    final = page.locator("#stats tbody tr").nth(2).locator("td").nth(3)
    assert float(final.get_attribute("data-value")) == parse(spec)(399)
    assert final.inner_text() == "0.025"

    # log axis
    page.locator("#log").check()
    page.wait_for_function("() => document.querySelector('#chart').layout.yaxis.type === 'log'")

    # bad input: one clear line, the row marked; fixing it clears both
    third.fill("step(base_lr=0.2, step_size=0)")
    page.wait_for_selector("#error:not(.hidden)")
    assert page.locator("#error").inner_text().startswith("step.step_size = 0")
    assert third.get_attribute("aria-invalid") == "true"
    third.fill(spec)
    page.wait_for_selector("#error.hidden", state="attached")
    assert third.get_attribute("aria-invalid") is None
    page.locator(".schedule-row .remove").nth(2).click()
    page.wait_for_function("() => document.querySelector('#chart').data.length === 2")

    # each library offers its own example configuration
    page.select_option("#imp-framework", "optax")
    assert page.locator("#imp-name").input_value() == IMPORT_EXAMPLES["optax"][0]
    assert page.locator("#imp-args").input_value() == IMPORT_EXAMPLES["optax"][1]

    # import a torch config as a new row: the text shown is its lrkit equivalent
    page.select_option("#imp-framework", "torch")
    page.locator("#imp-name").fill("OneCycleLR")
    page.locator("#imp-args").fill("max_lr=0.1, total_steps=10000")
    page.locator("#import").click()
    page.wait_for_function("() => document.querySelectorAll('.schedule-row').length === 3")
    page.wait_for_function("() => document.querySelector('#chart').data.length === 3")
    imported = page.locator(".schedule-row .spec").nth(2).input_value()
    expected = from_library("torch", "OneCycleLR", {"max_lr": 0.1, "total_steps": 10000})
    assert parse(imported) == expected

    # a bad import is one line too
    page.locator("#imp-name").fill("OneCycleLRR")
    page.locator("#import").click()
    page.wait_for_selector("#imp-error:not(.hidden)")
    assert "OneCycleLR" in page.locator("#imp-error").inner_text()
    page.locator("#imp-name").fill("OneCycleLR")
    page.wait_for_selector("#imp-error.hidden", state="attached")  # editing clears it

    # export the first row to optax and copy it
    page.select_option("#exp-which", "0")
    page.select_option("#exp-framework", "optax")
    page.locator("#export").click()
    page.wait_for_selector("#snippet:not(.hidden)")
    assert "optax" in page.locator("#snippet").inner_text()
    page.locator("#copy").click()
    page.wait_for_function("() => document.querySelector('#copied').textContent !== ''")

    page.locator("#log").uncheck()
    page.locator("#steps").fill("")
    page.wait_for_function("() => document.querySelector('#chart').layout.yaxis.type === 'linear'"
                           " && document.querySelector('#chart').dataset.steps === '10000'")
    page.locator("#steps").blur()
    page.screenshot(path=str(shots_dir / "web-schedules.png"), full_page=True)


def test_a_billion_steps_render_downsampled(page, server):
    page.goto(f"{server}/schedules")
    page.wait_for_selector("body[data-ready=schedules]")
    page.locator(".schedule-row .spec").first.fill(
        "cosine(peak_lr=0.1, total_steps=1000000000, warmup_steps=10000000)")
    page.wait_for_function(
        "() => document.querySelector('#sampled').textContent.includes('1,000,000,000 updates')")
    assert page.locator("#chart").get_attribute("data-steps") == str(10**9)
    points = chart_points(page)
    assert all(2 <= p <= 2000 for p in points)
