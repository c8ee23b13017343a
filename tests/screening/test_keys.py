"""The keyed hashes: the vectorised and scalar paths agree, and the key changes everything."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bordercheck.screening.base import encode
from bordercheck.screening.confusions import DEFAULT_CONFUSIONS, Confusions
from bordercheck.screening.keys import MASK, KeyScheme, country_code, country_codes

from .conftest import KEY

numbers = st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=24)
countries = st.sampled_from(["DEU", "FRA", "XXA", "GBR"])


@given(st.lists(st.tuples(numbers, countries), min_size=1, max_size=20))
def test_the_scalar_and_vectorised_hashes_agree(pairs: list[tuple[str, str]]) -> None:
    scheme = KeyScheme(KEY)
    matrix = encode([n for n, _ in pairs])
    codes = country_codes([c for _, c in pairs])
    skeletons = scheme.skeleton_keys(matrix, codes)
    sums = scheme.fingerprint_sums(matrix, skeletons)
    groups = scheme.range_group_keys(matrix, codes)
    for i, (number, country) in enumerate(pairs):
        data = number.encode()
        assert scheme.skeleton_key(data, country_code(country)) == int(skeletons[i])
        assert scheme.fingerprint_sum(data, int(skeletons[i])) == int(sums[i])
        assert scheme.range_group_key(data, country_code(country)) == int(groups[i])


@given(numbers, st.data())
def test_a_fingerprint_moves_by_the_delta_of_each_changed_character(
    number: str, data: st.DataObject
) -> None:
    scheme = KeyScheme(KEY)
    position = data.draw(st.integers(0, len(number) - 1))
    new = data.draw(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    changed = number[:position] + new + number[position + 1 :]
    key = 12345
    expected = (
        scheme.fingerprint_sum(number.encode(), key) + scheme.delta(position, number[position], new)
    ) & MASK
    assert scheme.fingerprint_sum(changed.encode(), key) == expected


@given(numbers, countries, st.data())
def test_a_skeleton_key_is_the_finaliser_of_a_sum_that_moves_by_each_character_s_delta(
    number: str, country: str, data: st.DataObject
) -> None:
    scheme = KeyScheme(KEY)
    position = data.draw(st.integers(0, len(number) - 1))
    new = data.draw(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    changed = number[:position] + new + number[position + 1 :]
    code = country_code(country)
    total = scheme.skeleton_sum(number.encode(), code)
    delta = ((ord(new) - ord(number[position])) * scheme.skeleton_weights[position]) & MASK
    assert scheme.skeleton_sum(changed.encode(), code) == (total + delta) & MASK
    assert scheme.skeleton_key(changed.encode(), code) == scheme.skeleton_key_of(
        (total + delta) & MASK
    )
    sums = np.array([total, (total + delta) & MASK], np.uint64)
    assert scheme.skeleton_sums_of(scheme.skeleton_keys_of(sums)).tolist() == sums.tolist()
    assert scheme.skeleton_keys_of(sums).tolist() == [
        scheme.skeleton_key_of(total),
        scheme.skeleton_key(changed.encode(), code),
    ]


def test_another_key_gives_other_hashes_and_fingerprint() -> None:
    one, other = KeyScheme(KEY), KeyScheme(KEY[::-1])
    data = b"C01X00T47"
    assert one.skeleton_key(data, country_code("DEU")) != other.skeleton_key(
        data, country_code("DEU")
    )
    assert one.fingerprint != other.fingerprint
    assert KeyScheme(KEY).fingerprint == one.fingerprint


def test_hashes_of_neighbouring_numbers_spread_over_the_top_bits() -> None:
    scheme = KeyScheme(KEY)
    matrix = encode([f"{i:09d}" for i in range(4096)])
    keys = scheme.skeleton_keys(matrix, np.full(4096, country_code("GBR"), np.uint32))
    top = keys >> np.uint64(56)
    assert len(np.unique(top)) > 240  # of 256 buckets: consecutive numbers do not cluster


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        KeyScheme(b"short")


def test_a_blind_pair_inside_a_look_alike_class_is_refused() -> None:
    with pytest.raises(ValueError, match="look-alikes already join 0 and Q"):
        Confusions([("0", "O"), ("O", "Q")], [("0", "Q")])
    assert Confusions([("0", "O")], [("0", "A")]).blind == (("0", "A"),)


def test_the_skeleton_joins_exactly_the_confusable_characters() -> None:
    skeleton = DEFAULT_CONFUSIONS.skeleton
    assert skeleton("O0QD") == skeleton("0000")
    assert skeleton("IL1") == "111"
    assert skeleton("G6") == "66"
    assert skeleton("0123456789") == "0123456789"  # digits never merge with one another
    assert skeleton("C") != skeleton("G")


@pytest.mark.parametrize("positions", [(7, 15), (3, 7), (3, 11, 19), (0, 23)])
def test_fingerprints_tell_apart_numbers_of_one_skeleton_whatever_the_key(
    positions: tuple[int, ...],
) -> None:
    # Numbers sharing a skeleton differ only in confusable characters; the fingerprint must
    # tell them apart for every key, also where a lane's top byte weighs least.
    plain = "C" * 24
    read = "".join("O" if i in positions else c for i, c in enumerate(plain))
    recorded = "".join("0" if i in positions else c for i, c in enumerate(plain))
    for i in range(400):
        scheme = KeyScheme(KEY + i.to_bytes(2, "big"))
        key = scheme.skeleton_key(DEFAULT_CONFUSIONS.skeleton(read).encode(), country_code("DEU"))
        one = scheme.fingerprint_sum(read.encode(), key) >> 32
        other = scheme.fingerprint_sum(recorded.encode(), key) >> 32
        assert one != other
