"""The ``xmargin`` command: one Typer app, one top-level error handler.

Commands live in ``core_commands`` (contract section 4), ``liquidate_commands`` (3, 5.4,
8.5), ``perp_commands`` (5.7; options trade through ``trade``), ``greeks_commands`` (6.5),
``liquidation_design_commands`` (8.5), ``book_commands``
(the columnar risk book), ``service_commands`` (serve, replay, keys),
``simulate_commands`` and ``analysis_commands`` (7); each has a ``register(app)``.
:mod:`xmargin.cli.command_table` names every command and its module, so that ``main``
imports only the module of the command it runs (``--help`` imports none: issue 11);
:func:`_register` adds them all to :data:`app` at once, for whoever walks the tree.
``main`` is the only place that turns an exception into an exit status: 2 for bad input,
1 for a refused rule, never a traceback.

What users expect of a command line (issue 9, item 7): ``--version``, ``-h`` as
``--help`` on every command, and shell completion (``--install-completion``,
``--show-completion SHELL``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

import xmargin
from xmargin.cli.command_table import MODULES, LazyGroup, register_module

app = typer.Typer(
    name="xmargin",
    cls=LazyGroup,
    help="Risk engine for inter-asset collateralization (contract version 1).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"xmargin {xmargin.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Risk engine for inter-asset collateralization (contract version 1)."""


_registered = False


def _register() -> None:
    """Add every command to :data:`app` now (``main`` builds each one when it is used)."""
    global _registered  # noqa: PLW0603 - register each command once per process
    if _registered:
        return
    _registered = True
    for module in MODULES:
        register_module(app, module)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``xmargin`` script."""
    from xmargin.cli.errors import run_guarded

    sys.exit(run_guarded(app, argv))
