"""Small indexes built from a handful of entries, with one secret key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bordercheck.screening.index import IndexEntry, ScreeningIndex

KEY = b"screening-test-key-0123456789abcdef"

Build = Callable[..., ScreeningIndex]


def entry(record_id: int, number: str, country: str = "DEU", **fields: Any) -> IndexEntry:
    values: dict[str, Any] = {"document_type": "passport", "status": "stolen", **fields}
    return IndexEntry(record_id=record_id, number=number, country=country, **values)


@pytest.fixture
def build() -> Build:
    def make(*entries: IndexEntry, sequence: int = 0) -> ScreeningIndex:
        return ScreeningIndex.build(entries, key=KEY, sequence=sequence)

    return make
