"""The diagnose page in a real headless Chromium: upload a real log, read the findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrkit.diagnose import diagnose

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def too_high_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run logged to CSV at an LR far too high for it: it learns, then blows up."""
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=1.5, momentum=0.9)
    rows = ["step,train_loss,lr"]
    for step in range(300):
        idx = torch.randint(0, len(x), (32,))
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        rows.append(f"{step},{loss.item()},1.5")
    path = tmp_path_factory.mktemp("logs") / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_upload_shows_findings_over_the_curves(page, server, shots_dir, too_high_log):
    expected = diagnose(too_high_log).to_dict()
    assert expected["findings"], "the run should show a problem"
    page.goto(server + "/diagnose")
    page.set_input_files("#file", str(too_high_log))  # picking a file submits the form
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
    # the run that would check the verdict: a decade below a run called too high
    check = page.locator("#check-lr")
    assert float(check.get_attribute("data-value")) == expected["check_lr"]
    assert "train once more at LR" in check.inner_text()

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


def test_a_log_with_several_runs_can_be_judged_as_a_sweep(page, server):
    from lrkit.diagnose import diagnose_runs

    store = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "mlflow" / "mlflow.db"
    expected = diagnose_runs([store])
    page.goto(server + "/diagnose")
    page.set_input_files("#file", str(store))
    page.wait_for_selector("body[data-state=ready]")
    assert page.locator("#run-field").is_visible()  # the log holds two runs
    page.click("#sweep")
    page.wait_for_selector("#sweep-table")
    page.wait_for_selector("body[data-state=ready]")
    assert page.locator("#r-summary").inner_text() == expected.summary
    rows = page.locator("#sweep-table tbody tr")
    assert rows.count() == len(expected.runs)
    for i, run in enumerate(expected.runs):
        assert rows.nth(i).get_attribute("data-verdict") == run.verdict
        assert run.name in rows.nth(i).inner_text()
    assert float(page.locator("#r-lr").get_attribute("data-value")) == expected.suggested_lr
    # the final loss is drawn against the LR, on a log axis
    page.wait_for_selector("#chart .scatterlayer .trace", state="attached")
    assert page.evaluate("() => document.querySelector('#chart').layout.xaxis.type") == "log"


def test_choosing_several_logs_compares_them_as_a_sweep(page, server, tmp_path):
    # a run and the one its report names to check it, chosen together in the file picker
    from lrkit.diagnose import diagnose_runs

    paths = []
    for lr, final in [(0.01, 1.0), (0.1, 0.4)]:
        path = tmp_path / f"lr{lr}.csv"
        path.write_text("step,loss,lr\n" + "".join(
            f"{s},{final + (2.3 - final) * 0.97 ** s},{lr}\n" for s in range(300)))
        paths.append(path)
    expected = diagnose_runs(paths)
    page.goto(server + "/diagnose")
    page.set_input_files("#file", [str(p) for p in paths])
    page.wait_for_selector("#sweep-table")
    page.wait_for_selector("body[data-state=ready]")
    assert page.locator("#r-summary").inner_text() == expected.summary
    rows = page.locator("#sweep-table tbody tr")
    assert rows.count() == 2
    for i, run in enumerate(expected.runs):
        assert rows.nth(i).get_attribute("data-verdict") == run.verdict
        assert paths[i].name in rows.nth(i).inner_text()
