"""Reading PAXLST interchanges: envelopes (UNB/UNG/UNH), counts, and messages joined by flight.

What cannot be read at all raises ``ManifestUnreadable`` naming the segment; everything else
is read as far as it goes and the rest becomes warnings (on the interchange, the manifest or
the traveller), because real airline files are messy and a flight must still be screened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bordercheck.manifests.codes import outside_unoa
from bordercheck.manifests.edifact import ManifestUnreadable, Segment, decode, split_segments
from bordercheck.manifests.flight import Interchange, Manifest, Problem
from bordercheck.manifests.message import MessagePart, read_message

SUPPORTED_SYNTAX_VERSIONS = {"1", "2", "3", "4"}
# Message directories before D:02B predate the PAXLST the guides describe; read them anyway.
OLDEST_DIRECTORY = "02B"
# The United States' first APIS PAXLST (``PAXLST:001:000``), one PDT segment per traveller.
US_DIALECT_VERSION = "001"


@dataclass
class _Message:
    header: Segment
    body: list[Segment] = field(default_factory=list)
    trailer: Segment | None = None


def parse_paxlst(data: bytes | str) -> Interchange:
    """Every manifest in a PAXLST interchange, with what could not be read as warnings."""
    if isinstance(data, bytes):
        text, charset, decoding = decode(data)
    else:
        text, charset, decoding = data, None, []
    tokens = split_segments(text)
    interchange = Interchange(warnings=[Problem(w) for w in decoding + tokens.warnings])
    segments = tokens.segments
    if not segments:
        raise ManifestUnreadable("the interchange has no segments")
    messages = list(_envelopes(segments, interchange))
    if not messages:
        raise ManifestUnreadable("the interchange holds no message (no UNH segment)")
    parts: list[MessagePart] = []
    for message in messages:
        part = _read(message, interchange)
        if part is not None:
            parts.append(part)
    if not parts:
        raise ManifestUnreadable("the interchange holds no PAXLST message")
    cut = any(segment.cut for segment in segments)
    interchange.manifests = _with_travellers(join_parts(parts), interchange, cut=cut)
    if (charset or "UNOA") in ("UNOA", "UNOB"):
        _check_repertoire(interchange, charset or "UNOA")
    return interchange


def _with_travellers(
    manifests: list[Manifest], interchange: Interchange, *, cut: bool
) -> list[Manifest]:
    """The manifests that list someone; a file in which none does is refused, by name.

    An empty list screened would answer "no hit" for a flight nobody was checked on.
    """
    kept = [m for m in manifests if m.travellers]
    if not kept:
        versions = sorted({m.version or "no version" for m in manifests})
        ending = "; the file ends inside a segment, so it may have been cut short" if cut else ""
        raise ManifestUnreadable(
            f"no traveller could be read from the file's {len(manifests)} PAXLST list(s) "
            f"(message version {', '.join(versions)}; travellers open with NAD+FL, FM, DDT, "
            "DDU or COT, or with PDT in the older US dialect): it is refused rather than "
            f"screened as an empty flight{ending}"
        )
    for manifest in manifests:
        if not manifest.travellers:
            interchange.warnings.append(Problem(
                f"the list of flight {manifest.flight or '(not named)'} names no traveller; "
                "it is not screened or stored"
            ))  # fmt: skip
    return kept


def _envelopes(segments: list[Segment], interchange: Interchange) -> Iterator[_Message]:
    """Messages (UNH to UNT), with the envelopes around them checked."""
    first = segments[0]
    enveloped = first.tag == "UNB"
    if enveloped:
        _read_unb(first, interchange)
    elif first.tag != "UNH":
        raise ManifestUnreadable(
            "an interchange begins with UNB (or, without an envelope, a message with UNH)",
            segment=first.number, tag=first.tag, line=first.line,
        )  # fmt: skip
    elif not any("no interchange envelope" in w.message for w in interchange.warnings):
        interchange.warnings.append(
            Problem("no interchange envelope (UNB): the messages are read as sent", *_at(first))
        )
    warn = interchange.warnings.append
    message: _Message | None = None
    group: Segment | None = None
    in_group = messages = groups = 0
    closed = False
    control = interchange.control_ref
    for segment in segments[1:] if enveloped else segments:
        tag = segment.tag
        if tag == "UNH":
            if message is not None:
                warn(Problem("message has no UNT; ended at the next UNH", *_at(message.header)))
                yield message
            message = _Message(segment)
            messages += 1
            in_group += 1
        elif tag == "UNT":
            if message is None:
                warn(Problem("UNT without a UNH; ignored", *_at(segment)))
                continue
            message.trailer = segment
            yield message
            message = None
        elif message is not None and tag not in ("UNG", "UNE", "UNZ", "UNB"):
            message.body.append(segment)
        elif tag == "UNB":  # a further interchange in the same file
            if message is not None:
                warn(Problem("message has no UNT; ended at the next UNB", *_at(message.header)))
                yield message
                message = None
            if enveloped and not closed:
                warn(Problem("the interchange has no UNZ before the next UNB", *_at(segment)))
            warn(Problem("a further interchange in the same file; its messages are read too",
                         *_at(segment)))  # fmt: skip
            control = segment.get(5) or None
            messages = groups = 0
            enveloped, closed = True, False
        elif tag == "UNG":
            group, in_group = segment, 0
            groups += 1
        elif tag == "UNE":
            if group is None:
                warn(Problem("UNE without a UNG before it; ignored", *_at(segment)))
            else:
                _check_count(segment, in_group, "messages in the group", group, 5, warn)
            group = None
        elif tag == "UNZ":
            if message is not None:
                warn(Problem("message has no UNT", *_at(message.header)))
                yield message
                message = None
            _check_count(segment, groups or messages, "groups" if groups else "messages",
                         None, 0, warn)  # fmt: skip
            reference = segment.get(2)
            if control and reference != control:
                warn(Problem(f"control reference {reference!r} is not UNB's "
                             f"{control!r}", *_at(segment)))  # fmt: skip
            closed = True
        else:
            warn(Problem("segment outside any message; ignored", *_at(segment)))
    if message is not None:
        warn(Problem("message has no UNT: the file ends inside it", *_at(message.header)))
        yield message
    if enveloped and not closed:
        interchange.warnings.append(
            Problem("the interchange has no UNZ: the file may be cut short")
        )


def _at(segment: Segment) -> tuple[int, str, int]:
    return segment.number, segment.tag, segment.line


def _check_count(
    segment: Segment,
    counted: int,
    what: str,
    opening: Segment | None,
    ref_element: int,
    warn: Callable[[Problem], None],
) -> None:
    stated = segment.get(1)
    if not (stated.isascii() and stated.isdigit()):
        warn(Problem(f"count {stated!r} is not a number", *_at(segment)))
    elif int(stated) != counted:
        warn(Problem(f"says {int(stated)} {what}, the file has {counted}", *_at(segment)))
    if opening is not None and segment.get(2) != opening.get(ref_element):
        warn(Problem(f"reference {segment.get(2)!r} is not {opening.tag}'s "
                     f"{opening.get(ref_element)!r}", *_at(segment)))  # fmt: skip


def _read_unb(unb: Segment, interchange: Interchange) -> None:
    charset, version = unb.get(1, 0), unb.get(1, 1)
    if version and version not in SUPPORTED_SYNTAX_VERSIONS:
        interchange.warnings.append(
            Problem(f"syntax version {version!r} is not one we know; read as version 4", *_at(unb))
        )
    interchange.syntax = f"{charset}:{version}" if version else charset
    interchange.sender = unb.get(2) or None
    interchange.recipient = unb.get(3) or None
    interchange.control_ref = unb.get(5) or None


def _read(message: _Message, interchange: Interchange) -> MessagePart | None:
    header = message.header
    kind = header.get(2, 0)
    if kind != "PAXLST":
        interchange.warnings.append(
            Problem(f"a {kind or 'untyped'} message, not PAXLST; skipped", *_at(header))
        )
        return None
    release = header.get(2, 2)
    if header.get(2, 1) == US_DIALECT_VERSION:
        interchange.warnings.append(Problem(
            f"the older US dialect (PAXLST:{US_DIALECT_VERSION}:{release}): travellers are "
            "read from PDT segments", *_at(header),
        ))  # fmt: skip
    elif _directory_age(release) < _directory_age(OLDEST_DIRECTORY):
        interchange.warnings.append(
            Problem(f"directory D:{release} is older than D:02B; read as D:02B", *_at(header))
        )
    part = read_message(header, message.body)
    trailer = message.trailer
    if trailer is not None:
        counted = len(message.body) + 2  # UNH and UNT count themselves
        stated = trailer.get(1)
        if not (stated.isascii() and stated.isdigit()) or int(stated) != counted:
            part.warnings.append(Problem(
                f"says the message has {stated or 'no count of'} segments; it has {counted}",
                *_at(trailer),
            ))  # fmt: skip
        if trailer.get(2) != header.get(1):
            part.warnings.append(Problem(
                f"message reference {trailer.get(2)!r} is not UNH's {header.get(1)!r}",
                *_at(trailer),
            ))  # fmt: skip
    return part


def _directory_age(release: str) -> tuple[int, str]:
    """D:99B came before D:02B: directories are named by a two-digit year and a letter."""
    if len(release) != 3 or not (release[:2].isascii() and release[:2].isdigit()):
        return (9999, "")  # unknown: not reported as old
    year = int(release[:2])
    return (1900 + year if year >= 90 else 2000 + year, release[2])


def join_parts(parts: list[MessagePart]) -> list[Manifest]:
    """Messages of one flight (same reference, or same flight, date and list) made one."""
    groups: dict[tuple[object, ...], list[MessagePart]] = {}
    for part in parts:
        key: tuple[object, ...] = (
            ("ref", part.reference, part.list_type)
            if part.reference
            else ("flight", part.flight, part.departure_at, part.list_type)
        )
        if part.sequence is None and key in groups:
            key = (*key, id(part))  # an unnumbered repeat is a list of its own
        groups.setdefault(key, []).append(part)
    return [_joined(group) for group in groups.values()]


def _joined(parts: list[MessagePart]) -> Manifest:
    parts.sort(key=lambda p: p.sequence or 0)
    first = parts[0]
    manifest = Manifest(
        list_type=first.list_type,
        flight=first.flight,
        carrier=first.carrier,
        departure=first.departure,
        arrival=first.arrival,
        departure_at=first.departure_at,
        arrival_at=first.arrival_at,
        reference=first.reference,
        version=first.version,
    )
    for part in parts:
        manifest.message_refs.append(part.message_ref)
        manifest.warnings.extend(part.warnings)
        for traveller in part.travellers:
            traveller.position = len(manifest.travellers) + 1
            manifest.travellers.append(traveller)
        if part.counts:
            manifest.reported_count = part.counts[-1]
        if part.flight != first.flight and part.flight:
            manifest.warnings.append(
                Problem(f"part {part.sequence} names flight {part.flight}, not {first.flight}")
            )
    _check_parts(parts, manifest)
    _check_reported_count(manifest)
    return manifest


def _check_parts(parts: list[MessagePart], manifest: Manifest) -> None:
    numbers = [p.sequence for p in parts if p.sequence is not None]
    if not numbers:
        return
    if len(set(numbers)) != len(numbers):
        manifest.warnings.append(Problem(f"parts {sorted(numbers)} repeat a part number"))
    missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    if missing:
        manifest.warnings.append(
            Problem(f"part(s) {', '.join(map(str, missing))} of the flight's list are missing")
        )
    if not any(p.last for p in parts):
        manifest.warnings.append(
            Problem(f"no part is marked last (F); parts after {max(numbers)} may be missing")
        )


def _check_reported_count(manifest: Manifest) -> None:
    if manifest.reported_count is None:
        return
    read = len(manifest.travellers)
    if manifest.reported_count != read:
        manifest.warnings.append(Problem(
            f"the airline counts {manifest.reported_count} {manifest.list_type} (CNT); "
            f"the list has {read}"
        ))  # fmt: skip


def _check_repertoire(interchange: Interchange, charset: str) -> None:
    for manifest in interchange.manifests:
        for traveller in manifest.travellers:
            text = f"{traveller.surname} {traveller.given_names}"
            odd = outside_unoa(text if charset == "UNOA" else text.upper())
            if odd:
                traveller.problems.append(Problem(
                    f"name {traveller.name!r} has characters outside {charset}: {odd}",
                    traveller.segment, "NAD",
                ))  # fmt: skip
