"""The plot of ``simulate compare --plot FILE``: each figure as bars, one bar per design.

Six panels (bad debt, liquidated volume, liquidator profit, borrower loss, insurance fund
drawdown, time to clear), so designs are compared figure by figure on one image; the
file's suffix picks the format matplotlib writes (``.png``, ``.svg``, ``.pdf``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from xmargin.analytics.design_compare import DesignFigures
from xmargin.analytics.report import plt_module
from xmargin.errors import InputError

__all__ = ["PLOT_SUFFIXES", "write_compare_plot"]

#: What ``--plot`` may write.
PLOT_SUFFIXES = (".png", ".svg", ".pdf")

_PANELS = (
    ("bad_debt", "bad debt"),
    ("liquidated", "liquidated volume"),
    ("liquidator_profit", "liquidator profit"),
    ("borrower_loss", "borrower loss"),
    ("fund_drawdown", "insurance fund drawdown"),
    ("time_to_clear_hours", "time to clear (hours)"),
)


def write_compare_plot(
    results: Mapping[str, DesignFigures], path: str | Path, quote: str, title: str
) -> Path:
    """Write the plot to ``path``; an unwritable path or an unknown suffix is bad input
    (:class:`~xmargin.errors.InputError` naming ``--plot``)."""
    p = Path(path)
    if p.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"--plot {p}: must end in {', '.join(PLOT_SUFFIXES)}")
    plt = plt_module()
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), dpi=100)
    names = list(results)
    for ax, (key, label) in zip(axes.flat, _PANELS, strict=True):
        values = [getattr(results[n], key) for n in names]
        shown = [0.0 if v is None else float(v) for v in values]
        bars = ax.bar(names, shown, color="#4c72b0")
        for bar, v in zip(bars, values, strict=True):
            if v is None:  # not cleared: say so instead of a bar of 0
                bar.set_color("#c44e52")
                ax.annotate("not cleared", (bar.get_x() + bar.get_width() / 2, 0),
                            ha="center", va="bottom", fontsize=7, rotation=90)  # fmt: skip
        unit = "hours" if key == "time_to_clear_hours" else quote
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(axis="x", labelrotation=35, labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    try:
        fig.savefig(p)
    except OSError as exc:
        raise InputError(f"--plot {p}: cannot write: {exc.strerror or exc}") from exc
    finally:
        plt.close(fig)
    return p
