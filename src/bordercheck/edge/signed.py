"""Signed files the centre sends to kits: snapshots and change bundles.

Layout: ``BCEDGE01`` magic, header length (u32), the header as JSON (kind, kit id,
sequence numbers, counts, issue time), the body, then an Ed25519 signature (64 bytes) of
the SHA-256 of everything before it. Hashing first lets a snapshot of a billion bytes be
signed and checked as a stream; the kit checks the signature before it reads the header.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, Final

from bordercheck.edge.signing import EdgeKeys, verify
from bordercheck.errors import BordercheckError

MAGIC: Final = b"BCEDGE01"
SIGNATURE_BYTES: Final = 64
_LENGTH: Final = struct.Struct("<I")
_CONTEXT: Final = b"bordercheck edge v1\0"
_BLOCK: Final = 1 << 20


class Refused(BordercheckError):
    """What the centre sent is not what this kit may apply; the message says why."""

    status_code = 422
    code = "refused"


def preamble(header: dict[str, Any]) -> bytes:
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    return MAGIC + _LENGTH.pack(len(raw)) + raw


def sign(keys: EdgeKeys, digest: bytes) -> bytes:
    return keys.sign(_CONTEXT + digest)


def pack(keys: EdgeKeys, header: dict[str, Any], parts: Iterable[bytes]) -> bytes:
    """A whole signed file in memory (bundles: small)."""
    data = preamble(header) + b"".join(parts)
    return data + sign(keys, hashlib.sha256(data).digest())


def write(path: Path, keys: EdgeKeys, header: dict[str, Any], parts: Iterable[bytes]) -> None:
    """A signed file on disk, written and hashed part by part."""
    digest = hashlib.sha256()
    with open(path, "wb") as file:
        for part in (preamble(header), *parts):
            digest.update(part)
            file.write(part)
        file.write(sign(keys, digest.digest()))


def read_header(
    data: bytes | BinaryIO, *, public_key: bytes, what: str
) -> tuple[dict[str, Any], int]:
    """The header and the body's offset, once the signature is checked; Refused says why."""
    if isinstance(data, bytes):
        size = len(data)
        digest = hashlib.sha256(data[: max(size - SIGNATURE_BYTES, 0)]).digest()
        signature, head = data[size - SIGNATURE_BYTES :], data[: 1 << 20]
    else:
        data.seek(0, 2)
        size = data.tell()
        data.seek(0)
        hasher = hashlib.sha256()
        remaining = max(size - SIGNATURE_BYTES, 0)
        while remaining:
            block = data.read(min(_BLOCK, remaining))
            if not block:
                break
            hasher.update(block)
            remaining -= len(block)
        digest = hasher.digest()
        signature = data.read(SIGNATURE_BYTES)
        data.seek(0)
        head = data.read(1 << 20)
    if size < len(MAGIC) + _LENGTH.size + SIGNATURE_BYTES or head[: len(MAGIC)] != MAGIC:
        raise Refused(f"the {what} is not a bordercheck edge file (truncated or another format)")
    if not verify(public_key, _CONTEXT + digest, signature):
        raise Refused(
            f"the {what} fails its signature check: it was altered, truncated, or signed by "
            "another centre than the one this kit was set up with"
        )
    (length,) = _LENGTH.unpack_from(head, len(MAGIC))
    start = len(MAGIC) + _LENGTH.size
    header: dict[str, Any] = json.loads(head[start : start + length])
    return header, start + length
