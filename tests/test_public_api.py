"""The curated public API (style guide 11): ``xmargin.__all__`` is exactly the public
names that ``xmargin/__init__.py`` imports, and every one of them is importable.

Modules bound in ``__init__`` (``from xmargin import mathlib as mathlib``, imported first
for its exact decimal context) are not API names and are left out of the comparison.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

import xmargin

INIT = Path(xmargin.__file__)


def names_imported_by_init() -> set[str]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return {n for n in names if not n.startswith("_")}


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
