"""Several ``xmargin serve --cluster`` processes on one PostgreSQL database (issue 12, 3).

Real processes on one public port (SO_REUSEPORT); each test reaches a given process
through its private address (printed in its log) when it must, and the public address
otherwise. The fail-over test kills the writer with SIGKILL and writes again through the
public address until the survivor has taken over.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import MARKET, PG_ENV, empty_database, free_port
from tests.service.test_crash_safety import _xmargin
from xmargin.store import make_engine, replay_database
from xmargin.store.repositories import create_api_key, iter_journal

needs_pg = pytest.mark.skipif(
    not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set: PostgreSQL tests skipped"
)


ROOT = Path(__file__).resolve().parents[2]
README_DB = "postgresql+psycopg://user@host/db"


def readme_commands() -> list[list[str]]:
    """The README's ``serve --cluster`` commands (its "Several processes" block)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Several processes (PostgreSQL)") :]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block is not None
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]


class Node:
    """One README command run on the test's database and port (in place of the README's
    placeholders)."""

    def __init__(self, argv: list[str], db: str, port: int, log: Path) -> None:
        assert argv[:3] == ["xmargin", "serve", "--cluster"], argv
        args = [db if a == README_DB else str(port) if a == "8000" else a for a in argv[1:]]
        args = [str(ROOT / a) if a.startswith("src/") else a for a in args]
        self.log_path = log
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [*_xmargin(), *args],
            stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            m = re.search(r"cluster (writer|follower), private address (\S+)", self.text())
            if m is not None:
                self.role, self.url = m.group(1), m.group(2)
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start:\n{self.text()}")

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with empty_database("postgresql", tmp_path) as url:
        yield url


def _start_pair(db: str, tmp: Path) -> tuple[Node, Node, str]:
    """The README's two commands, one after the other, on one port."""
    port = free_port()
    first, second = readme_commands()
    a = Node(first, db, port, tmp / "a.log")
    b = Node(second, db, port, tmp / "b.log")
    return a, b, f"http://127.0.0.1:{port}"


def test_the_readme_shows_two_cluster_processes_on_one_port() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    for argv in commands:
        assert argv[:3] == ["xmargin", "serve", "--cluster"]
        assert argv[argv.index("--db") + 1] == README_DB


def test_cluster_needs_postgresql(tmp_path: Path) -> None:
    run = subprocess.run(
        [*_xmargin(), "serve", "--cluster", "--market", str(MARKET), "--db",
         f"sqlite:///{tmp_path / 'x.db'}", "--port", "0"],
        check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--cluster: needs a PostgreSQL database" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "x.db").exists()


def _act(url: str, key: str, kind: str, amount: str, ik: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/accounts/node_user/{kind}",
        json={"asset": "USDC", "amount": amount},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": ik},
        timeout=10,
    )


@needs_pg
def test_one_writer_and_a_follower_that_forwards_writes_and_reads_its_mirror(
    pg_url: str, tmp_path: Path
) -> None:
    a, b, public = _start_pair(pg_url, tmp_path)
    try:
        assert (a.role, b.role) == ("writer", "follower")
        assert httpx.get(f"{b.url}/healthz").json()["role"] == "follower"
        engine = make_engine(pg_url)
        key = create_api_key(engine, "account", "node_user")[0]
        admin = create_api_key(engine, "admin", None)[0]
        # A write sent to the follower is done by the writer, and read back from the
        # follower's mirror at once.
        r = _act(b.url, key, "deposit", "100", "k1")
        assert r.status_code == 200, r.text
        got = httpx.get(
            f"{b.url}/v1/accounts/node_user", headers={"Authorization": f"Bearer {key}"}
        ).json()
        assert got["supply"]["USDC"] == "100"
        # The same key again, through the other process: replayed, not applied twice.
        again = _act(a.url, key, "deposit", "100", "k1")
        assert again.headers.get("Idempotent-Replayed") == "true"
        # A write straight to the writer reaches the follower's mirror through NOTIFY.
        assert _act(a.url, key, "borrow", "10", "k2").status_code == 200
        deadline = time.monotonic() + 5
        while True:
            body = httpx.get(f"{b.url}/healthz").json()
            if body["journal_seq"] == httpx.get(f"{a.url}/healthz").json()["journal_seq"]:
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        view = httpx.get(
            f"{b.url}/v1/accounts/node_user", headers={"Authorization": f"Bearer {key}"}
        ).json()
        assert view["borrow"]["USDC"] == "10"
        # Errors keep their shape through the forwarding; reads need a key as before.
        bad = _act(b.url, key, "withdraw", "1000000", "k3")
        assert bad.status_code == 409
        assert bad.json()["error"]["code"]
        assert httpx.get(f"{b.url}/v1/accounts/node_user").status_code == 401
        summary = httpx.get(
            f"{public}/v1/risk/summary", headers={"Authorization": f"Bearer {admin}"}
        )
        assert summary.status_code == 200
        engine.dispose()
    finally:
        b.stop()
        a.stop()


@needs_pg
def test_the_follower_takes_over_when_the_writer_is_killed(pg_url: str, tmp_path: Path) -> None:
    a, b, public = _start_pair(pg_url, tmp_path)
    try:
        engine = make_engine(pg_url)
        key = create_api_key(engine, "account", "node_user")[0]
        assert _act(public, key, "deposit", "100", "before").status_code == 200
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait()
        # Writes succeed again through the same address once the survivor holds the lock.
        deadline = time.monotonic() + 20
        while True:
            try:
                r = _act(public, key, "deposit", "5", "after")
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, b.text()
            time.sleep(0.2)
        assert httpx.get(f"{b.url}/healthz").json()["role"] == "writer"
        view = httpx.get(
            f"{public}/v1/accounts/node_user", headers={"Authorization": f"Bearer {key}"}
        ).json()
        assert view["supply"]["USDC"] == "105"
        with engine.connect() as conn:
            keys = [e.idempotency_key for e in iter_journal(conn) if e.idempotency_key]
        assert sorted(keys) == ["after", "before"]
        assert replay_database(engine).entries == len(keys) + 1
        engine.dispose()
    finally:
        b.stop()
        a.stop()
