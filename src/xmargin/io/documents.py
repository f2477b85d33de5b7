"""Reading JSON and TOML documents the way the contract needs them: every number kept as
its text (:class:`~xmargin.model.numbers.NumberToken`) for the validators, duplicate keys
refused with their location, only UTF-8, only regular files of a bounded size.

Both market files and the service's request bodies are read here, so the two accept
exactly the same documents. Every failure of a parser (syntax, nesting too deep, an
integer too long for Python) becomes a :class:`DocumentError` naming where it happened.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from xmargin.model.numbers import NumberToken, json_int_token, toml_float_token

__all__ = [
    "MAX_MARKET_FILE_BYTES",
    "DocumentError",
    "DuplicateKeys",
    "decode_utf8",
    "loads_json",
    "loads_toml",
    "max_depth",
    "read_document",
    "read_regular_file",
    "require_regular_file",
]

#: The largest market file read (contract extension "Limits"); an ``accounts_file`` of
#: millions of accounts is read by its own streaming path and has no such bound.
MAX_MARKET_FILE_BYTES = 256 * 1024 * 1024


class DocumentError(ValueError):
    """A document that cannot be read; ``location`` is a dotted path or ``""``."""

    def __init__(self, message: str, location: str = "") -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def require_regular_file(path: Path) -> os.stat_result:
    """``path``'s status if it is a regular file (symlinks followed); else
    :class:`DocumentError` (a FIFO would block, a device never ends)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise DocumentError(f"is {_kind(st.st_mode)}, not a regular file")
    return st


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; else :class:`DocumentError`.

    Opened without blocking and checked on the open descriptor, so a path swapped for a
    FIFO or a device between a check and the read cannot hang or exhaust memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror}") from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
        os.close(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DocumentError(f"is {_kind(st.st_mode)}, not a regular file")
        raise DocumentError(f"is larger than {max_bytes // (1024 * 1024)} MiB")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise DocumentError(f"cannot read: {exc.strerror}") from exc
    if len(data) > max_bytes:
        raise DocumentError(f"is larger than {max_bytes // (1024 * 1024)} MiB")
    return data


def decode_utf8(data: bytes) -> str:
    """``data`` as UTF-8 text; UTF-16/32 and stray NUL bytes are refused by name."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("is UTF-16 (it starts with a UTF-16 byte-order mark); use UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"is not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise DocumentError("holds NUL characters (UTF-16 or binary?); use UTF-8 text")
    return text


class _Object(dict[str, Any]):
    """A JSON object read with a repeated key (the repeats in ``duplicates``)."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    repeats: list[str] = []
    for k, v in pairs:
        if k in out:
            repeats.append(k)
        out[k] = v
    if repeats:
        obj = _Object(out)
        obj.duplicates = repeats
        return obj
    return out


def _loc(path: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in path)


def _find_duplicates(doc: Any, prefix: tuple[object, ...]) -> list[DocumentError]:
    """Every repeated key, located (an iterative walk: no recursion limit to meet)."""
    out: list[DocumentError] = []
    stack: list[tuple[Any, tuple[object, ...]]] = [(doc, prefix)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if isinstance(node, _Object):
                for key in dict.fromkeys(node.duplicates):
                    out.append(
                        DocumentError(
                            "duplicate key (each key may appear once)", _loc((*path, key))
                        )
                    )
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    out.sort(key=lambda e: e.location)
    return out


def loads_json(text: str, prefix: tuple[object, ...] = ()) -> Any:
    """JSON with numbers as :class:`NumberToken` (short integers as ``int``); duplicate
    keys refused with their location (``prefix`` starts each location).

    Raises
    ------
    DocumentError
        Not JSON (with line and column) or nested too deeply.
    DuplicateKeys
        Repeated keys, each located in ``errors``.
    """
    seen_repeat = False

    def pairs(p: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal seen_repeat
        obj = _pairs(p)
        seen_repeat = seen_repeat or isinstance(obj, _Object)
        return obj

    try:
        doc = json.loads(
            text,
            parse_float=NumberToken,
            parse_int=json_int_token,
            parse_constant=NumberToken,
            object_pairs_hook=pairs,
        )
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise DocumentError("not valid JSON here: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise DocumentError(f"not valid JSON: {exc}") from None
    if seen_repeat:
        errors = _find_duplicates(doc, prefix)
        raise DuplicateKeys(errors)
    return doc


class DuplicateKeys(DocumentError):
    """One or more repeated keys; ``errors`` holds each, located."""

    def __init__(self, errors: list[DocumentError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, first.location)


def loads_toml(text: str) -> Any:
    """TOML with floats as :class:`NumberToken` (TOML itself refuses repeated keys)."""
    try:
        return tomllib.loads(text, parse_float=toml_float_token)
    except tomllib.TOMLDecodeError as exc:
        raise DocumentError(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise DocumentError("not valid TOML here: nested too deeply") from None
    except (ValueError, TypeError) as exc:  # e.g. an integer longer than Python converts
        raise DocumentError(f"not valid TOML: {exc}") from None


def max_depth(doc: Any, limit: int) -> int:
    """The nesting depth of ``doc`` (arrays and objects), counting no further than
    ``limit + 1`` (an iterative walk)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, depth + 1) for c in children)
    return deepest


def read_document(path: Path, max_bytes: int = MAX_MARKET_FILE_BYTES) -> Any:
    """A TOML (``.toml``) or JSON (any other suffix) input file, read as market files are:
    a regular file of at most ``max_bytes``, UTF-8, numbers as tokens, repeated keys
    refused. Every failure is a :class:`DocumentError` (``DuplicateKeys`` lists them all).

    For the other input files (scenarios, entities); market files add their own checks.
    """
    text = decode_utf8(read_regular_file(path, max_bytes))
    return loads_toml(text) if path.suffix.lower() == ".toml" else loads_json(text)
