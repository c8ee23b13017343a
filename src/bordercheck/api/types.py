"""Types the API's request and response models share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back the naive UTC it stored; the API always says which zone it means."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

# Every integer a caller sends is bounded where it enters: one the database cannot hold is
# a bad request naming the field (422), not a database error (500). Ids and versions are
# 32-bit in every table; sequence numbers (changes feed, audit chain) are 64-bit.
MAX_ID = 2**31 - 1
MAX_SEQUENCE = 2**62

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="The record's id.")]
# An id in a body (a list of notifications, the message read up to…).
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
# The version of a record you read, sent back with a change.
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="The version you read.")]
# "Older than this id", for paging newest first.
BeforeId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Older than this id.")]
# A position in a sequence (changes feed, audit chain): 0 is "from the start".
SequenceNumber = Annotated[int, Query(ge=0, le=MAX_SEQUENCE)]
