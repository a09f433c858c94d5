"""The error form: every raise site's message, and one error rendered on each surface."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lrkit.errors import SURFACES, ConfigError, spell

SRC = Path(__file__).resolve().parents[1] / "src" / "lrkit"
ERRORS = {"ConfigError", "SpecError", "DataError"}
# "<parameter>[ = <value>]: <rule>[; <fix>]"; {} stands for an interpolated value
FORM = re.compile(r"^[^;]+?: \S")
# raise sites whose message has no "; <fix>" yet (file, start of the message): the debt is
# listed so that a new site without a fix fails here
NO_FIX_YET = {
    ("auto/design.py", "design.{} = {}: must be true or false"),
    ("cli/compare.py", "--schedule = {}: use 'task'"),
    ("cli/schedule.py", "--from = {}: expected LIBRARY:NAME"),
    ("compare/api.py", "--budget and --grid: give one"),
    ("integrations/lightning.py", "trainer.strategy = {}:"),
    ("integrations/lightning.py", "optimizer.param_groups[0]['lr'] = {}:"),
    ("integrations/tasks.py", "trainer.train_dataset = None:"),
    ("integrations/transformers.py", "optimizer.param_groups[0]['lr'] = {}:"),
    ("interop/torch_config.py", "torch scheduler = {}: not converted"),
    ("interop/_torch_scheduler.py", "state_dict.schedule_spec: {}"),
    ("interop/library.py", "{}:{}: follows a validation metric"),
    ("interop/snippet.py", "schedule: {}"),
    ("optim/sgd_hd.py", "nesterov = True with momentum"),
    ("rangetest/result.py", "path = '{}': not a range-test JSON object"),
    ("schedules/parse.py", "schedule = {}: must be a JSON object"),
    ("tune/seeds.py", "{}: the JSON must be an object"),
    ("tune/seeds.py", "{} = {}: expected a result object"),
    ("web/spectext.py", "spec = {}: must be an object with a 'family'"),
}


def _template(node: ast.AST) -> str | None:
    """A message literal with ``{}`` for each interpolated part; None when built otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        return None if left is None or right is None else left + right
    return None


def _raise_sites() -> list[tuple[str, int, ast.Call]]:
    sites = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name in ERRORS:
                    sites.append((path.relative_to(SRC).as_posix(), node.lineno, node))
    return sites


SITES = _raise_sites()


def test_the_walk_finds_the_raise_sites():
    assert len(SITES) > 200  # the whole package, not an empty glob


@pytest.mark.parametrize(("where", "line", "call"), SITES,
                         ids=[f"{w}:{n}" for w, n, _ in SITES])
def test_every_raise_site_names_the_parameter_the_rule_and_the_fix(where, line, call):
    keywords = {k.arg for k in call.keywords}
    if not call.args:  # the structured form
        assert {"parameter", "rule"} <= keywords, f"{where}:{line}: give parameter and rule"
        return
    text = _template(call.args[0])
    if text is None:
        return  # a message passed through (a caught error's text, a helper's result)
    assert FORM.match(text), f"{where}:{line}: {text!r} is not '<parameter> ...: <rule>'"
    if not any(where == w and text.startswith(start) for w, start in NO_FIX_YET):
        assert "; " in text, f"{where}:{line}: {text!r} gives no '; <fix>'"


def test_a_structured_error_names_the_parameter_per_surface():
    err = ConfigError(parameter="batch_size", value=0, rule="must be >= 1",
                      fix="pass e.g. 256 (with --base-batch-size for scaling)")
    assert str(err) == err.render("python") == err.render("web") == (
        "batch_size = 0: must be >= 1; pass e.g. 256 (with base_batch_size for scaling)")
    assert err.render("cli") == (
        "--batch-size = 0: must be >= 1; pass e.g. 256 (with --base-batch-size for scaling)")
    assert (err.parameter, err.value, err.rule) == ("batch_size", 0, "must be >= 1")
    assert isinstance(err, ValueError)


def test_a_plain_message_reads_the_same_everywhere():
    err = ConfigError("cosine.total_steps = 0: must be positive; pass the number of updates")
    assert {err.render(s) for s in SURFACES} == {str(err)}
    assert err.parameter is None


def test_spec_parameters_read_the_same_on_every_surface():
    assert {spell("cosine.peak_lr", s) for s in SURFACES} == {"cosine.peak_lr"}
    assert spell("steps_per_epoch", "cli") == "--steps-per-epoch"


def test_load_task_names_task_from_python_and_the_flag_from_the_cli(capsys):
    from lrkit.cli.app import main
    from lrkit.tasks import load_task

    with pytest.raises(ConfigError) as info:
        load_task("nope")
    assert str(info.value).startswith("task = 'nope': not a built-in task or a file; ")
    with pytest.raises(SystemExit) as code:
        main(["find", "--task", "nope"])
    assert code.value.code == 2
    assert capsys.readouterr().err.startswith("lrkit: error: --task = 'nope': not a built-in")


def test_the_web_api_names_the_json_field():
    from fastapi.testclient import TestClient

    from lrkit.web import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        answer = client.post("/api/calc", json={"batch_size": 0})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("batch_size = 0: must be >= 1; ")
