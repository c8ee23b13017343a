"""A stolen kit does not give out the documents it screens: no number is in any of its files."""

from __future__ import annotations

from pathlib import Path

from bordercheck.edge import sync
from tests.edge.conftest import STOLEN, Centre
from tests.edge.test_kit import ask, kit_for


def spellings(number: str) -> list[bytes]:
    """The number as ASCII, UTF-16 and UTF-32 (either byte order), as a grep would look."""
    return [number.encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le")]


def test_the_kit_files_hold_none_of_the_numbers_it_screens(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    later = ["L4T3R0001", "L4T3R0002"]
    for number in later:
        centre.report(number, "ITA")
    centre.report(
        "B0001200", blank=True, serial_end="B0001205", holder_surname=None,
        holder_given_names=None, holder_birth_date=None, holder_nationality=None,
    )  # fmt: skip
    sync.sync(kit)
    numbers = [*STOLEN, *later, *(f"B000{n}" for n in range(1200, 1206))]
    # Screen them all, hits and near misses: the queue holds what was asked, sealed.
    for number in numbers:
        answer = ask(kit, number, "ITA" if number in later else "DEU")
        assert answer["result"] == "possible_hit", number
    assert ask(kit, "B0001203")["matches"][0]["match"] == "range"  # type: ignore[index]
    files = [path for path in kit.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"kit.json", "secret.json", "state.json", "queue.db"}
    for path in files:
        data = path.read_bytes()
        for number in numbers:
            for spelled in spellings(number):
                assert spelled not in data, f"{number} is in {path.name}"


def test_the_secret_is_readable_by_its_owner_only(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    assert (kit / "secret.json").stat().st_mode & 0o077 == 0
    assert kit.stat().st_mode & 0o077 == 0
