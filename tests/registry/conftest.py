"""The API on a database of each test's own, and the two bureaus' officers most tests use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bordercheck.auth.models import Role
from tests.signin import Api, open_api


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url) as api:
        yield api


@pytest.fixture
def deu(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")


@pytest.fixture
def fra(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "FRA", name="officer.fra")
