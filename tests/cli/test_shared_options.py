"""Options that several verbs or surfaces share say the same thing everywhere."""

from __future__ import annotations

from pathlib import Path

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


def test_calc_options_are_generated_from_the_one_description_of_the_inputs():
    # not just the same names: each option's help, default and type come from
    # lrkit.rules.fields (CalcInput and its docstring), which the web form also reads
    from lrkit.rules.fields import input_fields

    cli = {p.name: p for p in COMMANDS["calc"].params}
    types = {"int": int, "float": float, "bool": bool, "text": str, "choice": str,
             "pairs": Path}
    for field in input_fields():
        option = cli[field.name]
        assert option.help == field.help and field.help, field.name
        assert option.default == field.default, field.name
        assert option.type_descriptor.annotation is types[field.kind], field.name
    assert [p.name for p in COMMANDS["calc"].params][-4:] == sorted(OUTPUT_ONLY, key=[
        "as_json", "plot", "log_scale", "show_evidence"].index)
