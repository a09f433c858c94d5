"""The error form: every raise site's message, and one error rendered on each surface."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lrkit._io import read_input
from lrkit.errors import SURFACES, ConfigError, LrkitError, spell
from lrkit.rules.losscurve import read_loss_history
from lrkit.tasks import load_task
from lrkit.tune import suggestions_from_calc
from lrkit.usercode import blame

SRC = Path(__file__).resolve().parents[1] / "src" / "lrkit"
ERRORS = {"ConfigError", "SpecError", "DataError", "UserCodeError"}
# "<parameter>[ = <value>]: <rule>[; <fix>]"; {} stands for an interpolated value
FORM = re.compile(r"^[^;]+?: \S")
# raise sites whose message has no "; <fix>" yet (file, start of the message): the debt is
# listed so that a new site without a fix fails here
NO_FIX_YET = {
    ("auto/design.py", "design.{} = {}: must be true or false"),
    ("cli/compare.py", "--schedule = {}: use 'task'"),
    ("cli/schedule.py", "--from = {}: expected LIBRARY:NAME"),
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


def _flag_head(call: ast.Call) -> str | None:
    """The CLI flag a raise site names as its parameter, or None."""
    if call.args:
        text = _template(call.args[0])
        return text.split(" ")[0].rstrip(":") if text and text.startswith("--") else None
    for keyword in call.keywords:
        if keyword.arg == "parameter" and isinstance(keyword.value, ast.Constant) \
                and str(keyword.value.value).startswith("--"):
            return str(keyword.value.value)
    return None


LIBRARY_SITES = [(w, n, c) for w, n, c in SITES if not w.startswith("cli/")]


@pytest.mark.parametrize(("where", "line", "call"), LIBRARY_SITES,
                         ids=[f"{w}:{n}" for w, n, _ in LIBRARY_SITES])
def test_a_library_error_names_the_python_parameter_not_a_flag(where, line, call):
    head = _flag_head(call)
    assert head is None, (
        f"{where}:{line}: opens with {head} from Python; build the error from its parts "
        "(parameter='python_name', ...) so the CLI spells the flag")


def test_the_flag_walk_sees_a_flag_in_either_form():
    plain = ast.parse('ConfigError(f"--grid = {x}: bad; fix")').body[0].value
    parts = ast.parse('DataError(parameter="--calc", rule="r")').body[0].value
    named = ast.parse('ConfigError(parameter="grid", rule="r", fix="pass --grid")').body[0].value
    assert [_flag_head(c) for c in (plain, parts, named)] == ["--grid", "--calc", None]


def test_no_fix_yet_lists_only_sites_that_exist():
    found = {(w, _template(c.args[0])) for w, _, c in SITES if c.args}
    for where, start in NO_FIX_YET:
        assert any(w == where and t and t.startswith(start) for w, t in found), (where, start)


def _broken_factory(tmp_path: Path) -> str:
    path = tmp_path / "broken_task.py"
    path.write_text("def make_task():\n    raise RuntimeError('no data')\n")
    return f"{path}:make_task"


@pytest.mark.parametrize(("make", "python", "cli"), [
    (lambda tmp: load_task(_broken_factory(tmp)), "task = ", "--task = "),
    (lambda tmp: read_loss_history([[1, 2.0]]), "loss_history: ", "--loss-history: "),
    (lambda tmp: suggestions_from_calc({}), "calc: no positive", "--calc: no positive"),
    (lambda tmp: read_input(tmp / "missing.json", "calc"), "calc = '", "--calc = '"),
])
def test_data_and_user_code_errors_name_the_parameter_per_surface(make, python, cli, tmp_path):
    with pytest.raises(LrkitError) as info:
        make(tmp_path)
    err = info.value
    assert str(err).startswith(python) and err.render("web").startswith(python)
    assert err.render("cli").startswith(cli)


def test_user_code_error_keeps_the_debug_hint_for_the_cli_only():
    def users_code():
        raise RuntimeError("boom")

    try:
        users_code()
    except RuntimeError as exc:
        err = blame(exc, role="the task's model", user_files=lambda name: name == __file__)
    assert err is not None and "boom" in str(err)
    assert "--debug" not in str(err) and "--debug" not in err.render("web")
    assert err.render("cli").endswith("(--debug or LRKIT_DEBUG=1 shows the traceback)")


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
