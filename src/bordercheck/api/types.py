"""Types the API's request and response models share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back the naive UTC it stored; the API always says which zone it means."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

# Ids are 32-bit in every table: a larger one is a bad request, not a database error.
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The record's id.")]
