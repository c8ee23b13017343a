"""The checkpoint keys from settings: Ed25519 seeds and public keys, in standard base64.

Kept free of other bordercheck imports: the settings module checks the format with
``parse_audit_keys`` when it loads, so a bad key stops the program before it serves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

KEY_BYTES = 32


def parse_audit_keys(text: str) -> list[bytes]:
    """Comma-separated 32-byte keys in standard base64; ValueError naming the entry, not key."""
    keys = []
    for number, entry in enumerate((e.strip() for e in text.split(",") if e.strip()), 1):
        try:
            key = base64.b64decode(entry, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"key {number} is not valid standard base64 (with padding)") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"key {number} must be {KEY_BYTES} bytes, not {len(key)}")
        keys.append(key)
    return keys


def fingerprint(public_key: bytes) -> str:
    """A key's id in checkpoints: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]
