"""Names: account ids, asset symbols and category names share one rule (contract
extension "Names").

A name is 1 to :data:`MAX_NAME_LENGTH` characters, each a letter, a mark, a digit or a
currency sign of any script, or one of ``_ - . : @ + # ~``, with at least one letter or
digit, in Unicode NFC form. So every name fits the store's columns, can be written in a
URL path segment (no ``/``, ``?``, ``%``, spaces or control characters; never ``.`` or
``..``) and prints on one line. Names are compared exactly: case-sensitive (``alice`` and
``Alice`` are two accounts) and never trimmed (whitespace is not allowed at all). The
same rule is checked by the market-file loader, the positions readers, the risk book's
loader and the service.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_NAME_LENGTH", "NAME_PUNCTUATION", "name_problem"]

MAX_NAME_LENGTH = 64
NAME_PUNCTUATION = "_-.:@+#~"
#: The ASCII names (almost all of them), checked without a per-character loop.
_ASCII_NAME = re.compile(r"[A-Za-z0-9_.:@+#~-]*[A-Za-z0-9][A-Za-z0-9_.:@+#~-]*")
_CATEGORIES = ("L", "M", "N")


def _allowed(ch: str) -> bool:
    if ch in NAME_PUNCTUATION:
        return True
    cat = unicodedata.category(ch)
    return cat[0] in _CATEGORIES or cat == "Sc"


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be an account id, asset symbol or category name; else ``None``.

    >>> name_problem("eth-levered"), name_problem("alice bob")
    (None, "may hold only letters, digits and _-.:@+#~, not ' '")
    """
    if not isinstance(name, str):
        return f"must be a string, was {type(name).__name__}"
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters, was {len(name)}"
    if name.isascii() and _ASCII_NAME.fullmatch(name):
        return None
    bad = [ch for ch in name if not _allowed(ch)]
    if bad:
        shown = ", ".join(repr(ch) for ch in dict.fromkeys(bad))
        return f"may hold only letters, digits and {NAME_PUNCTUATION}, not {shown}"
    if not any(unicodedata.category(ch)[0] in "LN" for ch in name):
        return "must hold at least one letter or digit"
    if not unicodedata.is_normalized("NFC", name):
        return "must be in Unicode NFC form (composed characters)"
    return None
