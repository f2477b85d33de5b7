"""Rule: layers point one way (model → risk → ledger → store → service/CLI, with the float
rule source ``fast`` beside ``risk`` and the book and analytics above them), and the CLI is
thin: no command module imports another but the core commands' large-book path; every
command module takes the shared options from ``cli/options.py``; only ``cli/console.py``
builds a Rich console; command modules render nothing themselves (tables live in the
``*_render`` modules and ``cli/render.py``); no CLI module reaches into another's private
names.

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


def _command_modules() -> list[Path]:
    return sorted((PACKAGE / "cli").glob("*_commands.py"))


def test_the_command_modules_are_covered() -> None:
    """The rules below read every command module, the spot, perp, design, analysis and
    simulation commands included."""
    names = {p.stem for p in _command_modules()}
    assert names >= {
        "core_commands", "liquidate_commands", "perp_commands", "liquidation_design_commands",
        "analysis_commands", "simulate_commands", "book_commands", "service_commands",
    }  # fmt: skip


def _shared_options() -> set[str]:
    tree = ast.parse((PACKAGE / "cli" / "options.py").read_text(encoding="utf-8"))
    return {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id[:1].isupper()
    }


def test_command_modules_take_the_shared_options_from_one_module() -> None:
    """``MarketFile``, ``Json``, the Monte Carlo options ... are declared once, in
    ``cli/options.py``; a command module declaring one again would let help texts drift."""
    shared = _shared_options()
    assert {"MarketFile", "Json", "AccountOpt", "OutOpt", "Paths", "Vols"} <= shared
    bad = [
        f"{path.stem} declares {t.id} again"
        for path in _command_modules()
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id in shared
    ]
    assert not bad, "\n".join(bad)


def _calls(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            f = node.func
            out.add(
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
    return out


def test_only_the_console_module_builds_a_console() -> None:
    """Consoles are made in ``cli/console.py`` (markup off, width off a terminal), once."""
    bad = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p != PACKAGE / "cli" / "console.py" and "Console" in _calls(p)
    ]
    assert not bad, bad


def test_command_modules_render_nothing_themselves() -> None:
    """A command parses, calls the library and hands the result to a renderer: it imports
    no Rich (tables and consoles are the ``*_render`` modules' and ``cli/console.py``'s
    progress bars)."""
    bad = [
        f"{p.stem} imports {m}"
        for p in _command_modules()
        for m in sorted(_all_imports(p))
        if m.split(".")[0] == "rich"
    ]
    assert not bad, bad


def test_no_cli_module_imports_another_modules_private_names() -> None:
    bad = [
        f"{p.stem} imports {node.module}.{a.name}"
        for p in sorted((PACKAGE / "cli").glob("*.py"))
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xmargin.")
        for a in node.names
        if a.name.startswith("_")
    ]
    assert not bad, bad
