"""The shared rate limit: processes on one database lease slices of each caller's budget, so
together they accept at most the limit plus one slice each, and no request but the one that
spends a slice's last request waits for the database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bordercheck.api.limits import SharedRateLimiter, default_slice
from bordercheck.auth.models import RateBudget
from bordercheck.db import Database
from bordercheck.errors import TooManyRequests
from tests.factories import keyed_database


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def accepted(limiter: SharedRateLimiter, key: str, tries: int) -> int:
    count = 0
    for _ in range(tries):
        try:
            limiter.take(key)
        except TooManyRequests:
            continue
        count += 1
    return count


@pytest.fixture
def database(fresh_url: str) -> Database:
    db = keyed_database(fresh_url)
    yield db  # type: ignore[misc]
    db.dispose()


def test_processes_share_one_budget_within_a_slice_each(database: Database) -> None:
    clock = Clock()
    nodes = [
        SharedRateLimiter(1.0, 30, database, slice_size=4, clock=clock, wall_clock=clock)
        for _ in range(3)
    ]
    # Nothing refills (the clock stands still): the three together get the burst, not 3×.
    total = sum(accepted(node, "client:a", 40) for node in nodes)
    assert total == 30
    # Leases, not a query per request: one per slice, and one refused ask per node (then it
    # refuses by itself until the budget may have refilled).
    assert sum(node.leases for node in nodes) == 30 // 4 + 1 + 3
    # Another caller has a budget of its own.
    assert accepted(nodes[0], "client:b", 5) == 5
    with database.session() as session:
        left = session.scalar(select(RateBudget.tokens).where(RateBudget.subject == "client:a"))
    assert left is not None
    assert left < 1


def test_the_budget_refills_at_the_rate_and_the_refusal_says_when(database: Database) -> None:
    clock = Clock()
    node = SharedRateLimiter(2.0, 4, database, slice_size=2, clock=clock, wall_clock=clock)
    assert accepted(node, "user:1", 4) == 4
    with pytest.raises(TooManyRequests) as refused:
        node.take("user:1")
    assert refused.value.detail["retry_after"] == 1
    clock.now += 1.0  # two more
    assert accepted(node, "user:1", 5) == 2
    clock.now += 100.0  # full again, never past the burst
    assert accepted(node, "user:1", 10) == 4


def test_a_clock_behind_takes_nothing_back(database: Database) -> None:
    ahead, behind = Clock(), Clock()
    behind.now -= 5.0
    first = SharedRateLimiter(1.0, 2, database, slice_size=1, clock=ahead, wall_clock=ahead)
    second = SharedRateLimiter(1.0, 2, database, slice_size=1, clock=behind, wall_clock=behind)
    assert accepted(first, "user:2", 1) == 1
    assert accepted(second, "user:2", 3) == 1  # no negative refill, no extra one either


def test_concurrent_leases_never_overspend(database: Database) -> None:
    clock = Clock()
    nodes = [
        SharedRateLimiter(1.0, 50, database, slice_size=3, clock=clock, wall_clock=clock)
        for _ in range(2)
    ]
    counts: list[int] = []
    lock = threading.Lock()

    def hammer(node: SharedRateLimiter) -> None:
        got = accepted(node, "client:c", 40)
        with lock:
            counts.append(got)

    threads = [threading.Thread(target=hammer, args=(nodes[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 50


def test_without_the_database_each_process_limits_on_its_own(tmp_path: object) -> None:
    clock = Clock()
    gone = Database("postgresql://nobody@127.0.0.1:1/none")
    node = SharedRateLimiter(1.0, 3, gone, slice_size=1, clock=clock, wall_clock=clock)
    assert accepted(node, "user:3", 5) == 3  # the per-process bucket, not a 500
    gone.dispose()


def test_the_default_slice_is_a_tenth_of_a_second() -> None:
    assert default_slice(100, 200) == 10
    assert default_slice(5, 20) == 1
    assert default_slice(1000, 10) == 5
