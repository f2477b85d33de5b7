"""Errors of options (contract 6), part of the one exception tree of :mod:`xmargin.errors`::

    InputError (CLI exit 2)
      UnknownOption                   unknown_option
      OptionExpired                   option_expired

The rules options break are the tree's own: ``insufficient_margin``, ``not_liquidatable``
and ``nothing_to_liquidate`` (exit 1).
"""

from __future__ import annotations

from xmargin.errors import InputError

__all__ = ["OptionExpired", "UnknownOption"]


class UnknownOption(InputError):
    code = "unknown_option"

    def __init__(self, option: str) -> None:
        self.option = option
        super().__init__(f"unknown option {option!r}")


class OptionExpired(InputError):
    """A trade in an option whose expiry has passed (it is settled, contract 6.1)."""

    code = "option_expired"

    def __init__(self, option: str, expiry: str) -> None:
        self.option = option
        super().__init__(f"option {option!r} expired at {expiry} and is settled (contract 6.1)")
