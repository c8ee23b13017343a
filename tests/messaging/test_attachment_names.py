"""Attachment names: the extension is the declared type's, and nothing in the name misleads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bordercheck.errors import ValidationFailed
from bordercheck.messaging.attachments import NewAttachment, check_attachments
from bordercheck.settings import Settings

SETTINGS = Settings(env="test")
PDF = b"%PDF-1.7\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
SAMPLES = {"application/pdf": PDF, "image/png": PNG, "image/jpeg": b"\xff\xd8\xff\xe0",
           "text/plain": b"plain words"}  # fmt: skip


def refusal(filename: str, content_type: str = "text/plain") -> str:
    """The reason given for the file, or '' when it is accepted."""
    attachment = NewAttachment(filename, content_type, SAMPLES[content_type])
    try:
        check_attachments([attachment], SETTINGS)
    except ValidationFailed as refused:
        (error,) = refused.errors
        return f"{error.field}: {error.reason}"
    return ""


@pytest.mark.parametrize(
    ("filename", "content_type", "reason"),
    [
        ("invoice.hta", "text/plain", "executable files and scripts are not accepted"),
        ("run.bat.", "text/plain", "end with a dot"),
        ("notes.txt ", "text/plain", "end with a space"),
        ("notes.txt.", "text/plain", "end with a dot"),
        ("invoice.pdf.hta", "application/pdf", "executable files"),
        ("invoice.hta.pdf", "application/pdf", "second file extension (.hta)"),
        ("scan.exe.pdf", "application/pdf", "second file extension (.exe)"),
        ("cv.docx.pdf", "application/pdf", "second file extension (.docx)"),
        ("photo.png", "application/pdf", "must end in an extension of application/pdf (.pdf)"),
        ("report.txt", "application/pdf", "must end in an extension of application/pdf"),
        ("report", "application/pdf", "must end in an extension of application/pdf"),
        ("invoice\u202efdp.exe", "application/pdf", "invisible formatting characters"),
        ("line\nbreak.txt", "text/plain", "control"),
        ("bell\x07.txt", "text/plain", "control"),
        ("del\x7f.txt", "text/plain", "control"),
        ("c1\x85.txt", "text/plain", "control"),
        ("report.pdf:hidden.exe", "application/pdf", "must not contain any of"),
        ("CON.txt", "text/plain", "device name"),
        ("page.html", "text/plain", "executable files"),
        ("logo.svg", "image/png", "executable files"),
    ],
)
def test_misleading_names_are_refused_with_the_reason(
    filename: str, content_type: str, reason: str
) -> None:
    assert reason in refusal(filename, content_type)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("report.pdf", "application/pdf"),
        ("Report v2.PDF", "application/pdf"),
        ("scan.2024.01.pdf", "application/pdf"),
        ("J.M. Doe passport.jpg", "image/jpeg"),
        ("photo.jpeg", "image/jpeg"),
        ("notes.txt", "text/plain"),
        ("Überweisung März.txt", "text/plain"),
        ("تقرير.pdf", "application/pdf"),
    ],
)
def test_ordinary_names_are_accepted(filename: str, content_type: str) -> None:
    assert refusal(filename, content_type) == ""


@given(st.text(min_size=1, max_size=40), st.sampled_from(sorted(SAMPLES)))
def test_an_accepted_name_ends_in_its_types_extension_and_nothing_hides(
    name: str, content_type: str
) -> None:
    if refusal(name, content_type):
        return
    extension = name.rsplit(".", 1)[-1].lower()
    expected = {"application/pdf": {"pdf"}, "image/png": {"png"},
                "image/jpeg": {"jpg", "jpeg"}, "text/plain": {"txt"}}[content_type]  # fmt: skip
    assert extension in expected
    assert name == name.strip()
    assert all(ord(c) >= 32 and c not in "\x7f\u202e" for c in name)
