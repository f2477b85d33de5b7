"""Rule: layers point one way (model → risk → ledger → store → service/CLI, with the float
rule source ``fast`` beside ``risk`` and the book and analytics above them), and no CLI
command module imports another but the core commands' large-book path.

Every ``import`` in ``src/xmargin`` is read from the source (also those inside functions).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "xmargin"

#: What each layer must not import.
FORBIDDEN = {
    "model": {"risk", "fast", "ledger", "book", "analytics", "store", "service", "cli"},
    "risk": {"fast", "ledger", "book", "analytics", "store", "service", "cli"},
    "fast": {"ledger", "book", "analytics", "store", "service", "cli"},
    "ledger": {"fast", "book", "analytics", "store", "service", "cli"},
    "book": {"analytics", "store", "service", "cli"},
    "analytics": {"store", "service", "cli"},
    "store": {"service", "cli"},
    "service": {"cli"},
}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in out if m.startswith("xmargin.")}


def _layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    bad = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in _layer_files(layer)
        for module in sorted(_imports(path))
        if module.split(".")[1] in FORBIDDEN[layer]
    ]
    assert not bad, "\n".join(bad)


def test_command_modules_do_not_import_each_other() -> None:
    commands = {p.stem for p in (PACKAGE / "cli").glob("*_commands.py")}
    allowed = {("core_commands", "book_commands")}  # health/stress on a large book
    bad = [
        f"{path.stem} imports {module}"
        for path in (PACKAGE / "cli").glob("*_commands.py")
        for module in sorted(_imports(path))
        if module.split(".")[1:2] == ["cli"]
        and len(module.split(".")) > 2
        and module.split(".")[2] in commands
        and (path.stem, module.split(".")[2]) not in allowed
    ]
    assert not bad, "\n".join(bad)


def test_rendering_lives_in_the_cli() -> None:
    """Nothing below the CLI prints tables: Rich is the CLI's alone."""
    bad = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.parent.name != "cli" and any(m.startswith("rich") for m in _all_imports(p))
    ]
    assert not bad, bad


def _all_imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out
