"""The liquidation-design errors are part of the one exception tree (their modules'
docstring examples and exports: :mod:`tests.test_feature_modules`)."""

from __future__ import annotations


def test_the_errors_module_re_exports_the_design_errors() -> None:
    import xmargin.errors as errors
    import xmargin.liquidation_errors as design

    for name in design.__all__:
        assert name in errors.__all__
        assert getattr(errors, name) is getattr(design, name)
