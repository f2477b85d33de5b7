"""No option source file passes ~450 lines (their docstring examples and exports:
:mod:`tests.test_feature_modules`)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import xmargin
from tests.test_feature_modules import FEATURES


@pytest.mark.parametrize("module", FEATURES["options"][0])
def test_the_option_modules_stay_readable(module: str) -> None:
    path = Path(importlib.import_module(module).__file__ or "")
    assert path.is_relative_to(Path(xmargin.__file__).parent)
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450
