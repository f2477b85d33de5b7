"""Commands of the service: serve, replay, keys create.

``serve`` prepares the database (migrations; the market file into an empty database),
then runs the FastAPI app under uvicorn on loopback by default. ``replay`` rebuilds the
market from the journal and compares it with the stored balances. ``keys create`` prints
a new API key (only its hash is stored).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Literal

import typer

from xmargin.cli.options import Json
from xmargin.errors import InputError

__all__ = ["demo", "keys_create", "register", "replay", "serve"]

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="XMARGIN_DATABASE_URL",
        help="Database URL: sqlite:///FILE (default sqlite:///xmargin.db) or "
        "postgresql+psycopg://USER@HOST:PORT/DB. Env: XMARGIN_DATABASE_URL.",
        show_default=False,
    ),
]


def serve(
    market: Annotated[
        Path | None,
        typer.Option(
            "--market",
            help="Market file loaded into an empty database at the first start; later "
            "starts resume from the database.",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    sqlite_synchronous: Annotated[
        str,
        typer.Option(
            help="SQLite durability: FULL (a commit survives power loss) or NORMAL "
            "(survives a crash of the process)."
        ),
    ] = "FULL",
    book_backend: Annotated[
        str,
        typer.Option(
            help="Kernels of the risk book: numpy (starts at once), numba or auto (Numba "
            "when installed; for books of millions of accounts)."
        ),
    ] = "numpy",
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = False,
) -> None:
    """Run the engine as a service: REST API under /v1, OpenAPI at /docs."""
    import uvicorn

    from xmargin.service import Settings, create_app, prepare_database
    from xmargin.store.engine import database_url_from_env

    sync = sqlite_synchronous.upper()
    if sync not in ("FULL", "NORMAL"):
        raise InputError(
            f"--sqlite-synchronous: must be FULL or NORMAL, was {sqlite_synchronous!r}"
        )
    mode: Literal["FULL", "NORMAL"] = "FULL" if sync == "FULL" else "NORMAL"
    backends: dict[str, Literal["auto", "numpy", "numba"]] = {
        "auto": "auto",
        "numpy": "numpy",
        "numba": "numba",
    }
    if book_backend not in backends:
        raise InputError(f"--book-backend: must be numpy, numba or auto, was {book_backend!r}")
    settings = Settings(
        database_url=database_url_from_env(db),
        market_file=market,
        sqlite_synchronous=mode,
        book_backend=backends[book_backend],
    )
    typer.echo(f"xmargin: {prepare_database(settings)}", err=True)
    typer.echo(
        f"xmargin: serving on http://{host}:{port} (API docs at /docs, events at /v1/events)",
        err=True,
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=5,
    )

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close = getattr(app.state, "close_streams", None)
            if close is not None:
                close()
            super().handle_exit(sig, frame)

    _Server(config).run()


def replay(db: DbOpt = None, as_json: Json = False) -> None:
    """Rebuild the market from the journal and compare it with the stored balances.

    Exit 0 when they agree; any difference is an error (exit 2), each one listed.
    """
    from xmargin.store import database_url_from_env, make_engine, replay_database

    engine = make_engine(database_url_from_env(db))
    try:
        result = replay_database(engine)
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        typer.echo(
            f"replayed {result.entries} journal entries (last seq {result.last_seq}): "
            f"{result.accounts} accounts agree with the stored balances and totals"
        )


def keys_create(
    role: Annotated[
        str,
        typer.Option("--role", help="admin | oracle | liquidator | account.", show_default=False),
    ],
    account: Annotated[
        str | None,
        typer.Option("--account", help="The account an account key acts for.", show_default=False),
    ] = None,
    db: DbOpt = None,
    as_json: Json = False,
) -> None:
    """Print a new API key for ROLE (only its hash is stored; save it now)."""
    from xmargin.store import database_url_from_env, make_engine
    from xmargin.store.migrations import upgrade
    from xmargin.store.repositories import ROLES, create_api_key

    if role not in ROLES:
        raise InputError(f"--role: must be one of {', '.join(ROLES)}, was {role!r}")
    if role == "account" and not account:
        raise InputError("--account ID is required for a key of role account")
    if role != "account" and account is not None:
        raise InputError(f"--account is only for keys of role account, not {role}")
    if account is not None and not 1 <= len(account) <= 200:
        raise InputError("--account: must be 1 to 200 characters")
    engine = make_engine(database_url_from_env(db))
    try:
        upgrade(engine)
        key, record = create_api_key(engine, role, account)
    finally:
        engine.dispose()
    if as_json:
        doc = {"key": key, "id": record.id, "role": record.role, "account": record.account}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        typer.echo(key)
        who = f" for account {account!r}" if account else ""
        typer.echo(
            f"created {role} key {record.id}{who}; only its hash is stored, so keep it now",
            err=True,
        )


def demo(
    port: Annotated[int, typer.Option(help="Port (0: a free one).", min=0, max=65535)] = 0,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Folder for the demo database (default: a temporary one).",
            show_default=False,
        ),
    ] = None,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Leave the server running, until Ctrl+C.")
    ] = False,
) -> int:
    """The service demo: serve the demo market, replay the ETH crash of 2021-01-11 through
    the oracle, liquidate, stream events, replay the journal (5–15 s here)."""
    from xmargin.service.demo import main as demo_main

    argv = ["--port", str(port)] + (["--dir", str(folder)] if folder else [])
    return demo_main(argv + (["--keep-running"] if keep_running else []))


keys_app = typer.Typer(
    name="keys", help="API keys of the service.", no_args_is_help=True, add_completion=False
)
keys_app.command("create")(keys_create)

_COMMANDS: dict[str, Callable[..., object]] = {"serve": serve, "replay": replay, "demo": demo}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (once, however often it is called)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
    if all(g.name != "keys" for g in app.registered_groups):
        app.add_typer(keys_app, name="keys")
