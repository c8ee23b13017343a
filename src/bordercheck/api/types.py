"""Types the API's request and response models share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

from bordercheck.timestamps import as_utc

# A moment a caller sends without a zone is taken to be in UTC; the API answers in UTC.
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
