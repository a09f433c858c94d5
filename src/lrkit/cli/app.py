"""The ``lrkit`` typer application and its entry point.

Verbs are discovered: every module in ``lrkit.cli`` with a ``register(app)`` function
adds its command. ``main`` turns an LrkitError into a one-line message and exit code 2.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback

import click
import typer
import typer.main
from typer.core import TyperCommand

import lrkit.cli
from lrkit.cli._help import LrkitCommand
from lrkit.errors import LrkitError, clip_message

__all__ = ["app", "main"]

app = typer.Typer(
    name="lrkit",
    help="Find, shape and debug the learning rate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _register_verbs() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(lrkit.cli.__path__)
                     if not m.name.startswith("_") and m.name != "app")
    ranked = []
    for name in modules:
        module = importlib.import_module(f"lrkit.cli.{name}")
        if hasattr(module, "register"):
            ranked.append((getattr(module, "RANK", 100), name, module))
    for _, _, module in sorted(ranked):
        module.register(app)
    # one command class for every verb: help without "<bool>" on flags or "{path}" in usage
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = LrkitCommand


_register_verbs()


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """lrkit: calculator, schedules, range test, curvature, search and log diagnosis."""
    if version:
        from lrkit import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors print one line on stderr and exit with status 2.

    An exception raised in the user's own code (a task's model, loss, optimizer or
    factory) is a user error too: one line names their function and line. ``--debug``
    anywhere on the command line (or ``LRKIT_DEBUG=1``) prints the full traceback first.
    """
    from lrkit.usercode import blame, debug_enabled

    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args[: args.index("--") if "--" in args else len(args)]:
        args = [a for a in args if a != "--debug"]
        os.environ["LRKIT_DEBUG"] = "1"
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="lrkit", standalone_mode=False)
    except LrkitError as err:
        if debug_enabled():
            traceback.print_exc()
        click.echo(f"lrkit: error: {clip_message(err.render('cli'))}", err=True)
        sys.exit(2)
    except SystemExit as exc:
        blamed = blame(exc)  # sys.exit() in the user's factory: not a silent exit 0
        if blamed is None:
            raise
        if debug_enabled():
            traceback.print_exc()
        click.echo(f"lrkit: error: {clip_message(str(blamed))}", err=True)
        sys.exit(2)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    # typer >= 0.20 vendors its own click: its usage errors derive from TyperException
    except (click.ClickException, typer.TyperException) as exc:
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            click.echo(f"lrkit: error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        click.echo("lrkit: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        blamed = blame(exc)
        if blamed is None:
            raise  # lrkit's own bug: the traceback is the report
        if debug_enabled():
            traceback.print_exc()
        click.echo(f"lrkit: error: {clip_message(str(blamed))}", err=True)
        sys.exit(2)
    if isinstance(code, int) and code:  # a verb's typer.Exit(code) comes back as a value
        sys.exit(code)


if __name__ == "__main__":
    main()
