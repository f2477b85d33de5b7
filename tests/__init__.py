"""xmargin's test suite (a package, so that ``tests.builders`` and ``tests.strategies`` import)."""
