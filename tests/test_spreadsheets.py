"""CSV cells opened in a spreadsheet never run as formulas, and read back as written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bordercheck.spreadsheets import FORMULA_STARTS, protect, unprotect

# Text that starts like a formula, an apostrophe, or anything at all.
texts = st.one_of(
    st.text(),
    st.builds(
        lambda start, rest: start + rest, st.sampled_from(sorted(FORMULA_STARTS | {"'"})), st.text()
    ),
    st.builds(lambda rest: "'" + rest, st.text()),
)


@given(texts)
def test_a_protected_cell_is_never_a_formula_and_reads_back_as_the_value(value: str) -> None:
    cell = protect(value)
    assert cell[:1] not in FORMULA_STARTS
    assert unprotect(cell) == value


def test_formulas_are_kept_as_text_and_other_values_untouched() -> None:
    assert protect('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert protect("@SUM(A1)") == "'@SUM(A1)"
    assert protect("\t=1") == "'\t=1"
    assert protect("'=1") == "''=1"
    assert protect("O'Brien") == "O'Brien"
    assert protect("'t Hooft") == "'t Hooft"
    assert unprotect("'t Hooft") == "'t Hooft"
