"""What a message may carry: a few files of allowed types, whose content is what they claim.

The declared type is checked against the file's first bytes for PDF, PNG and JPEG, and plain
text must be UTF-8 without control bytes: an officer opening an attachment gets the kind of
file the message said it was. Executables are refused whatever they are declared as.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bordercheck.errors import BordercheckError, FieldError, ValidationFailed
from bordercheck.settings import Settings

MAX_ATTACHMENTS = 10
FILENAME_MAX = 200
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
EXECUTABLE_MAGIC = (
    b"MZ",  # Windows PE
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O, both word sizes and byte orders, and universal binaries
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",  # scripts run by an interpreter
)
EXECUTABLE_SUFFIXES = frozenset(
    [
        ".exe",
        ".dll",
        ".com",
        ".scr",
        ".msi",
        ".bat",
        ".cmd",
        ".ps1",
        ".vbs",
        ".js",
        ".jar",
        ".sh",
        ".app",
        ".apk",
        ".elf",
        ".bin",
        ".lnk",
    ]
)
TEXT_CONTROLS = frozenset(range(32)) - {9, 10, 13}


class AttachmentTooLarge(BordercheckError):
    status_code = 413
    code = "too_large"


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    content: bytes


def allowed_types(settings: Settings) -> frozenset[str]:
    return frozenset(
        t.strip().lower() for t in settings.message_attachment_types.split(",") if t.strip()
    )


def check_attachments(attachments: Sequence[NewAttachment], settings: Settings) -> None:
    """Refuse the message (413 for a file too large, else 422) naming the attachment and why."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            errors=[FieldError("attachments", f"at most {MAX_ATTACHMENTS} files a message")]
        )
    limit = settings.message_attachment_max_bytes
    for index, attachment in enumerate(attachments):
        if len(attachment.content) > limit:
            raise AttachmentTooLarge(
                f"attachments.{index}: {attachment.filename!r} is {len(attachment.content):,} "
                f"bytes; an attachment may be at most {limit:,} bytes",
                field=f"attachments.{index}",
                limit=limit,
            )
    errors = [
        FieldError(f"attachments.{index}.{name}", reason)
        for index, attachment in enumerate(attachments)
        for name, reason in _problems(attachment, allowed_types(settings))
    ]
    if errors:
        raise ValidationFailed(errors=errors)


def _problems(attachment: NewAttachment, allowed: frozenset[str]) -> list[tuple[str, str]]:
    name, declared, content = attachment.filename, attachment.content_type, attachment.content
    problems: list[tuple[str, str]] = []
    if not name or len(name) > FILENAME_MAX or any(c in name for c in "/\\\0"):
        problems.append(
            ("filename", f"must be 1 to {FILENAME_MAX} characters, without '/' or '\\'")
        )
    elif any(ord(c) < 32 for c in name):
        problems.append(("filename", "must not contain control characters"))
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix in EXECUTABLE_SUFFIXES or content.startswith(EXECUTABLE_MAGIC):
        problems.append(("content", "executable files and scripts are not accepted"))
        return problems
    if declared not in allowed:
        problems.append(
            (
                "content_type",
                f"{declared!r} is not accepted; send one of {', '.join(sorted(allowed))}",
            )
        )
    elif not content:
        problems.append(("content", "is empty"))
    elif declared in MAGIC and not content.startswith(MAGIC[declared]):
        problems.append(("content", f"is not a {declared} file (its first bytes do not match)"))
    elif declared.startswith("text/") and not _is_text(content):
        problems.append(("content", f"is not {declared}: it must be UTF-8 text"))
    return problems


def _is_text(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not TEXT_CONTROLS.intersection(content)
