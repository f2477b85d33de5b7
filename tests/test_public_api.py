"""The curated public API (style guide 11): ``xmargin.__all__`` is exactly the public
names that ``xmargin/__init__.py`` imports, and every one of them is importable.

Modules bound in ``__init__`` (``from xmargin import mathlib as mathlib``, imported first
for its exact decimal context) are not API names and are left out of the comparison. Most
names are imported at first use (``_LAZY``, PEP 562): their ``if TYPE_CHECKING`` imports
count as imported, and ``_LAZY`` must name the same module for each.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

import xmargin

INIT = Path(xmargin.__file__)


_TOOLING = {"__future__", "typing", "importlib"}


def _imports(body: list[ast.stmt]) -> dict[str, str]:
    """Name -> module of the package's own imports in ``body``, ``if TYPE_CHECKING`` too."""
    names: dict[str, str] = {}
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.module not in _TOOLING:
            names.update({a.asname or a.name: node.module or "" for a in node.names})
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in _TOOLING:
                    names[(alias.asname or alias.name).split(".")[0]] = alias.name
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "typing.TYPE_CHECKING":
            names.update(_imports(node.body))
    return names


def names_imported_by_init() -> set[str]:
    names = _imports(ast.parse(INIT.read_text(encoding="utf-8")).body)
    return {n for n in names if not n.startswith("_")}


def test_lazy_names_load_from_the_module_init_imports_them_from() -> None:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    checked = next(n for n in tree.body if isinstance(n, ast.If))
    assert _imports(checked.body) == xmargin._LAZY


def test_all_equals_the_public_names_imported_in_init() -> None:
    imported = {
        n for n in names_imported_by_init() if not isinstance(getattr(xmargin, n), types.ModuleType)
    }
    assert set(xmargin.__all__) - {"__version__"} == imported


def test_all_has_no_duplicates_and_is_sorted() -> None:
    assert len(xmargin.__all__) == len(set(xmargin.__all__))
    assert list(xmargin.__all__) == sorted(xmargin.__all__)


def test_every_name_in_all_is_importable_from_the_package() -> None:
    namespace: dict[str, object] = {}
    exec("from xmargin import *", namespace)  # the star import is what is tested
    missing = [n for n in xmargin.__all__ if n not in namespace]
    assert missing == []
    assert isinstance(xmargin.__version__, str)


def test_no_public_attribute_of_the_package_escapes_all() -> None:
    public = {
        n
        for n, v in vars(xmargin).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert public <= set(xmargin.__all__)


@pytest.mark.parametrize(
    "module",
    [
        "xmargin.errors",
        "xmargin.mathlib",
        "xmargin.model",
        "xmargin.io",
        "xmargin.io.market_file",
        "xmargin.risk.health",
        "xmargin.risk.liquidation",
        "xmargin.risk.liquidation_price",
        "xmargin.risk.validation",
        "xmargin.risk.weights",
        "xmargin.ledger.actions",
        "xmargin.ledger.events",
        "xmargin.analytics.stress",
    ],
)
def test_core_modules_export_only_names_they_define_or_import(module: str) -> None:
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"{module} has no __all__"
    assert [n for n in exported if not hasattr(mod, n)] == []


def test_the_package_ships_py_typed() -> None:
    assert (INIT.parent / "py.typed").is_file()
