"""The index over time: live changes, compaction, snapshots, and files it must refuse."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bordercheck.documents.ocr import CONFUSABLE_PAIRS
from bordercheck.screening.confusions import Confusions
from bordercheck.screening.index import IndexChange, IndexEntry, ScreeningIndex
from bordercheck.screening.matcher import MatchPolicy, Query, screen, screen_batch
from bordercheck.screening.records import DOCUMENT_TYPES, STATUSES, Found
from bordercheck.screening.snapshot import SnapshotError
from bordercheck.screening.view import IndexView

from .conftest import KEY, Build, entry


def ids(index: ScreeningIndex, number: str, country: str = "DEU") -> list[tuple[int, str]]:
    return [(m.record_id, m.match) for m in screen(index, Query(number, country)).matches]


def upsert(e: IndexEntry) -> IndexChange:
    return IndexChange.upsert(e)


def test_changes_add_remove_and_update_records(build: Build) -> None:
    index = build(entry(1, "AA111111"), entry(2, "BB222222"), sequence=10)
    index.apply(
        [
            upsert(entry(3, "CC333333")),
            IndexChange.removal(1),
            upsert(entry(2, "BB222222", status="revoked")),
        ],
        sequence=13,
    )
    assert index.sequence == 13
    assert index.size == 2
    assert index.overlay_size == 3
    assert ids(index, "AA111111") == []
    assert ids(index, "CC333333") == [(3, "exact")]
    (match,) = screen(index, Query("BB222222", "DEU")).matches
    assert (match.record_id, match.status) == (2, "revoked")


def test_a_view_replaced_by_a_change_goes_without_the_garbage_collector(build: Build) -> None:
    """A server applies a change about every second while records change; each view it
    replaces holds a copy of the overlay. The collector's full collections run seldom under
    load, so a view must be freed by reference counting, not be left in a cycle."""
    index = build(entry(1, "AA111111"), entry(2, "BB222222"))
    index.apply([upsert(entry(3, "CC333333"))], sequence=1)
    old = index.view()
    # Both look-ups and the batch pass made, as a serving view has them.
    assert ids(index, "CC333333") == [(3, "exact")]
    assert len(screen_batch(index, [Query("AA111111", "DEU")], MatchPolicy())) == 1
    gone = weakref.ref(old)
    del old
    gc.disable()
    try:
        index.apply([upsert(entry(4, "DD444444"))], sequence=2)
        assert gone() is None
    finally:
        gc.enable()
    assert ids(index, "DD444444") == [(4, "exact")]


def test_a_record_whose_number_changed_is_found_once_under_the_new_one(build: Build) -> None:
    index = build(entry(1, "AA111111"))
    index.apply([upsert(entry(1, "AA111112"))], sequence=1)
    index.apply(
        [upsert(entry(1, "AA111113")), upsert(entry(1, "AA111114", country="FRA"))], sequence=3
    )
    assert index.size == 1
    for number in ("AA111111", "AA111112", "AA111113", "AA111114"):
        assert ids(index, number) == []
    assert ids(index, "AA111114", "FRA") == [(1, "exact")]
    index.compact()
    assert index.overlay_size == 0
    assert index.size == 1
    assert ids(index, "AA111111") == []
    assert ids(index, "AA111114", "FRA") == [(1, "exact")]


def test_variants_and_ranges_are_found_in_the_overlay_too(build: Build) -> None:
    index = build(entry(1, "X0000100", serial_end="X0000199"))
    index.apply(
        [
            upsert(entry(2, "C01X00T47")),
            IndexChange.removal(1),
            upsert(entry(3, "Y0000100", serial_end="Y0000199")),
        ],
        sequence=1,
    )
    assert ids(index, "CO1X00T47") == [(2, "ocr_variant")]
    assert ids(index, "X0000150") == []
    assert ids(index, "Y0000150") == [(3, "range")]
    assert ids(index, "Y00001S0") == [(3, "ocr_variant")]
    queries = [Query(n, "DEU") for n in ("CO1X00T47", "X0000150", "Y0000150", "Q0000150")]
    assert screen_batch(index, queries) == [screen(index, q) for q in queries]
    index.compact()
    assert screen_batch(index, queries) == [screen(index, q) for q in queries]
    assert ids(index, "Y0000150") == [(3, "range")]


def test_compaction_keeps_every_answer(build: Build) -> None:
    entries = [entry(i, f"P{i:07d}") for i in range(1, 200)]
    index = build(*entries)
    index.apply([upsert(entry(i, f"Q{i:07d}")) for i in range(1, 200, 3)], sequence=5)
    index.apply([IndexChange.removal(i) for i in range(2, 200, 5)], sequence=6)
    index.apply(
        [upsert(entry(500 + i, f"P{i:07d}", document_type="visa")) for i in range(0, 50)],
        sequence=7,
    )
    queries = [Query(f"{p}{i:07d}", "DEU") for p in "PQ" for i in range(0, 210)]
    before = screen_batch(index, queries)
    assert before == [screen(index, q) for q in queries]
    size = index.size
    index.compact()
    assert index.size == size
    assert screen_batch(index, queries) == before


def test_a_snapshot_round_trips(build: Build, tmp_path: Path) -> None:
    index = build(
        entry(1, "C01X00T47", restricted=True),
        entry(2, "X0001200", "FRA", serial_end="X0001699", blank=True),
        sequence=41,
    )
    index.apply([upsert(entry(3, "123456789", "GBR", document_type="identity_card"))], sequence=42)
    path = tmp_path / "index.snapshot"
    index.save(path)
    loaded = ScreeningIndex.load(path, key=KEY)
    assert (loaded.sequence, loaded.size) == (42, 3)
    queries = [Query("C01X00T47", "DEU"), Query("X0001450", "FRA"), Query("I23456789", "GBR")]
    assert [screen(loaded, q) for q in queries] == [screen(index, q) for q in queries]
    assert [s.result for s in screen_batch(loaded, queries)] == ["hit", "hit", "possible_hit"]
    loaded.apply([IndexChange.removal(1)], sequence=43)  # a mapped, read-only base still updates
    assert ids(loaded, "C01X00T47") == []


def test_a_snapshot_built_with_another_key_is_refused(build: Build, tmp_path: Path) -> None:
    path = tmp_path / "index.snapshot"
    build(entry(1, "AA111111")).save(path)
    with pytest.raises(SnapshotError, match="another screening key"):
        ScreeningIndex.load(path, key=KEY[::-1])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "truncated"),
        (lambda data: data[:10], "too short"),
        (lambda data: b"NOTASNAP" + data[8:], "not a screening snapshot"),
        (
            lambda data: data[:40] + bytes([data[40] ^ 1]) + data[41:],
            "header is truncated or corrupt",
        ),
        # 16 KiB of header, then the first array (the skeleton keys)
        (
            lambda data: data[:16400] + bytes([data[16400] ^ 0xFF]) + data[16401:],
            "fails its checksum",
        ),
    ],
)
def test_a_damaged_snapshot_is_refused(
    build: Build, tmp_path: Path, damage: Callable[[bytes], bytes], message: str
) -> None:
    path = tmp_path / "index.snapshot"
    build(*(entry(i, f"P{i:07d}") for i in range(1, 3000))).save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SnapshotError, match=message):
        ScreeningIndex.load(path, key=KEY)


def test_building_from_columns_refuses_numbers_that_are_not_normalised() -> None:
    def columns(numbers: list[bytes]) -> ScreeningIndex:
        n = len(numbers)
        passport, stolen = DOCUMENT_TYPES.index("passport"), STATUSES.index("stolen")
        return ScreeningIndex.from_columns(
            np.arange(1, n + 1, dtype=np.uint32),
            np.array(numbers, "S24"),
            np.array(["DEU"] * n, "S3"),
            np.full(n, passport, np.uint8),
            np.full(n, stolen, np.uint8),
            np.zeros(n, bool),
            np.zeros(n, bool),
            key=KEY,
        )

    assert columns([b"AB12", b"CD34"]).size == 2
    for bad in (b"ab12", b"AB-12", b""):
        with pytest.raises(ValueError, match="not a normalised document number"):
            columns([b"AB12", bad])


def test_an_entry_must_be_consistent(build: Build) -> None:
    with pytest.raises(ValueError, match="not a serial range"):
        build(entry(1, "X0001200", serial_end="Y0001300"))
    with pytest.raises(ValueError, match="family"):
        build(entry(1, "X0001200", family="visa"))
    with pytest.raises(ValueError, match="occurs twice"):
        build(entry(1, "X0001200"), entry(1, "X0001201"))


def test_lookups_see_a_whole_state_while_changes_are_applied(build: Build) -> None:
    # Each change swaps two records' numbers: a lookup between the two halves would see
    # one number twice or not at all. Views are swapped whole, so every batch sees two.
    index = build(entry(1, "AA000001"), entry(2, "AA000002"))
    queries = [Query("AA000001", "DEU"), Query("AA000002", "DEU")]
    done = threading.Event()

    def writer() -> None:
        for sequence in range(1, 300):
            a, b = ("AA000002", "AA000001") if sequence % 2 else ("AA000001", "AA000002")
            index.apply([upsert(entry(1, a)), upsert(entry(2, b))], sequence=sequence)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen = 0
    while thread.is_alive() or seen == 0:
        answers = screen_batch(index, queries, MatchPolicy(substitutions_up_to=0))
        found = sorted(m.record_id for s in answers for m in s.matches)
        assert found == [1, 2]
        seen += 1
    thread.join()
    assert done.is_set(), "the writer failed"  # its traceback is pytest's warning


def test_rows_become_records_through_the_row_reader_hook(build: Build) -> None:
    index = build(entry(1, "C01X00T47"), entry(2, "X1234567"))
    view = index.view()
    asked: list[tuple[int, str]] = []

    def read_row(row: int, number: str) -> Found:
        asked.append((row, number))
        return view.read_row(row, number)._replace(restricted=True)

    hooked = IndexView(view.base, view.ranges, view.overlay, view.scheme, view.confusions,
                       view.sequence, read_row=read_row)  # fmt: skip
    # Given the number the look-up resolved: the one asked, or the variant recorded.
    for read in ("C01X00T47", "CO1X0OT47"):
        asked.clear()
        answer = screen(hooked, Query(read, "DEU"))
        assert [(m.record_id, m.restricted) for m in answer.matches] == [(1, True)]
        assert [number for _, number in asked] == ["C01X00T47"]
    batch = screen_batch(hooked, [Query("X1234567", "DEU")] * 100)
    assert {m.restricted for answer in batch for m in answer.matches} == {True}


def test_a_snapshot_saved_when_letters_counted_as_two_confusions_reads_them_as_one(
    tmp_path: Path,
) -> None:
    before = Confusions(pairs=CONFUSABLE_PAIRS)  # O/Q, O/D, Q/D, I/L through their digit
    index = ScreeningIndex.build([entry(1, "Q1234567")], key=KEY, confusions=before)
    assert ids(index, "O1234567") == [(1, "substitution")]  # a typing slip, not a misreading
    index.save(tmp_path / "index.snapshot")
    loaded = ScreeningIndex.load(tmp_path / "index.snapshot", key=KEY)
    assert ids(loaded, "O1234567") == [(1, "ocr_variant")]
    assert ids(loaded, "OI234567") == [(1, "ocr_variant")]  # and one other confusion
