"""Signed checkpoints of the chain's head, kept outside the database.

A checkpoint is what a transparency log calls a signed tree head: the sequence and hash of
the last entry, the number of entries, the time, and an Ed25519 signature by a key the
database never holds. Whoever keeps checkpoints can later show that the chain still passes
through each of them: an entry removed, altered or reordered since, even by someone who holds
the secret key and recomputes the whole chain, no longer leads to the signed hash.

A checkpoint is one JSON object on one line, so that files of them can be appended to,
shipped by log collectors and read by an outside witness.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bordercheck.audit.chain import Pin, canonical_time
from bordercheck.audit.keys import fingerprint, parse_audit_keys
from bordercheck.errors import BordercheckError

VERSION = 1
# Signed before the fields, so that a checkpoint signature means nothing anywhere else.
CONTEXT = b"bordercheck audit checkpoint v1\n"
FILE_GLOB = "checkpoints-*.jsonl"
_FIELDS = ("v", "seq", "hash", "entries", "at", "key_id", "public_key")


class CheckpointError(BordercheckError):
    """A checkpoint file cannot be read as checkpoints (bad input, not tampering)."""

    code = "checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    entries: int
    at: datetime
    key_id: str
    public_key: bytes
    signature: bytes

    def signed_fields(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "seq": self.seq,
            "hash": self.hash,
            "entries": self.entries,
            "at": canonical_time(self.at),
            "key_id": self.key_id,
            "public_key": base64.b64encode(self.public_key).decode(),
        }

    def to_line(self) -> str:
        fields = self.signed_fields() | {"signature": base64.b64encode(self.signature).decode()}
        return json.dumps(fields, separators=(",", ":")) + "\n"

    def describe(self) -> str:
        return f"the checkpoint of {canonical_time(self.at)} (key {self.key_id})"

    def pin(self) -> Pin:
        return Pin(self.seq, self.hash, self.describe())


def _message(fields: dict[str, Any]) -> bytes:
    return CONTEXT + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


class CheckpointSigner:
    """Signs checkpoints with the installation's audit signing key."""

    def __init__(self, seed: bytes) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key().public_bytes_raw()
        self.key_id = fingerprint(self.public_key)

    @classmethod
    def from_setting(cls, text: str) -> CheckpointSigner | None:
        keys = parse_audit_keys(text)
        return cls(keys[0]) if keys else None

    def sign(self, seq: int, hash_: str, at: datetime) -> Checkpoint:
        unsigned = Checkpoint(seq, hash_, seq, at, self.key_id, self.public_key, b"")
        signature = self._private.sign(_message(unsigned.signed_fields()))
        return Checkpoint(seq, hash_, seq, at, self.key_id, self.public_key, signature)


def trusted_keys(signing_key: str, public_keys: Iterable[str]) -> dict[str, bytes]:
    """Public keys by id: the signing key's own, and those given to verify older checkpoints."""
    keys: dict[str, bytes] = {}
    signer = CheckpointSigner.from_setting(signing_key)
    if signer is not None:
        keys[signer.key_id] = signer.public_key
    for text in public_keys:
        for key in parse_audit_keys(text):
            keys[fingerprint(key)] = key
    return keys


@dataclass(frozen=True)
class Refusal:
    """A checkpoint that must not be believed: where it is and why."""

    where: str
    reason: str


def parse_line(line: str, where: str) -> Checkpoint:
    """One checkpoint from its JSON line; CheckpointError naming ``where`` and what is wrong."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{where} is not a checkpoint: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{where} is not a checkpoint: not a JSON object")
    missing = [name for name in (*_FIELDS, "signature") if name not in data]
    if missing:
        raise CheckpointError(f"{where} is not a checkpoint: missing {', '.join(missing)}")
    if data["v"] != VERSION:
        raise CheckpointError(f"{where}: checkpoint version {data['v']!r} is not {VERSION}")
    try:
        seq, entries = int(data["seq"]), int(data["entries"])
        at = datetime.strptime(str(data["at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        public_key = base64.b64decode(str(data["public_key"]), validate=True)
        signature = base64.b64decode(str(data["signature"]), validate=True)
    except (TypeError, ValueError, binascii.Error) as exc:
        raise CheckpointError(f"{where} is not a checkpoint: {exc}") from None
    return Checkpoint(
        seq, str(data["hash"]), entries, at, str(data["key_id"]), public_key, signature
    )


def check_signature(
    checkpoint: Checkpoint, trusted: dict[str, bytes], where: str
) -> Refusal | None:
    """None when a trusted key signed exactly these fields; else why it is refused."""
    key = trusted.get(checkpoint.key_id)
    if key is None or key != checkpoint.public_key:
        return Refusal(
            where,
            f"signed by key {checkpoint.key_id}, which is not a trusted audit key "
            "(BORDERCHECK_AUDIT_SIGNING_KEY, BORDERCHECK_AUDIT_PUBLIC_KEYS or --public-key)",
        )
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(
            checkpoint.signature, _message(checkpoint.signed_fields())
        )
    except InvalidSignature:
        return Refusal(
            where,
            f"its signature does not verify with key {checkpoint.key_id}: it was altered or forged",
        )
    if checkpoint.entries != checkpoint.seq:
        return Refusal(
            where, f"it counts {checkpoint.entries} entries up to entry {checkpoint.seq}"
        )
    return None


@dataclass(frozen=True)
class CheckpointFile:
    checkpoints: list[Checkpoint]
    refusals: list[Refusal]


def checkpoint_paths(path: Path) -> list[Path]:
    """A file, or every checkpoint file in a directory (oldest first, by name)."""
    if path.is_dir():
        return sorted(path.glob(FILE_GLOB))
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file or directory")
    return [path]


def read_checkpoints(paths: Sequence[Path], trusted: dict[str, bytes]) -> CheckpointFile:
    """Every checkpoint in ``paths``, each checked against the trusted keys."""
    found, refusals = [], []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{path}: cannot be read ({exc})") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            checkpoint = parse_line(line, where)
            refusal = check_signature(checkpoint, trusted, where)
            if refusal is None:
                found.append(checkpoint)
            else:
                refusals.append(refusal)
    return CheckpointFile(found, refusals)


def latest_own(paths: Sequence[Path], signer: CheckpointSigner) -> Checkpoint | None:
    """The furthest checkpoint in ``paths`` that this signer made and that still verifies.

    A line that does not parse or verify is skipped here: the next checkpoint is then
    chained from an earlier one (or from the start), which checks more, never less.
    """
    trusted = {signer.key_id: signer.public_key}
    best: Checkpoint | None = None
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            try:
                checkpoint = parse_line(line, str(path))
            except CheckpointError:
                continue
            if check_signature(checkpoint, trusted, str(path)) is None and (
                best is None or checkpoint.seq > best.seq
            ):
                best = checkpoint
    return best


def append_line(path: Path, line: str) -> None:
    """Append in one write: several processes may append to the same file at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def daily_file(directory: Path, at: datetime) -> Path:
    """One file per UTC day: easy to ship off, and old days are never written again."""
    return directory / f"checkpoints-{at.astimezone(UTC):%Y-%m-%d}.jsonl"
