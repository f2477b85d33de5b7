"""pydantic's validation errors as located problems, and changed parameters validated again.

The one boundary where a :class:`pydantic.ValidationError` becomes the engine's
:class:`~xmargin.errors.Problem` list: market files, scenario files, the service's asset
updates and the analyses that try other parameters all report the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from xmargin.errors import MarketFileError, Problem

__all__ = ["revalidated", "translate_validation_error"]

M = TypeVar("M", bound=BaseModel)


def _loc(*parts: object) -> str:
    return ".".join(str(p) for p in parts if p != "")


def translate_validation_error(exc: ValidationError, prefix: str) -> list[Problem]:
    """pydantic errors as located problems; ``@field:`` messages point at that field."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = _loc(prefix, *err["loc"])
        kind = err["type"]
        msg = str(err["msg"])
        if kind == "missing":
            msg = "required"
        elif kind == "extra_forbidden":
            msg = "unknown key"
        msg = msg.removeprefix("Value error, ")
        if msg.startswith("@"):
            for line in msg.split("\n"):
                field, _, text = line[1:].partition(": ")
                out.append(Problem(_loc(loc, field), text))
        else:
            out.append(Problem(loc, msg))
    return out


def revalidated(model: M, update: Mapping[str, object], where: str, source: str) -> M:
    """``model`` with the fields of ``update`` replaced, validated again as a whole
    (``model_copy(update=...)`` would skip the cross-field rules).

    Raises
    ------
    MarketFileError
        Every problem, located under ``where`` (``assets.WETH``), from ``source``.
    """
    try:
        return type(model).model_validate({**model.model_dump(), **update})
    except ValidationError as exc:
        raise MarketFileError(source, translate_validation_error(exc, where)) from None
