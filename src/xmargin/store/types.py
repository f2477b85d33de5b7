"""Column types that keep the contract's exact decimals exact in every database.

PostgreSQL stores :class:`ExactDecimal` as ``NUMERIC`` with no precision limit (psycopg
hands it back as a :class:`~decimal.Decimal`); SQLite, which has no exact decimal type,
stores it as ``TEXT`` written by :func:`xmargin.mathlib.fmt`. No value ever passes through
a float. :class:`DecimalJSON` is JSON text whose numbers are decimal strings.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, String, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator, TypeEngine

from xmargin.mathlib import fmt
from xmargin.model.numbers import NumberToken

__all__ = ["DecimalJSON", "ExactDecimal", "dumps", "loads", "to_jsonable"]


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal: ``NUMERIC`` on PostgreSQL, canonical decimal text elsewhere."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.NUMERIC(asdecimal=True))
        return dialect.type_descriptor(String(80))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal takes a Decimal, not {type(value).__name__}")
        if dialect.name == "postgresql":
            return value
        return fmt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, str | int):
            return Decimal(value)
        raise TypeError(f"ExactDecimal read a {type(value).__name__} from the database")


def to_jsonable(value: Any) -> Any:
    """``value`` with every Decimal written as the contract writes it (a string)."""
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, NumberToken):  # a number as a request wrote it
        return value.text
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Compact JSON text with decimals as strings."""
    return json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def loads(text: str) -> Any:
    """JSON text read back; any bare number comes back as an exact Decimal."""
    return json.loads(text, parse_float=Decimal)


class DecimalJSON(TypeDecorator[Any]):
    """A JSON document stored as text, decimals as strings (never floats)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else loads(value)
