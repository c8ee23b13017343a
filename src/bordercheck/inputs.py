"""The base of every model a caller fills in (an API body, a scenario file): its text is text.

PostgreSQL cannot hold the NUL character in text, and no field of ours has a use for it: a
string carrying one is refused where it enters, naming its field (422), on every database
alike, rather than failing at the database (500) or being stored on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, field_validator

NUL = "\x00"


def _nul_at(value: Any) -> str | None:
    """Where in ``value`` a string holds NUL: "" for the string itself, "1" or "1.name" for
    an item of a list or dict; None when none does."""
    if isinstance(value, str):
        return "" if NUL in value else None
    if isinstance(value, list | tuple | set | frozenset):
        items: Iterable[tuple[Any, Any]] = enumerate(value)
    elif isinstance(value, dict):
        items = value.items()
    else:
        return None  # numbers, dates, and nested models (which check their own fields)
    for key, item in items:
        if isinstance(key, str) and NUL in key:
            return key.replace(NUL, "\\0")
        if (inner := _nul_at(item)) is not None:
            return f"{key}.{inner}" if inner else str(key)
    return None


class Input(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if (where := _nul_at(value)) is not None:
            at = f" (item {where})" if where else ""
            raise ValueError(f"must not contain the NUL character (U+0000){at}")
        return value
