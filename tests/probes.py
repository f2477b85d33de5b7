"""Run a Python snippet in a new interpreter and read back the JSON it writes last on
stderr: how tests see what a command imports (a fresh process, nothing preloaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def probe(script: str, args: list[str], timeout: float = 120) -> dict[str, Any]:
    """``script`` run with ``json.dumps(args)`` as its one argument; its last stderr line."""
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stderr.splitlines()[-1])
    return found
