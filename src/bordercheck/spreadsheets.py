"""Cells of the CSV files people open in a spreadsheet: text never runs as a formula.

A spreadsheet takes a cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
return before one) as a formula: whoever can put such a value in a name or a place could
make a colleague's sheet run ``=HYPERLINK(…)`` or worse when the file is opened. A leading
apostrophe keeps the cell text (the spreadsheet shows the value without it).

The rule is reversible, so that a file bordercheck writes is read back exactly:
``protect`` adds one apostrophe before a value starting with one of those characters, or
with an apostrophe followed by one of them or by another apostrophe; ``unprotect`` takes
exactly that apostrophe away again. A value such as ``'Brien`` is left as it is both ways.
"""

from __future__ import annotations

FORMULA_STARTS = frozenset("=+-@\t\r")
_QUOTE = "'"


def _is_protected(value: str) -> bool:
    return value[:1] == _QUOTE and (value[1:2] in FORMULA_STARTS or value[1:2] == _QUOTE)


def protect(value: str) -> str:
    """The cell to write for ``value``: never a formula, and ``unprotect`` gives it back."""
    if value[:1] in FORMULA_STARTS or _is_protected(value):
        return _QUOTE + value
    return value


def unprotect(cell: str) -> str:
    """The value a cell written by ``protect`` (or a spreadsheet's text cell) stands for."""
    return cell[1:] if _is_protected(cell) else cell
