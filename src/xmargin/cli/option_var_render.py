"""What ``simulate montecarlo`` prints of an option book (issue 14 item 4): the JSON block
``options`` and a table of the option figures."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from xmargin.analytics.option_var import OptionVar
from xmargin.cli.console import console
from xmargin.cli.simulate_render import decimal_text

__all__ = ["option_var_doc", "print_option_var"]


def option_var_doc(ov: OptionVar) -> dict[str, Any]:
    """``{"accounts", "vol_elasticity", "option_value", "option_loss": {figure: {value,
    std_error}}, "shortfall": {...}}``, numbers as decimal strings."""
    return {
        "accounts": ov.accounts,
        "vol_elasticity": decimal_text(ov.elasticity),
        "option_value": decimal_text(ov.option_value),
        **{
            block: {
                k: {"value": decimal_text(f.value), "std_error": decimal_text(f.std_error)}
                for k, f in figs.items()
            }
            for block, figs in ov.figures.items()
        },
    }


def print_option_var(ov: OptionVar, quote: str) -> None:
    """The option book's VaR and ES, below the Monte Carlo's own table."""
    table = Table(
        title=(
            f"Option book: {ov.accounts} accounts, value {ov.option_value:,.2f} {quote}; "
            f"volatility elasticity {ov.elasticity:g} (values in {quote})"
        ),
        title_justify="left",
    )
    for name, justify in (("figure", "left"), ("estimate", "right"), ("std. error", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for block, figs in ov.figures.items():
        for k, f in figs.items():
            table.add_row(
                f"{block.replace('_', ' ')} {k.replace('_', ' ')}",
                f"{f.value:,.2f}",
                f"{f.std_error:,.2f}",
            )
    console(width=100).print(table)
