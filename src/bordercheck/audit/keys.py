"""The checkpoint keys from settings: Ed25519 seeds and public keys, in standard base64.

The settings module checks the format with ``parse_audit_keys`` (``keys.formats``) when it
loads, so a bad key stops the program before it serves.
"""

from __future__ import annotations

import hashlib

from bordercheck.keys.formats import KEY_BYTES as KEY_BYTES
from bordercheck.keys.formats import parse_audit_keys as parse_audit_keys


def fingerprint(public_key: bytes) -> str:
    """A key's id in checkpoints: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]
