"""The change-point test: finds a clear move to another route, and rarely cries wolf."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bordercheck.analysis.shifts import detect_shifts

DAY0 = date(2026, 1, 5)


def _days(n: int) -> list[date]:
    return [DAY0 + timedelta(days=5 * i) for i in range(n)]


def test_a_move_to_another_route_is_found_at_the_first_trip_on_it() -> None:
    routes = ["A → T → D"] * 9 + ["A → U → D"] * 8
    shifts = detect_shifts(_days(17), routes, seed=1)
    assert len(shifts) == 1
    shift = shifts[0]
    assert shift.at == 9
    assert shift.detected_on == _days(17)[9]
    assert shift.before == [("A → T → D", 9)]
    assert shift.after == [("A → U → D", 8)]
    assert shift.p_value <= 0.01


def test_a_one_off_detour_is_no_shift() -> None:
    routes = ["A → T → D"] * 8 + ["B → T → D"] + ["A → T → D"] * 8
    assert detect_shifts(_days(17), routes, seed=1) == []


def test_too_few_trips_to_tell() -> None:
    assert detect_shifts(_days(5), ["A", "A", "B", "B", "B"], seed=1) == []


def test_a_shift_out_of_a_mix_of_routes_is_found() -> None:
    rng = random.Random(3)
    before = [rng.choice(["A → T → D", "A → T → E"]) for _ in range(14)]
    routes = before + ["A → U → D"] * 10
    shifts = detect_shifts(_days(24), routes, seed=2)
    assert [s.at for s in shifts] == [14]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=6, max_value=40))
def test_trips_drawn_from_one_mix_throughout_rarely_shift(seed: int, n: int) -> None:
    # With no change, a shift is claimed at most at the test's level (1 %): over hypothesis'
    # draws, a claim must at least have its most used route differ, and come with p ≤ 1 %.
    rng = random.Random(seed)
    routes = [rng.choice(["A → T → D", "A → T → D", "A → U → D"]) for _ in range(n)]
    for shift in detect_shifts(_days(n), routes, seed=seed):
        assert shift.p_value <= 0.01
        assert shift.before[0][0] != shift.after[0][0]


def test_false_alarms_in_stationary_trips_stay_near_the_level() -> None:
    rng = random.Random(11)
    alarms = 0
    for trial in range(200):
        n = rng.randrange(8, 40)
        routes = [rng.choice(["A → T → D", "A → T → D", "A → U → D"]) for _ in range(n)]
        alarms += bool(detect_shifts(_days(n), routes, seed=trial))
    assert alarms <= 6  # 200 networks' worth of trips with no shift: about 1 % claim one
