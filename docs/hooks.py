"""MkDocs hooks: the pages and figures of the site that are generated from the code.

Nothing here is written by hand twice: the CLI reference comes from the typer app, the web
API reference from the FastAPI OpenAPI schema, the schedule spec from the schedule
registry, the API reference pages from each package's ``__all__``, and every figure from
lrkit's own plotting code at build time. The generated files live only in the built site,
never in ``docs/``, so they cannot go stale there.

MkDocs loads this file through ``hooks:`` in ``mkdocs.yml``; ``on_files`` adds the pages.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files


def api_packages() -> list[str]:
    """The packages whose public names make up the API reference: every subpackage of
    lrkit except the CLI and the web app (documented as such), plus ``lrkit.errors``. A
    package that exports nothing itself (``lrkit.integrations``: one module per framework)
    is documented module by module."""
    import pkgutil

    import lrkit

    found = ["lrkit"]
    for info in sorted(pkgutil.iter_modules(lrkit.__path__), key=lambda m: m.name):
        if not info.ispkg or info.name in ("cli", "web"):
            continue
        name = f"lrkit.{info.name}"
        found.append(name)
        package = importlib.import_module(name)
        if not getattr(package, "__all__", None):
            found += [f"{name}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                      if not m.name.startswith("_")]
    return [*found, "lrkit.errors"]


# The argument a family is drawn with in the spec reference, where it differs from the
# first of the ``examples`` its class declares (what a family not listed here is drawn with).
FAMILY_EXAMPLES = {
    "constant": "constant(base_lr=0.1)",
    "cosine": "cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100, end_lr=0.01)",
    "cosine_restarts": "cosine_restarts(peak_lr=0.1, cycle_steps=200, cycle_mult=1.5, "
                       "peak_decay=0.8)",
    "cyclic": "cyclic(base_lr=0.01, max_lr=0.1, step_size_up=125, mode=triangular2)",
    "exponential": "exponential(init_lr=0.1, decay_rate=0.997)",
    "exponential_warmup": "exponential_warmup(init_lr=0.001, peak_lr=0.1, warmup_steps=300)",
    "interpolate": "interpolate(steps=[0, 300, 1000], lrs=[0.02, 0.1, 0.0])",
    "inverse_sqrt": "inverse_sqrt(peak_lr=0.1, warmup_steps=100)",
    "inverse_time": "inverse_time(init_lr=0.1, decay_rate=1, decay_steps=100)",
    "join": "join(pieces=[linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=100), "
            "cosine(peak_lr=0.1, total_steps=900)], boundaries=[100])",
    "linear_warmup": "linear_warmup(init_lr=0.01, peak_lr=0.1, warmup_steps=300)",
    "multistep": "multistep(base_lr=0.1, milestones=[300, 600, 850], gamma=0.3)",
    "noam": "noam(d_model=512, warmup_steps=200)",
    "onecycle": "onecycle(peak_lr=0.1, total_steps=1000)",
    "piecewise": "piecewise(boundaries=[300, 700], lrs=[0.1, 0.05, 0.01])",
    "polynomial": "polynomial(init_lr=0.1, total_steps=1000, power=2)",
    "product": "product(first=cosine(peak_lr=0.1, total_steps=1000), "
               "second=exponential(init_lr=1, decay_rate=0.999))",
    "scaled": "scaled(schedule=onecycle(peak_lr=0.1, total_steps=1000), factor=0.5)",
    "step": "step(base_lr=0.1, step_size=250, gamma=0.5)",
    "tanh": "tanh(peak_lr=0.1, total_steps=1000)",
    "wsd": "wsd(peak_lr=0.1, total_steps=1000, warmup_steps=100, decay_steps=200)",
}
STEPS = 1000


def on_config(config: Any) -> Any:
    """Fill the nav's "Python API" section with one page per package, so none is missed."""
    pages = [{package: f"reference/api/{package}.md"} for package in api_packages()]
    for section in config["nav"]:
        for entry in section.get("Reference", []) if isinstance(section, dict) else []:
            if isinstance(entry, dict) and "Python API" in entry:
                entry["Python API"] = pages
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add every generated page and figure to the site."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    for uri, content in _generated().items():
        files.append(File.generated(config, uri, content=content))
    return files


