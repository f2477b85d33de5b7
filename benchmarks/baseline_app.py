"""The bare-FastAPI baseline of ``benchmarks/service.py`` (issue 12, section 2).

What a service that does nothing but accept an action costs on this machine: the same
route shape as xmargin's actions (``POST /v1/accounts/{id}/{kind}``), the same body
parsing (the body read in full, parsed as JSON and validated by the service's own
``ActionRequest`` model), and one row appended per action by a batch-committing writer (a
task that takes the queue in batches and commits each batch in one transaction on a
database thread, answering every request only after its batch committed). No keys, no
idempotency look-up, no ledger, no risk view: the floor xmargin's figures are compared to.

Run by the benchmark as ``python benchmarks/baseline_app.py DB_URL PORT [FULL|NORMAL]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from xmargin.service.schemas import ActionRequest
from xmargin.store.engine import create_database, make_engine, sqlite_file, write_transaction

meta = MetaData()
actions = Table(
    "baseline_actions",
    meta,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("body", String(400), nullable=False),
    Column("idempotency_key", String(200)),
)


class BatchWriter:
    """Queue in, one transaction per batch, futures answered after the commit."""

    def __init__(self, url: str, sync: str) -> None:
        path = sqlite_file(url)
        if path is not None and not path.exists():
            create_database(url)
        self.engine = make_engine(url, sqlite_synchronous=sync)  # type: ignore[arg-type]
        meta.create_all(self.engine)
        self.queue: deque[tuple[dict[str, Any], asyncio.Future[int]]] = deque()
        self.wake = asyncio.Event()
        self.thread = ThreadPoolExecutor(max_workers=1)

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(insert(actions), rows)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self.queue:
                self.wake.clear()
                await self.wake.wait()
                continue
            items = [self.queue.popleft() for _ in range(min(256, len(self.queue)))]
            await loop.run_in_executor(self.thread, self._commit, [r for r, _ in items])
            for n, (_, fut) in enumerate(items):
                fut.set_result(n)

    async def submit(self, row: dict[str, Any]) -> int:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.queue.append((row, fut))
        self.wake.set()
        return await fut


def make_app(url: str, sync: str) -> FastAPI:
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        w = BatchWriter(url, sync)
        state["w"] = w
        task = asyncio.get_running_loop().create_task(w.run())
        yield
        task.cancel()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/accounts/{account_id}/{kind}")
    async def act(account_id: str, kind: str, request: Request) -> JSONResponse:
        raw = await request.body()
        data = json.loads(raw)
        body = ActionRequest.model_validate(data)
        key = request.headers.get("idempotency-key")
        await state["w"].submit(
            {
                "account": account_id,
                "kind": kind,
                "body": json.dumps({"asset": body.asset, "amount": body.amount}),
                "idempotency_key": key,
            }
        )
        return JSONResponse({"action": kind, "account": account_id, "asset": body.asset})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    db, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "FULL"
    uvicorn.run(make_app(db, mode), host="127.0.0.1", port=port, log_level="warning")
