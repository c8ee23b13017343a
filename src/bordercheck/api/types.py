"""Types the API's request and response models share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

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


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` header saving the answer as ``filename``, whatever characters
    it holds: the name percent-encoded (RFC 6266), and a plain-ASCII name beside it for old
    clients. Nothing of the name can end the header or add a parameter to it."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename)
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{plain or 'download'}\"; filename*=UTF-8''{encoded}"
