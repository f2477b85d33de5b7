"""The service's commands: ``keys create``, ``serve`` refusing bad input, ``replay``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import MARKET, Server
from xmargin.cli.app import main
from xmargin.errors import StoreError
from xmargin.service import Settings, prepare_database


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 2), out, err


def test_keys_create_prints_a_key_that_works_for_its_role(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        ["keys", "create", "--role", "account", "--account", "alice", "--db", server.db_url], capsys
    )
    assert code == 0, err
    key = out.strip()
    assert key.startswith("xm_") and "\n" not in key
    assert "only its hash is stored" in err
    with httpx.Client(base_url=server.url) as c:
        h = {"Authorization": f"Bearer {key}"}
        assert c.get("/v1/accounts/alice", headers=h).status_code == 200
        assert c.get("/v1/accounts/bob", headers=h).status_code == 403
    # Only the hash is stored.
    with server.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_hash FROM api_keys").scalars().all()
    assert key not in stored and all(len(h) == 64 for h in stored)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--role", "root"], "--role: must be one of admin, oracle, liquidator, account"),
        (["--role", "account"], "--account ID is required"),
        (["--role", "oracle", "--account", "alice"], "--account is only for keys of role account"),
    ],
)
def test_keys_create_refuses_a_bad_role_with_exit_2(
    args: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["keys", "create", *args, "--db", f"sqlite:///{tmp_path}/k.db"], capsys)
    assert code == 2
    assert err.startswith("error: ") and words in err
    assert out == ""


def test_keys_create_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    prepare_database(Settings(database_url=url, market_file=MARKET))
    code, out, _ = _run(["keys", "create", "--role", "admin", "--db", url, "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["role"] == "admin" and doc["account"] is None and doc["key"].startswith("xm_")


def test_serve_refuses_a_bad_market_file_before_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[market]\nquote = "USD"\n[assets.X]\nprice = 0\n', encoding="utf-8")
    code, _, err = _run(
        ["serve", "--market", str(bad), "--db", f"sqlite:///{tmp_path}/s.db", "--port", "0"], capsys
    )
    assert code == 2
    assert err.startswith("error: ") and "assets.X.price" in err
    assert "Traceback" not in err and "serving on" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]  # nothing created


def test_the_first_start_needs_a_market_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="holds no market yet: give --market FILE"):
        prepare_database(Settings(database_url=f"sqlite:///{tmp_path}/e.db"))


def test_a_later_start_resumes_from_the_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/r.db", market_file=MARKET)
    assert prepare_database(settings).startswith("loaded ")
    again = prepare_database(settings)
    assert again.startswith("resuming from ") and "--market ignored" in again
    assert "journal at 1" in again


def test_replay_of_an_empty_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["replay", "--db", f"sqlite:///{tmp_path}/none.db"], capsys)
    assert code == 2
    assert "no xmargin database at" in err and "xmargin serve --market" in err
    assert list(tmp_path.iterdir()) == []  # nothing created
