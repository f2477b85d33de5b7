"""Where the commands write for people: Rich consoles and progress bars.

Markup, emoji and highlighting are off: account and asset names print exactly as written.
Consoles are built per call, so that they write to the current ``sys.stdout``; when it is
not a terminal, tables are laid out wide rather than wrapped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

__all__ = ["console", "progress"]


def console(stderr: bool = False, width: int | None = None) -> Console:
    """A console on stdout (or stderr); at least ``width`` wide when not a terminal."""
    out = Console(markup=False, emoji=False, highlight=False, stderr=stderr, soft_wrap=False)
    if width is not None and not out.is_terminal:
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

    columns: list[str | ProgressColumn] = [
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
    ]
    fields: dict[str, object] = {}
    if status is not None:
        columns.append(TextColumn("{task.fields[status]}"))
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
