"""Data shipped inside the package: the demo market and a real price slice.

- ``demo.toml``: a small contract-v1 market (Aave v3 parameters, invented accounts) with
  healthy, at-risk, liquidatable and insolvent accounts; ``make demo`` runs on it.
- ``eth_crash_2021-01-11.csv``: ETH/USD minute mids around the 2021-01-11 crash, columns
  ``timestamp,asset,price``; ``timestamp`` is ISO-8601 UTC to the second
  (``2021-01-11T02:00:30Z``), ``asset`` is ``WETH``, ``price`` is USD per unit as a decimal
  string. BSD-3-Clause, (c) 2022 Risk-DAO: see ``NOTICE-eth_crash.md`` beside it.

>>> data_path("demo.toml").name
'demo.toml'
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from xmargin.errors import InputError

__all__ = ["DATA_FILES", "data_path"]

#: The data files this package ships, by name.
DATA_FILES = ("demo.toml", "eth_crash_2021-01-11.csv", "NOTICE-eth_crash.md")


def data_path(name: str) -> Path:
    """The filesystem path of the packaged data file ``name``.

    Raises
    ------
    InputError
        ``name`` is not one of :data:`DATA_FILES`, or the package is not installed as
        plain files (for example, imported from a zip archive).
    """
    if name not in DATA_FILES:
        raise InputError(
            f"no packaged data file named {name!r}; there are: {', '.join(DATA_FILES)}"
        )
    resource = files(__name__) / name
    if not isinstance(resource, Path) or not resource.is_file():
        raise InputError(f"packaged data file {name!r} is not available as a plain file")
    return resource
