"""Limits: a body too large gets 413 before it is read; a caller too fast gets 429."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bordercheck.api.limits import RateLimiter
from bordercheck.auth.models import Role
from bordercheck.errors import TooManyRequests
from tests.signin import open_api

RECORDS = "/api/v1/records"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_body_over_the_limit_gets_413(fresh_url: str) -> None:
    with open_api(fresh_url, max_body_bytes=2048) as api:
        headers = api.bearer(Role.BUREAU_OFFICER, "DEU")
        big = {"records": [{"document_number": "C" + "0" * 20}] * 100}
        response = api.client.post(f"{RECORDS}/bulk", headers=headers, json=big)
        assert response.status_code == 413
        assert response.json()["error"] == "too_large"
        assert "2,048 bytes" in response.json()["message"]
        # Under the limit, the same endpoint answers.
        small = api.client.post(f"{RECORDS}/bulk", headers=headers, json={"records": [{}]})
        assert small.status_code == 422


def test_a_chunked_body_over_the_limit_gets_413_and_one_under_it_gets_through(
    fresh_url: str,
) -> None:
    def chunks(count: int) -> Iterator[bytes]:
        yield b'{"records": ['
        yield b",".join([b'{"document_number": "C0000001"}'] * count)
        yield b"]}"

    with open_api(fresh_url, max_body_bytes=2048) as api:
        headers = {**api.bearer(Role.BUREAU_OFFICER, "DEU"), "Content-Type": "application/json"}
        big = api.client.post(f"{RECORDS}/bulk", headers=headers, content=chunks(100))
        assert big.status_code == 413
        small = api.client.post(f"{RECORDS}/bulk", headers=headers, content=chunks(2))
        assert small.status_code == 422  # read whole: the items lack fields
        assert small.json()["errors"][0]["field"] == "records.0.issuing_country"


def test_a_caller_past_the_burst_gets_429_with_retry_after(fresh_url: str) -> None:
    # A rate so slow that nothing refills while the test runs.
    with open_api(fresh_url, rate_limit_per_second=0.01, rate_limit_burst=3) as api:
        officer = api.bearer(Role.BUREAU_OFFICER, "DEU", name="quick")
        answers = [api.client.get(f"{RECORDS}/1", headers=officer) for _ in range(4)]
        assert [a.status_code for a in answers] == [404, 404, 404, 429]
        refused = answers[-1]
        assert refused.json()["error"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # Another caller has an allowance of its own.
        other = api.bearer(Role.BUREAU_OFFICER, "DEU", name="patient")
        assert api.client.get(f"{RECORDS}/1", headers=other).status_code == 404


def test_a_bucket_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=2, burst=2, clock=clock)
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("a")
    assert refused.value.detail["retry_after"] == 1
    clock.now += 0.5
    limiter.take("a")
    with pytest.raises(TooManyRequests):
        limiter.take("a")
    clock.now += 10  # a long pause refills the burst, no more
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(TooManyRequests):
        limiter.take("a")


def test_a_rate_of_zero_means_no_limit() -> None:
    limiter = RateLimiter(per_second=0, burst=1)
    for _ in range(100):
        limiter.take("a")
