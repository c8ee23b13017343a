"""Many queries encoded at once read every number and country as one query alone would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bordercheck.screening.keys import country_code, country_text
from bordercheck.screening.query import (
    Columns,
    InvalidQuery,
    Query,
    encode_columns,
    prepare,
)

# Characters of numbers as they arrive: most fine, some to normalise, some to refuse.
RAW = st.text("0123456789ABCXYZabcxyz -/<\0\u00e9\u0130", max_size=27)
COUNTRIES = st.sampled_from(
    ["DEU", "FRA", "deu", "D", "D<<", "FR", "GBR", " fra ", "XXA", "AAA", "DEUX", "ÄÄÄ", "ZZZ"]
)


def one_by_one(queries: list[Query]) -> tuple[list[str], list[str]] | int:
    """Each query prepared alone, or the position of the first that cannot be read."""
    prepared = []
    for i, query in enumerate(queries):
        try:
            prepared.append(prepare(query, i))
        except InvalidQuery:
            return i
    return [p.number for p in prepared], [p.country for p in prepared]


@given(st.lists(st.tuples(RAW, COUNTRIES), min_size=1, max_size=12))
def test_a_batch_is_encoded_as_each_query_alone_is_prepared(
    pairs: list[tuple[str, str]],
) -> None:
    queries = [Query(number, country) for number, country in pairs]
    expected = one_by_one(queries)
    if isinstance(expected, int):
        with pytest.raises(InvalidQuery) as refused:
            encode_columns(Columns.of(queries))
        assert refused.value.detail["position"] == expected
        return
    matrix, lengths, codes = encode_columns(Columns.of(queries))
    numbers, countries = expected
    assert [bytes(row).rstrip(b"\0").decode() for row in matrix] == numbers
    assert lengths.tolist() == [len(n) for n in numbers]
    assert [country_text(int(c)) for c in codes] == countries


@pytest.mark.parametrize(
    ("number", "country", "says"),
    [
        ("A" * 25, "DEU", "document 1"),
        ("AB\0CD", "DEU", "document 1"),
        ("ABC", "QQQ", "document 1"),
        ("ABC", "", "document 1"),
        (None, "DEU", "document 1"),
        (123456, "DEU", "document 1"),
    ],
)
def test_a_batch_names_the_document_it_cannot_read(number: object, country: str, says: str) -> None:
    queries = [Query("C01X00T47", "DEU"), Query(number, country)]  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match=says):
        encode_columns(Columns.of(queries))
    assert country_code("DEU") == encode_columns(Columns.of(queries[:1]))[2][0]
