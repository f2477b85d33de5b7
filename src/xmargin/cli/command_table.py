"""The static table of top-level commands: each one's module is imported when it is used.

``xmargin --help`` and ``xmargin CMD ...`` used to import every command module (NumPy,
pydantic models, Rich, the analytics) before parsing a word (issue 11, item 4). The
root group now holds a :class:`LazyCommands` mapping instead: listing the commands reads
this table; looking one up imports its module, registers that module's commands on a
private Typer app built with the root's settings, and keeps the one asked for. The
overview prints each command's summary from the table without importing anything;
tests/cli/test_lazy_commands.py checks that every summary is the first paragraph of the
command's own help, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["COMMANDS", "LazyCommands", "LazyGroup", "load_command"]


#: One top-level command: its module under ``xmargin.cli`` and its help's summary (a
#: plain tuple: a NamedTuple class costs a millisecond of ``--help``).
Entry = tuple[str, str]


#: Every top-level command in the order ``--help`` lists them (as Typer does: the
#: commands by module, then the groups), as (module, summary): the summary is the first
#: paragraph of the command's help on one line (the overview shortens it as Click does).
COMMANDS: dict[str, Entry] = {
    "check": (
        "core_commands",
        "Validate a market file; print the counts of its assets, categories and accounts.",
    ),
    "health": (
        "core_commands",
        "Every figure of contract section 2 for each account, at the file's prices.",
    ),
    "liquidation-price": (
        "core_commands",
        "The price of ASSET at which the account's health factor is 1, others fixed.",
    ),
    "stress": (
        "core_commands",
        "Shock prices (and option volatilities), then every account's figures and a "
        "summary of what is liquidatable.",
    ),
    "liquidate": (
        "liquidate_commands",
        "Liquidate one account as contract section 3 (or 5.4, --perp; 6.5, --options) says; "
        "refused liquidations exit 1.",
    ),
    "trade": (
        "perp_commands",
        "Trade a perp (contract 5.3: settle funding, move the position, margin-check) or an "
        "option (6.4: the premium moves through the settlement asset).",
    ),
    "settle": (
        "perp_commands",
        "Realise a perp position's PnL and funding into its settlement asset (5.3).",
    ),
    "funding": ("perp_commands", "Set a perp's funding index F (5.3), as its oracle would."),
    "greeks": (
        "greeks_commands",
        "Delta, gamma, vega and theta of each account per underlying (options, perps and "
        "balances of the underlying).",
    ),
    "absorb": (
        "liquidation_design_commands",
        "Absorb an account below maintenance into the protocol (Compound v3).",
    ),
    "buy-collateral": (
        "liquidation_design_commands",
        "Buy absorbed collateral at the store-front price while reserves are below target.",
    ),
    "socialize": (
        "liquidation_design_commands",
        "Socialise the deficit left after the insurance fund (Drift).",
    ),
    "deleverage": (
        "liquidation_design_commands",
        "Close a bankrupt position against the most profitable opposite ones (ADL).",
    ),
    "watch": (
        "book_commands",
        "Replay a price file through the risk book; print each risk event as a JSON line.",
    ),
    "generate-book": (
        "book_commands",
        "Write a synthetic book: market.toml and a positions file (contract 1.4).",
    ),
    "serve": (
        "service_commands",
        "Run the engine as a service: REST API under /v1, OpenAPI at /docs.",
    ),
    "replay": (
        "service_commands",
        "Rebuild the market from the journal and compare it with the stored balances.",
    ),
    "demo": (
        "service_commands",
        "The service demo: serve the demo market, replay the ETH crash of 2021-01-11 through "
        "the oracle, liquidate, stream events, replay the journal (5–15 s here).",
    ),
    "calibrate": (
        "analysis_commands",
        "Haircuts, liquidation thresholds and collateral factors from volatility and liquidity.",
    ),
    "optimize": (
        "analysis_commands",
        "Largest borrowing capacity with VaR99 of bad debt within K: a proposal and its diff.",
    ),
    "network": (
        "analysis_commands",
        "Concentration (HHI, top-10), seized share, liquidation contagion, entity clearing.",
    ),
    "auction": (
        "liquidation_design_commands",
        "Dutch auctions (contract 8.2): start, take, reset, status.",
    ),
    "keys": ("service_commands", "API keys of the service."),
    "simulate": (
        "simulate_commands",
        "Hypothetical modeling: scenarios, Monte Carlo bad-debt VaR, liquidation cascades, "
        "liquidation designs compared.",
    ),
}

#: The command modules, in the order their commands are listed.
MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


def sub_app() -> typer.Typer:
    """A Typer app with the root's settings, to build a module's commands on."""
    return typer.Typer(
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        rich_markup_mode=None,
    )


def register_module(app: typer.Typer, module: str) -> None:
    """Import ``xmargin.cli.<module>`` and add its commands to ``app``."""
    importlib.import_module(f"xmargin.cli.{module}").register(app)


def load_command(name: str) -> Any:
    """The Click command ``name`` of the table, built from its module."""
    app = sub_app()
    register_module(app, COMMANDS[name][0])
    return typer.main.get_group(app).commands[name]


class LazyCommands(MutableMapping[str, Any]):
    """The root group's commands: the table's names in its order, each built when first
    read, then any other command added to the group (registered on the root app itself).
    """

    def __init__(self, built: MutableMapping[str, Any]) -> None:
        self._built: dict[str, Any] = dict(built)
        self._names: list[str] = list(COMMANDS)
        self._names += [n for n in self._built if n not in COMMANDS]

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self._names:
                raise KeyError(name)
            self._built[name] = load_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._names:
            self._names.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(name)
        self._names.remove(name)
        self._built.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def summary_command(self, name: str) -> Any:
        """The built command, or (not built yet) a stand-in holding the table's summary."""
        if name in self._built:
            return self._built[name]
        return TyperCommand(name, help=COMMANDS[name][1], rich_markup_mode=None)


class LazyGroup(TyperGroup):
    """The root group: commands from :class:`LazyCommands`, an overview from the table."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        """The names in order, none built (Typer's own reads every item)."""
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """As Click lists commands, with summaries from the table (nothing imported)."""
        commands = self.commands
        assert isinstance(commands, LazyCommands)
        shown = [(n, commands.summary_command(n)) for n in self.list_commands(ctx)]
        shown = [(n, c) for n, c in shown if not c.hidden]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(n) for n, _ in shown)
        with formatter.section("Commands"):
            formatter.write_dl([(n, c.get_short_help_str(limit)) for n, c in shown])
