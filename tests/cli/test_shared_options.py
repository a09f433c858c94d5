"""Options that several verbs or surfaces share say the same thing everywhere."""

from __future__ import annotations

import typer

from lrkit.cli._common import TASK_HELP
from lrkit.cli.app import app

COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]
OUTPUT_ONLY = {"as_json", "plot", "log_scale", "show_evidence"}


def test_every_verb_that_trains_has_the_one_task_option():
    with_task = {name for name, cmd in COMMANDS.items()
                 if any("--task" in p.opts for p in cmd.params)}
    assert {"find", "sharpness", "tune", "auto", "compare"} <= with_task
    for name in with_task:
        option = next(p for p in COMMANDS[name].params if "--task" in p.opts)
        assert (option.help, option.default) == (TASK_HELP, "digits-mlp"), name


def test_calc_flags_are_the_fields_of_the_web_forms_input_model():
    # the web form and the /api/calc body are derived from CalcInput; lrkit calc must
    # offer exactly those inputs, under the flag the form's help text names
    from lrkit.web.calc_form import input_fields

    cli = {p.name: p for p in COMMANDS["calc"].params if p.name not in OUTPUT_ONLY}
    form = {f.name: f for f in input_fields()}
    assert set(cli) == set(form)
    for name, field in form.items():
        assert field.flag in (*cli[name].opts, *cli[name].secondary_opts), name
