"""The calculator page in a real headless Chromium: the numbers it shows are the CLI's."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrkit.cli.app import app as cli_app
from lrkit.web.calc_form import STARTER

pytestmark = pytest.mark.browser

HF_STATE = (Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "huggingface"
            / "checkpoint-16" / "trainer_state.json")

SHOWN = ("initial_lr", "final_lr", "decay_type", "optimizer", "warmup_steps",
         "estimated_convergence_epoch")


def shown(page) -> dict:
    """The results panel: each value as the page holds it (data-value) and as displayed."""
    out = {}
    for key in SHOWN:
        dd = page.locator(f'#results dd[data-key="{key}"]')
        out[key] = (json.loads(dd.get_attribute("data-value")), dd.inner_text())
    return out


def cli_json(page) -> dict:
    """Run the command line the page displays, with --json."""
    line = page.locator("#cli-line").inner_text()
    args = shlex.split(line)
    assert args[:2] == ["lrkit", "calc"]
    result = CliRunner().invoke(cli_app, [*args[1:], "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_page_matches_cli(page) -> dict:
    doc = cli_json(page)
    for key, (value, text) in shown(page).items():
        assert value == doc[key], key
        if isinstance(value, float):
            assert float(text) == float(f"{value:.4g}"), (key, text)  # 4 significant digits
        elif isinstance(value, str | int):
            assert text == str(value), key
    return doc


def wait_for_result(page, previous: str | None = None) -> None:
    page.wait_for_selector("body[data-state=ready]")
    if previous is not None:
        page.wait_for_function(
            "p => document.querySelector('#cli-line').textContent !== p", arg=previous)
        page.wait_for_function(
            "() => document.body.dataset.state === 'ready'"
            " && document.querySelector('#error').classList.contains('hidden')")


def test_calculator_agrees_with_the_cli(page, server, shots_dir):
    page.goto(server + "/")
    wait_for_result(page)
    doc = assert_page_matches_cli(page)
    page.wait_for_selector("#chart .scatterlayer .trace path.js-line", state="attached")
    drawn = page.evaluate("() => document.querySelector('#chart').data[0]")
    assert drawn["x"] == doc["schedule"]["step"]
    assert drawn["y"] == doc["schedule"]["lr"]  # the chart plots the CLI's own numbers

    # change inputs: a large-batch SGD recipe with warmup; results follow as we type
    line = page.locator("#cli-line").inner_text()
    page.select_option("#f-optimizer", "momentum")
    page.locator("#f-batch_size").fill("1024")
    page.locator("details.group summary", has_text="A recipe you trust").click()
    page.locator("#f-base_lr").fill("0.1")
    page.locator("#f-base_batch_size").fill("256")
    page.locator("details.group summary", has_text="Schedule").first.click()
    page.locator("#f-warmup").fill("5ep")
    page.wait_for_function(
        "() => document.querySelector('#cli-line').textContent.includes('--warmup 5ep')")
    wait_for_result(page, line)
    doc = assert_page_matches_cli(page)
    assert doc["initial_lr"] == pytest.approx(0.4)
    assert doc["warmup_steps"] > 0
    rules = page.locator("#rules tbody tr")
    assert rules.count() == len(doc["rules"])
    assert "Goyal" in page.locator("#rules").inner_text()
    page.screenshot(path=str(shots_dir / "web-calculator.png"), full_page=True)


def test_bad_input_shows_the_cli_message(page, server, client):
    page.goto(server + "/")
    wait_for_result(page)
    page.locator("#f-batch_size").fill("0")
    page.wait_for_selector("#error:not(.hidden)")
    message = page.locator("#error").inner_text()
    cli = CliRunner().invoke(cli_app, ["calc", "--batch-size", "0"])
    # the same error as the library's; the page names the JSON field, the CLI its flag
    assert message == str(cli.exception) == "batch_size = 0: must be >= 1; pass e.g. 256"
    assert cli.exception.render("cli") == "--batch-size = 0: must be >= 1; pass e.g. 256"
    assert page.locator("#f-batch_size").get_attribute("aria-invalid") == "true"
    # fixing it clears the message
    page.locator("#f-batch_size").fill("64")
    page.wait_for_selector("#error.hidden", state="attached")

    # observed losses are typed in; a bad line is named before anything is sent
    page.locator("details.group summary", has_text="More").click()
    page.locator("#f-loss_history").fill("1, 2.3\n2, lots")
    page.wait_for_selector("#error:not(.hidden)")
    assert page.locator("#error").inner_text().startswith("--loss-history line 2 = '2, lots'")
    losses = [[e, round(2 * 0.8**e + 0.3, 4)] for e in range(1, 9)]
    page.locator("#f-loss_history").fill("\n".join(f"{e}, {v}" for e, v in losses))
    expected = client.post("/api/calc", json={**STARTER, "batch_size": 64,
                                              "loss_history": losses}).json()
    assert expected["convergence"]["method"] != "lr-settled"  # the fit, not the schedule
    page.wait_for_function(
        "v => document.querySelector('dd[data-key=estimated_convergence_epoch]')"
        ".dataset.value === v", arg=json.dumps(expected["estimated_convergence_epoch"]))
    assert "--loss-history" in page.locator("#cli-line").inner_text()


def overflow(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


@pytest.mark.parametrize("path", ["/", "/schedules", "/diagnose"])
def test_phone_viewport_is_usable(open_page, server, page_log, path):
    ctx, page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True, device_scale_factor=2)
    try:
        page.goto(server + path)
        page.wait_for_load_state("load")
        assert overflow(page) <= 390, f"{path} is {overflow(page)}px wide on a 390px screen"
        # every visible control is inside the screen and large enough to tap
        boxes = page.evaluate("""() => [...document.querySelectorAll(
            'main input:not([type=checkbox]), main select, main button, main textarea')]
            .filter(e => e.offsetParent !== null)
            .map(e => { const r = e.getBoundingClientRect();
                        return [e.id || e.className, r.left, r.right, r.height]; })""")
        assert boxes
        for name, left, right, height in boxes:
            assert left >= 0 and right <= 390, name
            assert height >= 30, name
        # use the page with a finger, then check the results fit too
        if path == "/":
            page.locator("#f-batch_size").tap()
            page.locator("#f-batch_size").fill("256")
            page.wait_for_function(
                "() => document.querySelector('#cli-line').textContent.includes('256')")
            page.wait_for_selector("body[data-state=ready]")
        elif path == "/schedules":
            page.wait_for_selector("body[data-ready=schedules]")
        else:
            page.set_input_files("#file", str(HF_STATE))
            page.wait_for_selector("body[data-state=ready]")
        page.wait_for_selector("#chart .scatterlayer .trace path.js-line", state="attached")
        chart = page.locator("#chart").bounding_box()
        assert chart is not None and chart["x"] >= 0 and chart["x"] + chart["width"] <= 390
        assert overflow(page) <= 390, f"{path} results are {overflow(page)}px wide"
    finally:
        ctx.close()
    assert page_log.external() == []
    assert page_log.errors == []
