"""Dates in passenger lists: a two-digit year is placed as seen on the day it is read."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bordercheck.manifests.codes import parse_date


def test_a_two_digit_birth_year_is_placed_on_the_day_it_is_read() -> None:
    # Born on 7 December '26: tomorrow's date a century ago, or yesterday's this century.
    assert parse_date("261207", past=True, today=date(2026, 12, 6)) == date(1926, 12, 7)
    assert parse_date("261207", past=True, today=date(2026, 12, 8)) == date(2026, 12, 7)


def test_by_default_the_day_is_today_not_the_day_the_process_started() -> None:
    today = datetime.now(UTC).date()
    born = today.replace(year=today.year - 30) if today.month != 2 or today.day != 29 else today
    assert parse_date(f"{born:%y%m%d}", past=True) == born


def test_an_expiry_is_placed_in_the_coming_half_century() -> None:
    today = date(2026, 12, 6)
    assert parse_date("360101", past=False, today=today) == date(2036, 1, 1)
    assert parse_date("800101", past=False, today=today) == date(1980, 1, 1)
