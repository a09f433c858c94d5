"""The diagnose page in a real headless Chromium: upload a real log, read the findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrkit.diagnose import diagnose

pytestmark = pytest.mark.browser

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
HF_STATE = LOGS / "huggingface" / "checkpoint-16" / "trainer_state.json"


def test_upload_shows_findings_over_the_curves(page, server, shots_dir):
    expected = diagnose(HF_STATE).to_dict()
    assert expected["findings"], "the fixture should show a problem"
    page.goto(server + "/diagnose")
    page.set_input_files("#file", str(HF_STATE))  # picking a file submits the form
    page.wait_for_selector("body[data-state=ready]")

    assert page.locator("#r-summary").inner_text() == expected["summary"]
    cards = page.locator("#findings .finding")
    assert cards.count() == len(expected["findings"])
    for i, finding in enumerate(expected["findings"]):
        card = cards.nth(i)
        assert card.get_attribute("data-kind") == finding["kind"]
        assert finding["title"] in card.inner_text()
        assert finding["action"] in card.inner_text()
        if finding["suggested_lr"] is not None:
            shown = card.locator(".suggested-lr")
            assert float(shown.get_attribute("data-value")) == finding["suggested_lr"]
    assert float(page.locator("#r-lr").get_attribute("data-value")) == expected["suggested_lr"]

    # the curves are drawn, and the evidence of each finding sits on them
    page.wait_for_selector("#chart .scatterlayer .trace path.js-line", state="attached")
    names = page.evaluate("() => document.querySelector('#chart').data.map(t => t.name)")
    for curve in expected["curves"]:
        assert curve["name"] in names
    markers = [n for n in names if n.startswith("⚠")]
    assert len(markers) == sum(1 for f in expected["findings"] if f["evidence"].get("steps"))
    page.screenshot(path=str(shots_dir / "web-diagnose.png"), full_page=True)


def test_bad_and_oversized_files_get_one_clear_line(page, server, app, tmp_path):
    page.goto(server + "/diagnose")
    junk = tmp_path / "notes.txt"
    junk.write_text("just some words\n")
    page.set_input_files("#file", str(junk))
    page.wait_for_selector("body[data-state=error]")
    message = page.locator("#error").inner_text()
    assert message.startswith("path = 'notes.txt': not a log format lrkit reads")
    assert page.locator("#results").is_hidden()

    big = tmp_path / "big.csv"
    big.write_bytes(b"step,loss\n" + b"0,1.0\n" * (app.state.max_upload_bytes // 6 + 10))
    page.set_input_files("#file", str(big))
    page.wait_for_function(
        "() => document.querySelector('#error').textContent.includes('upload limit')")
    assert page.locator("#error").inner_text().startswith("file = 'big.csv': larger than the")