def _generated() -> dict[str, str | bytes]:
    pages: dict[str, str | bytes] = {
        "reference/cli.md": cli_reference(),
        "reference/web-api.md": web_reference(),
        "reference/schedule-spec.md": spec_reference(),
    }
    for package in api_packages():
        pages[f"reference/api/{package}.md"] = api_page(package)
    pages.update(figures())
    return pages


# -- the CLI -----------------------------------------------------------------------------

def cli_reference() -> str:
    """Every verb's usage, help and options, from the typer app itself."""
    import typer
    import typer.main

    from lrkit.cli.app import app

    group = typer.main.get_command(app)
    lines = ["# CLI reference", "",
             "Generated from the `lrkit` typer application at build time: what `--help` prints,",
             "verb by verb. Every verb exits 0 on success and 2 with a one-line message on bad",
             "input; `--json` prints one JSON document on stdout.", ""]
    for name, command in sorted(group.commands.items()):
        ctx = typer.Context(command, info_name=name)
        usage = " ".join(command.collect_usage_pieces(ctx))
        lines += [f"## lrkit {name}", "", f"    lrkit {name} {usage}", "",
                  inspect.cleandoc(command.help or ""), "",
                  "| option | what it does |", "| --- | --- |"]
        for param in command.params:
            record = param.get_help_record(ctx)
            if record is None:
                continue
            flag, text = record
            lines.append(f"| `{flag}` | {_cell(text)} |")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# -- the web API -------------------------------------------------------------------------

def web_reference() -> str:
    """Every JSON route of `lrkit serve`, from the app's OpenAPI schema."""
    from lrkit.web.app import create_app

    schema = create_app().openapi()
    lines = ["# Web API reference", "",
             "Generated from the OpenAPI schema of `lrkit serve` at build time. Bad input is",
             "answered with HTTP 422 and a one-line message in `detail`. The running server",
             "also serves this schema at `/openapi.json` and an explorer at `/docs`.", ""]
    for path, methods in sorted(schema["paths"].items()):
        for method, op in sorted(methods.items()):
            lines += [f"## `{method.upper()} {path}`", "", op.get("summary", ""), "",
                      inspect.cleandoc(op.get("description", "")), ""]
            body = op.get("requestBody", {}).get("content", {})
            for media, spec in body.items():
                lines += [f"Request body (`{media}`):", "", "```json",
                          json.dumps(_resolve(spec.get("schema", {}), schema), indent=2),
                          "```", ""]
    return "\n".join(lines)


def _resolve(node: Any, schema: dict[str, Any], depth: int = 0) -> Any:
    """Inline ``$ref``s (a few levels deep) so each route's body reads on its own."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref and depth < 4:
            target = schema
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, schema, depth + 1)
        return {k: _resolve(v, schema, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, schema, depth) for v in node]
    return node


# -- the schedule spec -------------------------------------------------------------------

def _drawn(family: str) -> str:
    """The spec string ``family`` is drawn with: its FAMILY_EXAMPLES entry or first example."""
    from lrkit.schedules import families

    return FAMILY_EXAMPLES.get(family) or families()[family].examples[0]


def spec_reference() -> str:
    """Each registered family's JSON fields, defaults, formula and drawing."""
    import dataclasses

    from lrkit.schedules import families, parse

    lines = ["# The schedule spec", "",
             "A schedule is a JSON object `{\"family\": NAME, ...fields}` or the compact string",
             "`NAME(field=value, ...)`; both round-trip (`to_spec()` / `from_spec()` /",
             "`parse()`), and the CLI, the web app and the search all read them. Fields without a",
             "default are required. Generated from the registry at build time.", ""]
    for name, cls in families().items():
        drawn = _drawn(name)
        example = parse(drawn)
        lines += [f"## `{name}`", "", inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0], "",
                  f"![{name}](../figures/schedules/{name}.png)", "",
                  f"Drawn: `{drawn}`", "", "```json",
                  json.dumps(example.to_spec(), indent=2), "```", "",
                  "| field | default |", "| --- | --- |"]
        for field in dataclasses.fields(cls):
            if field.default is not dataclasses.MISSING:
                default = f"`{field.default!r}`"
            elif field.default_factory is not dataclasses.MISSING:
                default = f"`{field.default_factory()!r}`"
            else:
                default = "required"
            lines.append(f"| `{field.name}` | {default} |")
        lines.append("")
    return "\n".join(lines)


