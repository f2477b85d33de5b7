"""Commands of the service: serve, replay, keys create|list|revoke.

``serve`` binds its port, takes the database's lock, prepares the database (migrations;
the market file into an empty database), then runs the FastAPI app under uvicorn on
loopback by default. ``replay`` rebuilds the market from the journal and compares it
with the stored balances. ``keys create`` prints a new API key (only its hash is
stored), ``keys list`` lists them, ``keys revoke`` revokes one at once. Only ``serve``
creates a database: the others need an existing one and create nothing.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, Literal

import typer

from xmargin.cli.options import Json
from xmargin.errors import InputError, StoreError

__all__ = [
    "demo",
    "keys_create",
    "keys_list",
    "keys_revoke",
    "parse_duration",
    "register",
    "replay",
    "serve",
]

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
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="PostgreSQL only: share --port with other `serve --cluster` processes on "
            "this database; the one holding its lock writes, the others serve reads from "
            "a mirror and forward writes (one takes over if the writer dies).",
        ),
    ] = False,
) -> None:
    """Run the engine as a service: REST API under /v1, OpenAPI at /docs.

    In this order: bind the port, take the database's lock, then migrate and load. A
    failure at any step prints one line, exits 2 and leaves nothing behind.
    """
    from xmargin.service import Settings, create_app
    from xmargin.service.server import bind, uvicorn_config
    from xmargin.service.startup import open_store
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
    node = None
    if cluster and not settings.database_url.startswith("postgresql"):
        raise InputError("--cluster: needs a PostgreSQL database (--db postgresql+psycopg://...)")
    sock = bind(host, port, reuse_port=cluster)
    sockets = [sock]
    try:
        if cluster:
            from xmargin.service.cluster import join

            sockets.append(bind("127.0.0.1", 0))
            store, node = join(settings, f"http://127.0.0.1:{sockets[1].getsockname()[1]}")
        else:
            store = open_store(settings)
    except BaseException:
        for s in sockets:
            s.close()
        raise
    typer.echo(f"xmargin: {store.note}", err=True)
    if node is not None:
        typer.echo(f"xmargin: cluster {node.role}, private address {node.private_url}", err=True)
    bound = sock.getsockname()[1]
    typer.echo(
        f"xmargin: serving on http://{host}:{bound} (API docs at /docs, events at /v1/events)",
        err=True,
    )
    app = create_app(settings, store, node=node)
    config = uvicorn_config(app, settings, access_log=access_log)

    import uvicorn

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close = getattr(app.state, "close_streams", None)
            if close is not None:
                close()
            super().handle_exit(sig, frame)

    _Server(config).run(sockets=sockets)


def replay(db: DbOpt = None, as_json: Json = False) -> None:
    """Rebuild the market from the journal and compare it with the stored balances.

    Exit 0 when they agree; any difference is an error (exit 2), each one listed.
    """
    from xmargin.store import database_url_from_env, make_engine, replay_database
    from xmargin.store.engine import require_database

    url = database_url_from_env(db)
    require_database(url)  # a mistyped --db creates nothing
    engine = make_engine(url)
    try:
        result = replay_database(engine)
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        typer.echo(
            f"replayed {result.entries} journal entries (last seq {result.last_seq}): "
            f"{result.accounts} accounts agree with the stored balances and totals"
        )


def _engine_of_existing(db: str | None) -> Any:
    """An engine on an existing, migrated store (a mistyped --db creates nothing)."""
    from xmargin.store import database_url_from_env, make_engine
    from xmargin.store.engine import require_database
    from xmargin.store.migrations import current_revision, upgrade

    url = database_url_from_env(db)
    require_database(url)
    engine = make_engine(url)
    try:
        if current_revision(engine) is None:
            from xmargin.store.engine import describe_url

            raise StoreError(
                f"database {describe_url(url)} holds no xmargin store: start "
                "`xmargin serve --market FILE --db URL` once to create it"
            )
        upgrade(engine)  # keys need the newest schema (expiry and revocation)
    except BaseException:
        engine.dispose()
        raise
    return engine


def parse_duration(text: str, option: str) -> timedelta:
    """``90d``, ``12h``, ``30m`` or ``45s`` as a duration; else :class:`InputError`."""
    m = re.fullmatch(r"([0-9]{1,6})([dhms])", text.strip())
    if m is None:
        raise InputError(f"{option}: must be a duration such as 90d, 12h, 30m or 45s, was {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    seconds = n * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    if seconds <= 0:
        raise InputError(f"{option}: must be longer than 0, was {text!r}")
    return timedelta(seconds=seconds)


def keys_create(
    role: Annotated[
        str,
        typer.Option("--role", help="admin | oracle | liquidator | account.", show_default=False),
    ],
    account: Annotated[
        str | None,
        typer.Option("--account", help="The account an account key acts for.", show_default=False),
    ] = None,
    expires_in: Annotated[
        str | None,
        typer.Option(
            "--expires-in",
            help="The key stops working after this long: 90d, 12h, 30m or 45s (default: never).",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    as_json: Json = False,
) -> None:
    """Print a new API key for ROLE (only its hash is stored; save it now)."""
    from xmargin.model.names import name_problem
    from xmargin.store.api_keys import create_api_key
    from xmargin.store.records import ROLES, utcnow

    if role not in ROLES:
        raise InputError(f"--role: must be one of {', '.join(ROLES)}, was {role!r}")
    if role == "account" and not account:
        raise InputError("--account ID is required for a key of role account")
    if role != "account" and account is not None:
        raise InputError(f"--account is only for keys of role account, not {role}")
    if account is not None and (why := name_problem(account)) is not None:
        raise InputError(f"--account: account id {why}")
    expires_at = (
        None if expires_in is None else utcnow() + parse_duration(expires_in, "--expires-in")
    )
    engine = _engine_of_existing(db)
    try:
        key, record = create_api_key(engine, role, account, expires_at)
    finally:
        engine.dispose()
    if as_json:
        doc = {
            "key": key,
            "id": record.id,
            "role": record.role,
            "account": record.account,
            "expires_at": _iso(record.expires_at),
        }
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        typer.echo(key)
        who = f" for account {account!r}" if account else ""
        until = f", expiring {_iso(expires_at)}" if expires_at else ""
        typer.echo(
            f"created {role} key {record.id}{who}{until}; only its hash is stored, so keep it now",
            err=True,
        )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat(timespec="seconds")


def keys_list(db: DbOpt = None, as_json: Json = False) -> None:
    """List every API key: id, role, account, status, created, expires, revoked (never the
    key itself: only its hash is stored)."""
    from xmargin.store.api_keys import list_api_keys
    from xmargin.store.records import utcnow

    engine = _engine_of_existing(db)
    try:
        keys = list_api_keys(engine)
    finally:
        engine.dispose()
    now = utcnow()
    rows = [
        {
            "id": k.id,
            "role": k.role,
            "account": k.account,
            "status": k.status(now),
            "created_at": _iso(k.created_at),
            "expires_at": _iso(k.expires_at),
            "revoked_at": _iso(k.revoked_at),
        }
        for k in keys
    ]
    if as_json:
        sys.stdout.write(json.dumps({"keys": rows}, indent=2, ensure_ascii=False) + "\n")
        return
    if not rows:
        typer.echo("no API keys (create one with `xmargin keys create --role ROLE`)")
        return
    head = ("id", "role", "account", "status", "created_at", "expires_at", "revoked_at")
    table = [head] + [tuple(str(r[c] if r[c] is not None else "-") for c in head) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for row in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def keys_revoke(
    key_id: Annotated[
        str, typer.Argument(metavar="ID", help="The key's id (see `xmargin keys list`).")
    ],
    db: DbOpt = None,
    as_json: Json = False,
) -> None:
    """Revoke an API key at once: a running server refuses it from the next request on."""
    from xmargin.store.api_keys import revoke_api_key

    engine = _engine_of_existing(db)
    try:
        record, revoked_now = revoke_api_key(engine, key_id)
    finally:
        engine.dispose()
    if as_json:
        doc = {"id": record.id, "revoked_at": _iso(record.revoked_at), "already": not revoked_now}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    elif revoked_now:
        typer.echo(f"revoked {record.role} key {record.id}")
    else:
        typer.echo(f"key {record.id} was already revoked at {_iso(record.revoked_at)}")


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
keys_app.command("list")(keys_list)
keys_app.command("revoke")(keys_revoke)

_COMMANDS: dict[str, Callable[..., object]] = {"serve": serve, "replay": replay, "demo": demo}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (once, however often it is called)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
    if all(g.name != "keys" for g in app.registered_groups):
        app.add_typer(keys_app, name="keys")
