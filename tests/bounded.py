"""A time limit for one call in a test: a reader that hangs fails the test instead of CI."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class TooSlow(AssertionError):
    pass


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM: the test's own thread, POSIX only)."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise TooSlow(f"{what} took more than {seconds:.2f} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded(call: Callable[[], T], size: int, what: str, *, base: float = 1.0,
            per_mib: float = 4.0) -> T:  # fmt: skip
    """``call()`` within a budget linear in ``size`` (bytes): ``base`` + ``per_mib`` per MiB.

    Generous, so that a shared machine does not fail it; a reader that is quadratic on an
    input of a few hundred kilobytes, or loops, still does.
    """
    budget = base + per_mib * size / (1 << 20)
    started = time.monotonic()
    with time_limit(budget, what):
        result = call()
    assert time.monotonic() - started <= budget
    return result
