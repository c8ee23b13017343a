"""The formats of the keys settings carry, checked when settings load.

Kept free of other bordercheck imports, as ``strength``: the settings module uses both, and
imports no domain. Messaging (``messaging.keyring``) and the audit trail (``audit.keys``) read
their keys with these.
"""

from __future__ import annotations

import base64
import binascii
import re

KEY_BYTES = 32
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


def parse_key_list(text: str) -> list[tuple[str, bytes]]:
    """``[(key_id, key)]`` in the order given; ValueError naming the entry (never the key)."""
    keys: list[tuple[str, bytes]] = []
    for number, entry in enumerate((e.strip() for e in text.split(",") if e.strip()), 1):
        key_id, colon, encoded = entry.partition(":")
        if not colon or not KEY_ID.fullmatch(key_id):
            raise ValueError(
                f"entry {number} must be KEY_ID:BASE64KEY with a key id of 1 to 32 letters, "
                "digits, '.', '_' or '-'"
            )
        try:
            key = base64.b64decode(
                encoded.strip() + "=" * (-len(encoded.strip()) % 4), altchars=b"-_"
            )
        except (binascii.Error, ValueError):
            raise ValueError(f"key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"key {key_id!r} must be {KEY_BYTES} random bytes, not {len(key)}")
        if any(key_id == seen for seen, _ in keys):
            raise ValueError(f"key id {key_id!r} is listed twice")
        keys.append((key_id, key))
    return keys


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
