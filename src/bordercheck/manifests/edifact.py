"""UN/EDIFACT syntax (ISO 9735 versions 3 and 4): from the bytes an airline sends to segments.

Our own reader, not a library's: the one maintained Python library fails on interchanges
wrapped in UNG/UNE and keeps the line breaks that teletype delivery puts inside segments
(see docs/manifests.md). This one knows only the syntax; ``paxlst`` gives it meaning.

Every segment keeps its place (number in the interchange and line in the file), so that
every problem found later can be reported where it is.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bordercheck.errors import InvalidInput


@dataclass(frozen=True)
class Delimiters:
    """The service string advice (UNA): six characters, in this order."""

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = " "  # reserved in version 3, the repetition separator in version 4
    segment: str = "'"

    @classmethod
    def from_una(cls, una: str) -> Delimiters:
        """From the six characters after ``UNA``; refuses a service string that cannot work."""
        component, element, decimal, release, repetition, segment = tuple(una)
        delimiters = cls(component, element, decimal, release, repetition, segment)
        # The release character may be a space: then there is none (ISO 9735 allows it).
        used = [c for c in (component, element, segment) if c]
        if len(set(used)) != len(used):
            raise ManifestUnreadable(
                f"the service string advice UNA{una} uses one character for two separators",
                segment=0,
                tag="UNA",
            )
        if release != " " and release in used:
            raise ManifestUnreadable(
                f"the service string advice UNA{una} uses the release character as a separator",
                segment=0,
                tag="UNA",
            )
        return delimiters

    @property
    def release_char(self) -> str | None:
        return None if self.release == " " else self.release


class Locator:
    """The line each segment starts on, worked out only when a problem needs one.

    Reading drops line breaks before splitting (they are not data), so the lines are found
    again by splitting the same way while keeping each character's place in the file.
    """

    def __init__(self, text: str, position: int, delimiters: Delimiters, drop: str) -> None:
        self._text, self._position, self._delimiters, self._drop = text, position, delimiters, drop
        self._lines: list[int] | None = None

    def line(self, number: int) -> int:
        if self._lines is None:
            self._lines = self._locate()
        return self._lines[number - 1] if 0 < number <= len(self._lines) else 1

    def _locate(self) -> list[int]:
        text, drop, terminator = self._text, self._drop, self._delimiters.segment
        kept = [i for i in range(self._position, len(text)) if text[i] not in drop]
        clean = "".join(text[i] for i in kept)
        newlines = [m.start() for m in re.finditer("\n", text)]
        lines: list[int] = []
        offset = 0
        for raw in _joined(clean.split(terminator), self._delimiters.release_char, terminator):
            start = offset
            offset += len(raw) + len(terminator)
            stripped = raw.lstrip(" \t")
            if stripped:
                start += len(raw) - len(stripped)
                place = kept[start] if start < len(kept) else len(text)
                lines.append(bisect.bisect_left(newlines, place) + 1)
        return lines


class Segment:
    """One segment: its tag, its data elements and components, and its place in the file.

    Components are split when asked for: most are never read, and a 400-traveller list has
    4,000 segments to get through in a few milliseconds.
    """

    __slots__ = ("_component", "_elements", "_locator", "cut", "number", "tag")

    def __init__(
        self,
        tag: str,
        elements: Sequence[str | tuple[str, ...]],
        number: int,
        locator: Locator | None = None,
        component: str = ":",
    ) -> None:
        self.tag = tag
        self._elements = elements  # a str: components not split yet (no release character)
        self.number = number  # 1 for the first segment after UNA
        self._locator = locator
        self._component = component
        # The file ends inside it (no terminator after it): what it holds may be cut short.
        self.cut = False

    def get(self, element: int, component: int = 0) -> str:
        """Element ``element`` (1 is the first after the tag), component ``component``; or ''."""
        elements = self._elements
        if element < 1 or element >= len(elements):
            return ""
        found = elements[element]
        if isinstance(found, str):
            if component == 0:
                return found.partition(self._component)[0]
            found = tuple(found.split(self._component))
        return found[component] if component < len(found) else ""

    def components(self, element: int) -> tuple[str, ...]:
        if element < 1 or element >= len(self._elements):
            return ()
        found = self._elements[element]
        return tuple(found.split(self._component)) if isinstance(found, str) else found

    @property
    def elements(self) -> tuple[tuple[str, ...], ...]:
        return tuple(self.components(i) for i in range(1, len(self._elements)))

    @property
    def line(self) -> int:
        return self._locator.line(self.number) if self._locator else 1

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r}, number={self.number}, line={self.line})"


@dataclass
class Tokens:
    """An interchange split into segments, with what was found around and between them."""

    delimiters: Delimiters
    segments: list[Segment]
    warnings: list[str] = field(default_factory=list)
    had_una: bool = False


class ManifestUnreadable(InvalidInput):
    """The file cannot be read as a PAXLST interchange at all; says where and why."""

    code = "unreadable_manifest"

    def __init__(self, message: str, *, segment: int | None = None, tag: str | None = None,
                 line: int | None = None) -> None:  # fmt: skip
        where = ""
        if segment is not None and tag is not None:
            where = f"segment {segment} ({tag}{f', line {line}' if line else ''}): "
        super().__init__(where + message, segment=segment, tag=tag, line=line)


# Teletype delivery puts address lines before the interchange; it starts at UNA or UNB, or,
# as some departure control systems send it, without an envelope at the first UNH. Not inside
# a word of those lines (ATTN FORTUNA TRAVEL, an address such as LUNAPXH), and a UNA only
# where its six characters are followed by a segment in the element separator they name.
_START = re.compile(
    r"(?<![A-Za-z0-9])(?:UNA(?=.(.).{4}\s*[A-Z][A-Z0-9]{2}\1)|UN[BH](?=[^A-Z0-9 ]))",
    re.DOTALL,
)
_TAG = re.compile(r"[A-Z][A-Z0-9]{2}")
MAX_SEGMENTS = 200_000


def split_segments(text: str) -> Tokens:
    """The segments of the interchange in ``text`` (a decoded file)."""
    start = _START.search(text)
    if start is None:
        raise ManifestUnreadable(
            "no EDIFACT interchange found: the file has no UNA, UNB or UNH segment"
        )
    warnings: list[str] = []
    skipped = text[: start.start()]
    if skipped.strip():
        lines = skipped.count("\n") + (0 if skipped.endswith("\n") else 1)
        warnings.append(f"skipped {lines} line(s) before the interchange (teletype header)")
    if text.startswith("UNH", start.start()):
        warnings.append(
            "no interchange envelope (UNA or UNB): the messages are read from the first UNH, "
            "with the default separators"
        )
    position = start.start()
    delimiters = Delimiters()
    had_una = text.startswith("UNA", position)
    if had_una:
        delimiters = Delimiters.from_una(text[position + 3 : position + 9])
        position += 9
    if delimiters.segment not in text[position:]:
        raise ManifestUnreadable(
            f"no segment terminator {delimiters.segment!r} in the file: every EDIFACT segment "
            "ends with one (a list of segments one per line without it is a display of a "
            "message, not the message)"
        )
    segments, footer, more = _scan(text, position, delimiters)
    if not segments and more:
        raise ManifestUnreadable(
            f"no segment could be read: {len(more):,} piece(s) between terminators are not "
            f"segments ({more[0]}); the separators are {delimiters.element!r} between elements "
            f"and {delimiters.component!r} between components unless a UNA names others"
        )
    if footer.strip():
        warnings.append("ignored text after the interchange's last segment (teletype footer)")
    warnings.extend(more)
    return Tokens(delimiters, segments, warnings, had_una)


def _scan(text: str, position: int, delimiters: Delimiters) -> tuple[list[Segment], str, list[str]]:
    """Segments from ``position`` on; returns them, the text after UNZ, and warnings."""
    segments: list[Segment] = []
    warnings: list[str] = []
    terminator, component = delimiters.segment, delimiters.component
    # Line breaks are not data: teletype wraps segments at a fixed width, anywhere (even
    # inside a name, or between a release character and what it releases), so they are
    # dropped before anything else, unless a separator is itself a line break.
    separators = {component, delimiters.element, terminator}
    drop = "".join(c for c in "\r\n" if c not in separators)
    clean = text[position:]
    for c in drop:
        if c in clean:
            clean = clean.replace(c, "")
    pieces = _joined(clean.split(terminator), delimiters.release_char, terminator)
    if len(pieces) > MAX_SEGMENTS:
        raise ManifestUnreadable(f"more than {MAX_SEGMENTS:,} segments")
    locator = Locator(text, position, delimiters, drop)
    split = _splitter(delimiters)
    append = segments.append
    number = 0
    skip_una = False
    for index, raw in enumerate(pieces):
        if raw[:1] in _BLANK:
            raw = raw.lstrip(" \t")
            if not raw:
                continue
        if skip_una:
            skip_una = False
            if raw.startswith("UNA"):
                continue
        number += 1
        elements = split(raw)
        first = elements[0]
        tag = first.partition(component)[0] if isinstance(first, str) else first[0]
        if tag not in _KNOWN_TAGS and not _TAG.fullmatch(tag):
            warnings.append(f"segment {number} (line {locator.line(number)}): "
                            f"{raw.strip()[:20]!r} is not a segment; skipped")  # fmt: skip
            continue
        segment = Segment(tag, elements, number, locator, component)
        # The file ends without a terminator after this one: a trailer (UNT, UNZ) whose
        # terminator was left off is read, anything else may have been cut short.
        segment.cut = index == len(pieces) - 1 and not tag.startswith("UN")
        append(segment)
        if tag == "UNZ":
            following = _next_interchange(pieces[index + 1 :], delimiters)
            if following is None:
                return segments, terminator.join(pieces[index + 1 :]), warnings
            skip_una = following == "UNA"
    return segments, "", warnings


def _next_interchange(rest: list[str], delimiters: Delimiters) -> str | None:
    """``UNB`` or ``UNA`` when another interchange in the same separators follows an UNZ.

    Some gateways send several interchanges in one file; their segments are read on.
    """
    following = next((p.lstrip(" \t") for p in rest if p.strip(" \t")), "")
    if following.startswith("UNB") and following[3:4] == delimiters.element:
        return "UNB"
    if following.startswith("UNA") and following[3:] + delimiters.segment == (
        delimiters.component + delimiters.element + delimiters.decimal + delimiters.release
        + delimiters.repetition + delimiters.segment
    ):  # fmt: skip
        return "UNA"
    return None


_BLANK = frozenset(["", " ", "\t"])
# Tags a PAXLST carries by the thousand: known good, no need to check their shape.
_KNOWN_TAGS = frozenset(
    ("UNB", "UNG", "UNH", "BGM", "RFF", "NAD", "COM", "TDT", "LOC", "DTM", "ATT", "NAT",
     "DOC", "CNT", "UNT", "UNE", "UNZ", "GEI", "FTX", "MEA", "EMP")
)  # fmt: skip


def _joined(pieces: list[str], release: str | None, separator: str) -> list[str]:
    """``pieces`` of a split, with those split at a released separator put back together."""
    if release is None:
        return pieces
    out: list[str] = []
    carry: str | None = None
    for piece in pieces:
        if carry is not None:
            piece = carry + separator + piece
            carry = None
        if piece.endswith(release) and _released_at_end(piece + separator, release):
            carry = piece
            continue
        out.append(piece)
    if carry is not None:
        out.append(carry)
    return out


def _released_at_end(raw: str, release: str | None) -> bool:
    """Whether the last character is released (an odd run of release characters before it)."""
    if release is None:
        return False
    run = len(raw) - 1 - len(raw[:-1].rstrip(release))
    return run % 2 == 1


Split = Callable[[str], "list[str] | list[tuple[str, ...]]"]


def _splitter(delimiters: Delimiters) -> Split:
    """A function that splits a segment into elements (components split later, if no release
    character is in it; split now, releases resolved, if one is)."""
    element_sep, component_sep = delimiters.element, delimiters.component
    release = delimiters.release_char

    def plain(raw: str) -> list[str]:
        return raw.split(element_sep)

    if release is None:
        return plain
    unrelease = re.compile(f"{re.escape(release)}(.)", re.DOTALL)

    def released(raw: str) -> list[str] | list[tuple[str, ...]]:
        if release not in raw:
            return raw.split(element_sep)
        if _released_at_end(raw + " ", release):
            raw = raw[:-1]  # a release character with nothing left to release
        elements = _joined(raw.split(element_sep), release, element_sep)
        return [
            tuple(
                unrelease.sub(r"\1", c) if release in c else c
                for c in _joined(e.split(component_sep), release, component_sep)
            )
            for e in elements
        ]

    return released


# Character repertoires of ISO 9735 (syntax identifier in UNB) and how their bytes decode.
# UNOA and UNOB are subsets of ASCII; they are decoded as Latin-1 so that a stray byte is read
# (and reported where it matters, in names) rather than refused.
ENCODINGS: dict[str, str] = {
    "UNOA": "latin-1", "UNOB": "latin-1", "UNOC": "latin-1", "UNOD": "iso8859-2",
    "UNOE": "iso8859-5", "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4",
    "UNOI": "iso8859-6", "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOL": "iso8859-15",
    "UNOW": "utf-8", "UNOX": "iso2022_jp_2", "UNOY": "utf-8",
}  # fmt: skip
_SYNTAX = re.compile(rb"UNB.(UNO[A-Z])")


def decode(data: bytes) -> tuple[str, str | None, list[str]]:
    """The text of ``data`` in the character set its UNB names; and that name, and warnings."""
    warnings: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: read as the UNB says, below
        else:
            found = _SYNTAX.search(text.encode("latin-1", errors="replace"))
            warnings.append(
                "the file is in UTF-16, which no EDIFACT character set is; read as such"
            )
            return text, found.group(1).decode() if found else None, warnings
    found = _SYNTAX.search(data)
    syntax = found.group(1).decode() if found else None
    encoding = ENCODINGS.get(syntax or "", "utf-8")
    if syntax is not None and syntax not in ENCODINGS:
        warnings.append(f"unknown character set {syntax}; read as UTF-8")
    if encoding == "latin-1" and not data.isascii() and _is_utf8(data):
        # Latin-1 reads any byte: names sent in UTF-8 under UNOC (or UNOA) would become
        # MÃ\x9cLLER without a word. Text in Latin-1 is almost never valid UTF-8 by chance.
        warnings.append(f"the file names {syntax} but its letters are in UTF-8; read as UTF-8")
        encoding = "utf-8"
    try:
        return data.decode(encoding), syntax, warnings
    except UnicodeDecodeError as exc:
        warnings.append(
            f"byte {exc.start:,} is not valid {syntax or encoding}; unreadable characters "
            "are shown as \ufffd"
        )
        return data.decode(encoding, errors="replace"), syntax, warnings


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
