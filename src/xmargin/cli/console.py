"""Where the commands write for people: Rich consoles and progress bars.

Markup, emoji and highlighting are off: account and asset names print exactly as written.
Consoles are built per call, so that they write to the current ``sys.stdout``.

Numbers never wrap (issue 9, item 3). The width is the terminal's, or ``COLUMNS`` when set;
a table wider than that is printed vertically instead (one block of ``column  value``
lines per row), since Rich would otherwise fold its cells mid-digit. Off a terminal with no
``COLUMNS`` (a pipe, a file), a table is laid out at its natural width, never wrapped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

__all__ = ["console", "progress"]


class FittingConsole(Console):
    """A console whose tables never wrap a cell: too wide for a fixed width, a table is
    printed vertically; off a terminal without ``COLUMNS``, at its natural width."""

    def __init__(self, *, fixed_width: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fixed_width = fixed_width

    def print(self, *objects: Any, **kwargs: Any) -> None:
        for obj in objects:
            if isinstance(obj, Table):
                self._print_table(obj, **kwargs)
            else:
                super().print(obj, **kwargs)

    def _print_table(self, table: Table, **kwargs: Any) -> None:
        natural = Measurement.get(self, self.options.update(width=10_000), table).maximum
        if natural <= self.width:
            super().print(table, **kwargs)
        elif not self.fixed_width:
            saved = self.width
            self.width = natural
            try:
                super().print(table, **kwargs)
            finally:
                self.width = saved
        else:
            for part in vertical(table):
                super().print(part, **kwargs)


def vertical(table: Table) -> list[Table | str]:
    """``table`` as one block per row: each column's header beside the row's cell.

    A table without headers (field/value pairs) stays as it is: its value column folds.
    """
    if not table.show_header:
        return [table]
    headers = [str(c.header) for c in table.columns]
    cells = [[str(x) for x in c.cells] for c in table.columns]
    n_rows = len(cells[0]) if cells else 0
    out: list[Table | str] = []
    if table.title is not None:
        out.append(str(table.title))
    for r in range(n_rows):
        block = Table(show_header=False, box=None, padding=(0, 1))
        block.add_column("column", no_wrap=True)
        block.add_column("value", justify="right", no_wrap=False, overflow="fold")
        for header, column in zip(headers, cells, strict=True):
            block.add_row(header, column[r])
        out.append(block)
        if r + 1 < n_rows:
            out.append("")
    return out


def _columns_env() -> bool:
    return (os.environ.get("COLUMNS") or "").strip().isdigit()


def console(stderr: bool = False, width: int | None = None) -> Console:
    """A console on stdout (or stderr), whose tables never wrap a number.

    ``width``: at least this wide when it is not a terminal and ``COLUMNS`` is not set.
    """
    probe = Console(stderr=stderr)
    fixed = probe.is_terminal or _columns_env()
    out = FittingConsole(
        fixed_width=fixed,
        markup=False,
        emoji=False,
        highlight=False,
        stderr=stderr,
        soft_wrap=not fixed,  # off a terminal, a line of text is never broken either
    )
    if width is not None and not fixed:
        out.width = max(out.width, width)
    return out


@contextmanager
def progress(
    total: int,
    label: str,
    show: bool | None,
    status: str | None = None,
    transient: bool = True,
) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr (``show`` None: if stderr is a terminal); ``advance(n)``.

    ``status``: a text shown after the count, formatted with the keyword fields passed to
    ``advance(n, **fields)`` (``"{events} events"``). The bar ends full.
    """
    on = sys.stderr.isatty() if show is None else show
    if not on:
        yield lambda n, **fields: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    # Columns, not "[style]..." strings: the console has markup off, so a string column
    # would print its markup as text (issue 9, item 6).
    columns: list[str | ProgressColumn] = [
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
    ]
    fields: dict[str, object] = {}
    if status is not None:
        columns.append(TextColumn("{task.fields[status]}", markup=False))
    with Progress(
        *columns,
        TimeElapsedColumn(),
        console=console(stderr=True, width=140),
        transient=transient,
    ) as bar:
        task = bar.add_task(label, total=total, status="")

        def advance(n: int, **more: object) -> None:
            fields.update(more)
            text = status.format(**fields) if status is not None and fields else ""
            bar.update(task, advance=n, status=text)

        yield advance
        bar.update(task, completed=total)
