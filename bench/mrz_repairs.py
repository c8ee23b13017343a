"""How often OCR repair mends an MRZ, and how often it invents one, on random documents.

Valid zones of every format are made with random numbers (nine characters, and longer ones
on TD1 and TD2 cards), optional data, names and dates, then damaged one character at a time
in two ways, each read with ``parse(..., correct=True)``:

- a check digit read as another digit (nothing to repair: a repair that makes the zone
  valid has invented a number, optional data or a date);
- one look-alike swap (O for 0, 8 for B…) in the number or the optional data (a repair
  that gives back the original is right; one that gives anything else valid is wrong).

    .venv/bin/python bench/mrz_repairs.py [--documents 200] [--seed 7]

Run it on the code before a change of the repair rules (PYTHONPATH=old/src) and after.
"""

from __future__ import annotations

import argparse
import random
import string
from collections import Counter
from datetime import date, timedelta

from bordercheck.documents.mrz import LAYOUTS, evaluate_checks, generate_mrz, parse
from bordercheck.documents.ocr import CONFUSABLE_PAIRS

FORMATS = ("TD1", "TD2", "TD3", "MRV-A", "MRV-B")
CODES = {"TD1": "ID", "TD2": "I", "TD3": "P", "MRV-A": "V", "MRV-B": "V"}
COUNTRIES = ("DEU", "FRA", "NOR", "ESP", "ITA", "POL", "BEL", "PRT", "NLD", "SWE")
TODAY = date(2026, 12, 6)


def document(rng: random.Random, mrz_format: str) -> tuple[str, ...]:
    alphabet = string.ascii_uppercase + string.digits
    long_number = mrz_format in ("TD1", "TD2") and rng.random() < 0.3
    number = "".join(rng.choices(alphabet, k=rng.choice((10, 11, 12)) if long_number else 9))
    room = LAYOUTS[mrz_format].field("optional_data").length
    # A long number takes the optional data's room (and one more for its check digit).
    spare = 0 if long_number else min(room, 14) - 4
    optional = "".join(rng.choices(alphabet, k=rng.randint(0, spare)))
    birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 30_000))
    return generate_mrz(
        mrz_format=mrz_format, document_code=CODES[mrz_format],
        issuing_country=rng.choice(COUNTRIES), document_number=number,
        surname=rng.choice(("HAWKE", "OKAFOR", "NOWAK", "LINDQVIST")),
        given_names=rng.choice(("LENA", "CHIDI", "ANNA MARIA")),
        nationality=rng.choice(COUNTRIES), birth_date=birth, sex=rng.choice("MF"),
        expiry_date=TODAY + timedelta(days=rng.randint(-2000, 3600)), optional_data=optional,
    )  # fmt: skip


def swapped(lines: tuple[str, ...], line: int, column: int, char: str) -> tuple[str, ...]:
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1 :]
    return tuple(changed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200, help="per format")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    confusions: dict[str, set[str]] = {}
    for letter, digit in CONFUSABLE_PAIRS:
        confusions.setdefault(letter, set()).add(digit)
        confusions.setdefault(digit, set()).add(letter)
    invented: Counter[str] = Counter()
    misread: Counter[str] = Counter()
    mended: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    swaps: Counter[str] = Counter()
    for mrz_format in FORMATS:
        layout = LAYOUTS[mrz_format]
        for _ in range(args.documents):
            lines = document(rng, mrz_format)
            clean = parse(lines, today=TODAY)
            assert clean.valid, (lines, clean.problems)
            for check in evaluate_checks(lines, layout):
                line, column = check.digit
                for digit in string.digits:
                    if digit == lines[line][column]:
                        continue
                    misread[mrz_format] += 1
                    read = parse(swapped(lines, line, column, digit), correct=True, today=TODAY)
                    invented[mrz_format] += bool(read.valid and read.corrections)
            for field in layout.fields:
                if field.kind not in ("number", "optional"):
                    continue
                for column in range(field.start, field.end):
                    for char in confusions.get(lines[field.line][column], ()):
                        swaps[mrz_format] += 1
                        damaged = swapped(lines, field.line, column, char)
                        read = parse(damaged, correct=True, today=TODAY)
                        if not read.corrections:
                            continue
                        same = read.lines == clean.lines
                        mended[mrz_format] += same
                        wrong[mrz_format] += read.valid and not same
    print(f"{'format':8} {'check digit misread':>20} {'repaired: invented':>19} "
          f"{'one look-alike swap':>20} {'repaired right':>15} {'repaired wrong':>15}")  # fmt: skip
    for mrz_format in (*FORMATS, "all"):
        pick = (lambda c: sum(c.values())) if mrz_format == "all" else (lambda c: c[mrz_format])  # noqa: B023
        print(f"{mrz_format:8} {pick(misread):>20,} {pick(invented):>19,} {pick(swaps):>20,} "
              f"{pick(mended):>15,} {pick(wrong):>15,}")  # fmt: skip


if __name__ == "__main__":
    main()
