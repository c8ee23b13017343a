"""What a message may carry: a few files of allowed types, whose content is what they claim.

The declared type is checked against the file's first bytes (PDF, PNG, JPEG, GIF, TIFF), and
text must be UTF-8 without control bytes; the file name must end in an extension of that
type, with no second extension, trailing dot or space, or invisible characters: an officer
opening an attachment gets the kind of file the message said it was, opened by the program
that kind calls for. Executables are refused whatever they are declared as.
"""

from __future__ import annotations

import unicodedata
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
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}
# The file name's extension must be one of its declared type's: a name is what a desktop
# uses to choose the program that opens the file, whatever the message said it was.
EXTENSIONS = {
    "application/pdf": frozenset({".pdf"}),
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg"}),
    "image/gif": frozenset({".gif"}),
    "image/tiff": frozenset({".tif", ".tiff"}),
    "text/plain": frozenset({".txt"}),
    "text/csv": frozenset({".csv"}),
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
# Files a desktop runs (or opens in something that runs code) when double-clicked.
EXECUTABLE_SUFFIXES = frozenset(
    [
        ".exe",
        ".dll",
        ".com",
        ".scr",
        ".msi",
        ".msp",
        ".bat",
        ".cmd",
        ".ps1",
        ".psm1",
        ".psd1",
        ".vbs",
        ".vbe",
        ".js",
        ".jse",
        ".wsf",
        ".wsh",
        ".hta",
        ".cpl",
        ".msc",
        ".pif",
        ".reg",
        ".inf",
        ".lnk",
        ".url",
        ".scf",
        ".jar",
        ".sh",
        ".bash",
        ".command",
        ".app",
        ".apk",
        ".elf",
        ".bin",
        ".run",
        ".py",
        ".pl",
        ".rb",
        ".php",
        ".html",
        ".htm",
        ".xhtml",
        ".svg",
        ".mht",
        ".chm",
        ".iso",
        ".img",
        ".vhd",
        ".vhdx",
        ".docm",
        ".xlsm",
        ".pptm",
        ".one",
    ]
)
# Other kinds of file that a name may pretend to be, in a second extension.
OTHER_SUFFIXES = frozenset(
    {".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp", ".rtf", ".zip",
     ".rar", ".7z", ".gz", ".tar", ".cab", ".eml", ".msg", ".xml", ".json"}
)  # fmt: skip
# Names Windows keeps for devices, whatever the extension: "CON.txt" is no file there.
RESERVED_STEMS = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{d}{n}" for d in ("com", "lpt") for n in range(1, 10)]
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


def media_type(declared: str) -> str:
    """The media type without its parameters: ``text/plain; charset=utf-8`` is ``text/plain``."""
    return declared.split(";", 1)[0].strip().lower()


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
    naming = _name_problem(name)
    if naming is not None:
        return [("filename", naming)]
    stem, *inner = name.lower().split(".")
    suffix = "." + inner.pop() if inner else ""
    if suffix in EXECUTABLE_SUFFIXES or content.startswith(EXECUTABLE_MAGIC):
        return [("content", "executable files and scripts are not accepted")]
    if declared not in allowed:
        return [(
            "content_type",
            f"{declared!r} is not accepted; send one of {', '.join(sorted(allowed))}",
        )]  # fmt: skip
    extensions = EXTENSIONS.get(declared, frozenset())
    if suffix not in extensions:
        expected = ", ".join(sorted(extensions)) or "none known"
        return [("filename", f"must end in an extension of {declared} ({expected})")]
    hidden = [f".{part}" for part in inner if _is_file_extension(f".{part}")]
    if hidden:
        # "invoice.pdf.hta", "scan.exe.pdf": a second extension is there to mislead.
        return [("filename", f"must not carry a second file extension ({hidden[0]})")]
    if stem in RESERVED_STEMS:
        return [("filename", f"{stem.upper()} is a device name on Windows; rename the file")]
    if not content:
        return [("content", "is empty")]
    if declared in MAGIC:
        if not content.startswith(MAGIC[declared]):
            return [("content", f"is not a {declared} file (its first bytes do not match)")]
    elif declared.startswith("text/"):
        if not _is_text(content):
            return [("content", f"is not {declared}: it must be UTF-8 text")]
    else:
        return [("content_type", f"{declared} files cannot be checked; they are not accepted")]
    return []


def _name_problem(name: str) -> str | None:
    if not name or len(name) > FILENAME_MAX or any(c in name for c in "/\\\0"):
        return f"must be 1 to {FILENAME_MAX} characters, without '/' or '\\'"
    # Control characters, and format characters such as U+202E (right-to-left override,
    # which shows "invoice\u202efdp.exe" as "invoiceexe.pdf").
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        return "must not contain control or invisible formatting characters"
    if any(c in name for c in '<>:"|?*'):
        # Not in a Windows file name; "report.pdf:evil.exe" would name a hidden stream.
        return 'must not contain any of < > : " | ? *'
    if name != name.strip() or name.endswith("."):
        # Windows drops trailing dots and spaces: "run.bat." is saved as "run.bat".
        return "must not begin or end with a space, or end with a dot"
    return None


def _is_file_extension(suffix: str) -> bool:
    return (
        suffix in EXECUTABLE_SUFFIXES
        or suffix in OTHER_SUFFIXES
        or any(suffix in extensions for extensions in EXTENSIONS.values())
    )


def _is_text(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not TEXT_CONTROLS.intersection(content)
