"""OCR confusions in MRZs, and the repairs that can be made without guessing.

``correct_mrz`` first cleans the text OCR gives (``clean_ocr_text``: spaces, stray marks,
look-alikes of ``<``), then makes three kinds of repair, each reported as a Correction:

0. Fillers. OCR reads ``<`` as ``K``. A ``K`` becomes ``<`` where only a filler can be:
   a check digit, a date left blank, the document code's second character, ``D<<``;
   the trailing fillers of numbers and optional data once a ``<`` begins them, and of
   names once three ``<`` do (a word may follow one or two);
   and, when the zone holds no ``<`` at all (every filler read as ``K``), each run of two
   or more ``K`` in names and a trailing run in numbers and optional data.

1. Character class. A letter in a field that takes digits only (dates, check digits) is
   read as the digit it is confused with (O→0, I→1, …). A digit in an alphabetic field is
   read as a letter: in country codes and the document code's first letter only when
   exactly one reading gives a valid code; in names and the document code's second letter,
   as the likeliest letter (0→O, 1→I), since nothing there can confirm it.
2. Check digits. When a check digit fails, substitutions of confusable characters in the
   field it covers (one per failing check, the check digit itself included) are tried. A
   repair is made only when every check digit then passes, no field becomes malformed, the
   repair mends more failing checks than it changes characters (one wrong character in a
   number fails its own check and the composite), exactly one such repair exists, and no
   failing check digit read as another digit would explain the zone as well (then a swap
   in the data is a guess: a visa's number, which no composite covers, is never rewritten,
   nor a long TD1 number whose composite follows from its own check). Otherwise nothing is
   changed and ``problems`` says why.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Final

from bordercheck.documents.mrz import (
    CheckResult,
    Correction,
    Mrz,
    evaluate_checks,
    names_hold_digits,
    read_mrz,
)
from bordercheck.documents.mrz_formats import (
    DIGITS,
    FILLER,
    LETTERS,
    Field,
    Layout,
    Position,
    country_from_mrz,
    split_mrz,
)

# The shortest line of a travel document's zone is TD1's 30 characters; OCR drops a few.
MIN_ZONE_LINE: Final = 25

# Characters OCR engines mistake for one another on OCR-B MRZs, letter first. Where a digit
# has several letters, the first listed is the likeliest reading of it as a letter.
CONFUSABLE_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("O", "0"),
    ("Q", "0"),
    ("D", "0"),
    ("I", "1"),
    ("L", "1"),
    ("B", "8"),
    ("S", "5"),
    ("Z", "2"),
    ("G", "6"),
    ("A", "4"),
    ("T", "7"),
)


def _confusions(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for a, b in pairs:
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return {char: frozenset(others) for char, others in table.items()}


# Each character → the characters it may have been misread from (symmetric).
CONFUSIONS: Final[Mapping[str, frozenset[str]]] = _confusions(CONFUSABLE_PAIRS)
# A letter found where a digit must be → that digit.
AS_DIGIT: Final[Mapping[str, str]] = dict(CONFUSABLE_PAIRS)
# A digit found where a letter must be → the letters it may stand for, likeliest first.
AS_LETTERS: Final[Mapping[str, tuple[str, ...]]] = {
    digit: tuple(letter for letter, d in CONFUSABLE_PAIRS if d == digit)
    for digit in dict.fromkeys(d for _, d in CONFUSABLE_PAIRS)
}


def confusable_variants(text: str, max_changes: int = 1) -> frozenset[str]:
    """Every text ``max_changes`` or fewer confusable substitutions away (``text`` excluded)."""
    found: set[str] = set()
    frontier = {text}
    for _ in range(max_changes):
        step = {
            t[:i] + other + t[i + 1 :]
            for t in frontier
            for i, char in enumerate(t)
            for other in CONFUSIONS.get(char, ())
        }
        frontier = step - found - {text}
        found |= frontier
    return frozenset(found)


# Characters OCR gives for ``<`` that are not MRZ characters.
FILLER_LOOKALIKES: Final[Mapping[str, str]] = {
    "«": "<<", "‹": "<", "〈": "<", "＜": "<", "≪": "<<", "⟨": "<", "﹤": "<",
}  # fmt: skip
_MRZ_CHARACTERS: Final = frozenset(DIGITS + LETTERS + FILLER)
_NOISE: Final = re.compile("[^0-9A-Z<]")
_LENGTHS: Final[dict[int, frozenset[int]]] = {2: frozenset({36, 44}), 3: frozenset({30})}


def clean_ocr_text(text: str | Sequence[str]) -> tuple[list[str], list[str]]:
    """The lines of an MRZ as OCR gave them, cleaned; and what was done, one note a change.

    Lower case is upper-cased; look-alikes of ``<`` (``«``, ``‹``…) become ``<``; other
    characters that are not MRZ characters (``.``, ``|``, ``,``…) are removed; spaces are
    removed, or read as ``<`` where only that gives the line its length; lines left empty
    are dropped.
    """
    raw = text if isinstance(text, str) else "\n".join(text)
    lines: list[str] = []
    notes: list[str] = []
    for line in raw.splitlines():
        upper = line.strip().upper()
        if not _NOISE.search(upper):  # the usual case, and the quick one
            if upper:
                lines.append(upper)
            continue
        upper = "".join(FILLER_LOOKALIKES.get(c, c) for c in upper)
        stray = [c for c in upper if c not in _MRZ_CHARACTERS and c != " "]
        kept = "".join(c for c in upper if c in _MRZ_CHARACTERS or c == " ").strip()
        if kept:
            lines.append(kept)
        if stray:
            shown = " ".join(repr(c) for c in dict.fromkeys(stray))
            where = f"line {len(lines)}" if kept else "a line of its own"
            notes.append(f"{where}: removed {len(stray)} stray character(s) {shown}")
    if len(lines) == 1 and " " in lines[0]:
        lines = lines[0].replace(" ", "\n").split() if _run_together(lines[0]) else lines
    if len(lines) > 3:
        # OCR of a page reads its other text too ("PASSPORT", a line of the visual zone):
        # a short line with no < is no line of a zone, whose lines are 30 characters or more.
        for junk in [line for line in lines if _not_a_zone_line(line)]:
            lines.remove(junk)
            notes.append(f"dropped the line {junk!r}: too short for a line of an MRZ")
    lengths = _LENGTHS.get(len(lines), frozenset())
    for index, line in enumerate(lines):
        if " " not in line:
            continue
        spaces = line.count(" ")
        joined, filled = line.replace(" ", ""), line.replace(" ", FILLER)
        if len(filled) in lengths and len(joined) not in lengths:
            lines[index] = filled
            notes.append(f"line {index + 1}: read {spaces} space(s) as <")
        else:
            lines[index] = joined
            notes.append(f"line {index + 1}: removed {spaces} space(s)")
    _fit_name_lines(lines, lengths, notes)
    return lines, notes


def _not_a_zone_line(line: str) -> bool:
    return FILLER not in line and len(line.replace(" ", "")) < MIN_ZONE_LINE


def _run_together(line: str) -> bool:
    """Whether a line with spaces is the lines of an MRZ separated by spaces, not newlines."""
    parts = line.split()
    return len(parts) in (2, 3) and all(len(p) in (30, 36, 44) for p in parts)


def _fit_name_lines(lines: list[str], lengths: frozenset[int], notes: list[str]) -> None:
    """Lines that end in fillers, a filler or two short or long: OCR dropped or doubled one.

    Only such lines (names: TD3 and TD2 line 1, TD1 line 3) are fitted, at their end, where
    fillers only pad; a line ending in check digits is left for the length check to refuse.
    """
    widths = [len(line) for line in lines if len(line) in lengths]
    if not widths:
        return
    width = max(set(widths), key=widths.count)
    for index, line in enumerate(lines):
        gap = width - len(line)
        if gap == 0 or abs(gap) > 2 or not line.endswith(FILLER):
            continue
        if gap < 0 and not line.endswith(FILLER * (1 - gap)):
            continue  # a name running to the line's end; the extra characters are not fillers
        lines[index] = line + FILLER * gap if gap > 0 else line[:gap]
        change = f"added {gap}" if gap > 0 else f"removed {-gap}"
        notes.append(f"line {index + 1}: {change} trailing filler(s) to make {width} characters")


def correct_mrz(text: str | Sequence[str], *, today: date | None = None) -> Mrz:
    """Parse an MRZ, repairing OCR confusions where the repair is certain; see the module doc."""
    cleaned, cleaning = clean_ocr_text(text)
    lines, layout = split_mrz(cleaned)
    grid = [list(line) for line in lines]
    corrections: list[Correction] = []
    k_for_filler = FILLER not in "".join(lines)
    has_k = any("K" in line for line in lines)
    for target in layout.fields if has_k else ():
        # Fields do not overlap: each is read from the lines as given.
        for (line, column), char in _filler_fixes(target, lines, k_for_filler).items():
            corrections.append(_correction(target, line, column, grid[line][column], char))
            grid[line][column] = char
    if k_for_filler and any(
        "K" in "".join(grid[f.line][f.start : f.end]) for f in layout.fields if f.kind == "name"
    ):
        cleaning.append(
            "name: every < was read as K; a single K between words may be a < too, and is "
            "left as read (names have no check digit to tell)"
        )
    for target in layout.fields:
        for (line, column), char in _class_fixes(target, grid, layout).items():
            corrections.append(_correction(target, line, column, grid[line][column], char))
            grid[line][column] = char
    fixed = tuple("".join(row) for row in grid)
    results = evaluate_checks(fixed, layout)
    if all(r.passed for r in results):
        return _read(fixed, layout, today, corrections, cleaning)

    baseline = set(read_mrz(fixed, layout, today=today).problems)
    found = _check_repairs(fixed, layout, results, baseline, today)
    # A substitution chosen to mend one check digit is confirmed by it alone: with a one in
    # ten chance that a wrong character passes a check digit, some candidate often does. A
    # repair is certain only when it mends more failing checks than it makes substitutions
    # (a number's own check and the composite, for one wrong character in the number).
    failing = sum(1 for r in results if not r.passed)
    repairs = {r for r in found if len(r) < failing}
    # A check digit read as another digit (no look-alike: any digit for any) explains a
    # failing zone as well as a swap in its data: where it would, the swap is not certain.
    misread_digit = repairs and _a_check_digit_explains(fixed, layout, results)
    if misread_digit:
        repairs = set()
    if len(repairs) == 1:
        (repair,) = repairs
        for (line, column), char in sorted(repair):
            target = layout.field_at((line, column))
            corrections.append(_correction(target, line, column, fixed[line][column], char))
        return _read(_apply(fixed, repair), layout, today, corrections, cleaning)
    notes = []
    if repairs:
        options = "; ".join(_describe(fixed, r) for r in sorted(repairs, key=sorted))
        notes.append(
            f"OCR repair refused as ambiguous: {len(repairs)} different repairs make every "
            f"check digit pass ({options})"
        )
    elif misread_digit:
        notes.append(
            f"OCR repair not made: {misread_digit} read as another digit would explain the "
            "zone as well as a look-alike in its data; the zone is read as given"
        )
    elif found:
        options = "; ".join(_describe(fixed, r) for r in sorted(found, key=sorted))
        notes.append(
            "OCR repair not made: no check digit but the ones it would mend confirms "
            f"{'it' if len(found) == 1 else 'any of them'} ({options}); the zone is read as "
            "given"
        )
    return _read(fixed, layout, today, corrections, cleaning, problems=notes)


def _read(
    lines: Sequence[str],
    layout: Layout,
    today: date | None,
    corrections: Sequence[Correction],
    cleaning: Sequence[str],
    problems: Sequence[str] = (),
) -> Mrz:
    mrz = read_mrz(lines, layout, today=today, corrections=corrections, problems_found=problems)
    return dataclasses.replace(mrz, notes=(*cleaning, *mrz.notes)) if cleaning else mrz


def _filler_fixes(target: Field, lines: Sequence[str], k_mode: bool) -> dict[Position, str]:
    """``K`` read for ``<`` in ``target``, where only a filler can be (see the module doc)."""
    text = lines[target.line][target.start : target.end]
    if "K" not in text:
        return {}
    if target.kind == "check" or (target.kind == "date" and set(text) <= {"K", FILLER}):
        positions = [i for i, c in enumerate(text) if c == "K"]
    elif target.kind == "code":  # PK, IK… are no codes, but a code may be made of any letters
        positions = [1] if text[1:] == "K" and k_mode else []
    elif target.kind == "country":
        positions = [1, 2] if text in ("DKK", "DK<", "D<K") else []
    elif target.kind in ("name", "number", "optional"):
        positions = _trailing_fillers(text, target.kind, k_mode)
    else:
        positions = []
    at = target.start
    return {(target.line, at + i): FILLER for i in positions if text[i] == "K"}


def _trailing_fillers(text: str, kind: str, k_mode: bool) -> list[int]:
    """Positions of ``K`` standing for ``<`` in a name, number or optional data field."""
    body = text.rstrip("K" + FILLER)
    tail = range(len(body), len(text))
    if k_mode:
        found = list(tail)
        if kind == "name":  # separators: runs of two or more K between words
            for separator in re.finditer("K{2,}", body):
                found.extend(range(separator.start(), separator.end()))
        return found
    # Among the trailing fillers, a K is one too once fillers precede it: in numbers and
    # optional data one is enough; in names three, since a word may follow one or two (the
    # separators), and a K right after the last letter may be the name's own (NICK<<<).
    needed = 3 if kind == "name" else 1
    found = []
    run = 0
    for i in tail:
        if text[i] == FILLER or (text[i] == "K" and run >= needed):
            if text[i] == "K":
                found.append(i)
            run += 1
        else:
            run = 0
    return found


def _correction(target: Field, line: int, column: int, old: str, new: str) -> Correction:
    return Correction(line + 1, column + 1, target.name, old, new)


def _text(grid: list[list[str]], target: Field) -> str:
    return "".join(grid[target.line][target.start : target.end])


def _class_fixes(target: Field, grid: list[list[str]], layout: Layout) -> dict[Position, str]:
    """Replacements for characters of the wrong class in ``target`` (empty when none is sure)."""
    text = _text(grid, target)
    if target.kind in ("date", "check", "digits"):
        return {
            (target.line, target.start + i): AS_DIGIT[c]
            for i, c in enumerate(text)
            if c in AS_DIGIT
        }
    if target.kind == "name":
        code = _text(grid, layout.field("document_code"))
        if names_hold_digits(code, _text(grid, layout.field("issuing_country"))):
            return {}  # its digits are letters (mrz.names_hold_digits)
        return {
            (target.line, target.start + i): AS_LETTERS[c][0]
            for i, c in enumerate(text)
            if c in AS_LETTERS
        }
    if target.kind == "code" and layout.format == "FRA-ID":
        # France's card is always ID: a digit there is what OCR made of I or D.
        return {
            (target.line, target.start + i): want
            for i, (found, want) in enumerate(zip(text, "ID", strict=True))
            if found != want and want in AS_LETTERS.get(found, ())
        }
    if target.kind == "code":
        fixes = {}
        if text[0] in AS_LETTERS:
            fits = [c for c in AS_LETTERS[text[0]] if c in layout.document_letters]
            if len(fits) == 1:
                fixes[(target.line, target.start)] = fits[0]
        if text[1] in AS_LETTERS:
            fixes[(target.line, target.start + 1)] = AS_LETTERS[text[1]][0]
        return fixes
    if target.kind == "country" and country_from_mrz(text) is None:
        choices = [AS_LETTERS.get(c, (c,)) for c in text]
        readings = [r for r in itertools.product(*choices) if country_from_mrz("".join(r))]
        if len(readings) == 1:
            return {
                (target.line, target.start + i): c
                for i, c in enumerate(readings[0])
                if c != text[i]
            }
    return {}


Repair = frozenset[tuple[Position, str]]


def _check_repairs(
    lines: tuple[str, ...],
    layout: Layout,
    results: Sequence[CheckResult],
    baseline: set[str],
    today: date | None,
) -> set[Repair]:
    """Every set of substitutions, one per failing check, that makes all checks pass."""
    options: list[list[tuple[tuple[Position, str], ...]]] = []
    for result in results:
        if result.passed:
            continue
        # A field's own substitutions: positions no other field check covers. The composite
        # covers every checked field, so a repair elsewhere may mend it without a change.
        others = {
            p
            for r in results
            if r.name not in (result.name, "composite")
            for p in (*r.covers, r.digit)
        }
        own = [result.digit, *(p for p in result.covers if p not in others)]
        subs: list[tuple[tuple[Position, str], ...]] = [
            ((p, alt),) for p in own for alt in _alternatives(lines, layout, p)
        ]
        if result.name == "composite":
            subs.append(())
        options.append(subs)

    # At most a few thousand combinations: only number and optional data take letters and
    # digits both, and a date or check digit (digits only) has no confusable alternative.
    repairs: set[Repair] = set()
    for combination in itertools.product(*options):
        repair: Repair = frozenset(s for group in combination for s in group)
        if not repair or len({p for p, _ in repair}) < len(repair) or repair in repairs:
            continue
        candidate = _apply(lines, repair)
        if not all(r.passed for r in evaluate_checks(candidate, layout)):
            continue
        if set(read_mrz(candidate, layout, today=today).problems) <= baseline:
            repairs.add(repair)
    return repairs


def _a_check_digit_explains(
    lines: tuple[str, ...], layout: Layout, results: Sequence[CheckResult]
) -> str:
    """The failing check digit (named by its place) whose change alone to another digit
    makes every check pass, or ''."""
    for result in results:
        if result.passed:
            continue
        line, column = result.digit
        for digit in DIGITS:
            if digit == lines[line][column]:
                continue
            candidate = _apply(lines, frozenset({((line, column), digit)}))
            if all(r.passed for r in evaluate_checks(candidate, layout)):
                return f"the check digit at line {line + 1} column {column + 1}"
    return ""


def _alternatives(lines: Sequence[str], layout: Layout, position: Position) -> list[str]:
    """Confusable characters that could stand at ``position`` (digits only where digits must)."""
    line, column = position
    char = lines[line][column]
    kind = layout.field_at(position).kind
    allowed = DIGITS if kind in ("date", "check", "digits") else DIGITS + LETTERS + FILLER
    return sorted(c for c in CONFUSIONS.get(char, ()) if c in allowed)


def _apply(lines: Sequence[str], repair: Repair) -> tuple[str, ...]:
    grid = [list(line) for line in lines]
    for (line, column), char in repair:
        grid[line][column] = char
    return tuple("".join(row) for row in grid)


def _describe(lines: Sequence[str], repair: Repair) -> str:
    return ", ".join(
        f"line {line + 1} column {column + 1} {lines[line][column]}→{char}"
        for (line, column), char in sorted(repair)
    )