# -- the Python API ----------------------------------------------------------------------

def api_page(package: str) -> str:
    """One page per package: its docstring, then every name in its ``__all__``.

    A name is documented once, on the page of the package that defines it; a package that
    re-exports it (``lrkit.Task`` is ``lrkit.tasks.Task``) links there instead.
    """
    module = importlib.import_module(package)
    names = [n for n in getattr(module, "__all__", []) if not n.startswith("_")
             and not inspect.ismodule(getattr(module, n, None))]
    lines = [f"# `{package}`", "", f"::: {package}", "    options:",
             "      show_root_heading: false", "      show_root_toc_entry: false",
             "      members: false", ""]
    elsewhere = []
    for name in names:
        home = home_package(getattr(module, name))
        if home not in (None, package):
            elsewhere.append(f"- [`{package}.{name}`]({home}.md#{home}.{name}): "
                             f"defined in `{home}`")
            continue
        lines += [f"::: {package}.{name}", "    options:", "      show_root_heading: true",
                  "      heading_level: 2", ""]
    if elsewhere:
        lines += ["## Re-exported here", "", *elsewhere, ""]
    return "\n".join(lines)


def home_package(obj: Any) -> str | None:
    """The API package whose page documents ``obj`` (the deepest one that holds it)."""
    where = getattr(obj, "__module__", None)
    if not isinstance(where, str):
        return None
    homes = [p for p in api_packages() if where == p or where.startswith(p + ".")]
    return max(homes, key=len) if homes else None


# -- figures -----------------------------------------------------------------------------

def figures() -> dict[str, bytes]:
    """Every schedule family, a range test with its suggestion, a diagnosis with evidence."""
    import numpy as np

    from lrkit.report.schedule_plot import plot_schedules
    from lrkit.schedules import families, parse

    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        steps = np.arange(STEPS)
        for name in families():
            path = Path(tmp) / f"{name}.png"
            plot_schedules({name: parse(_drawn(name)).values(STEPS)}, steps, path)
            out[f"figures/schedules/{name}.png"] = path.read_bytes()
        out["figures/rangetest.png"] = _range_test_figure(Path(tmp) / "rangetest.png")
        out["figures/diagnosis.png"] = _diagnosis_figure(Path(tmp))
    return out


def _range_test_figure(path: Path) -> bytes:
    import lrkit.rangetest as rangetest

    result = rangetest.find("digits-mlp", steps=60, seed=0)
    result.plot(path)
    return path.read_bytes()


def _diagnosis_figure(tmp: Path) -> bytes:
    """A run whose LR is 30x too high: the loss falls, spikes and blows up."""
    import numpy as np

    from lrkit.diagnose import diagnose
    from lrkit.report.diagnose_plot import plot_diagnosis

    rng = np.random.default_rng(0)
    steps = np.arange(400)
    loss = 2.3 * np.exp(-steps / 60) + 0.3 + 0.03 * rng.standard_normal(400)
    loss[250:] = loss[250:] * np.exp((steps[250:] - 250) / 25)
    log = tmp / "metrics.csv"
    log.write_text("step,train_loss,lr\n" + "".join(
        f"{s},{v:.6g},0.3\n" for s, v in zip(steps, loss, strict=True)))
    path = tmp / "diagnosis.png"
    plot_diagnosis(diagnose(log), path)
    return path.read_bytes()
