"""Message keys from settings: ``"id:base64key,id2:base64key"``, the first one current.

Kept free of other bordercheck imports: the settings module checks the format with
``parse_key_list`` when it loads, so a bad key stops the program before it serves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

KEY_BYTES = 32
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
# The key id of keys derived from the installation's (generated) secret key, used when no
# message keys are set, which production refuses.
DEV_KEY_ID = "dev"


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


def derived_key(secret_key: str, purpose: str) -> bytes:
    """A key for ``purpose`` derived from the installation's generated secret key.

    For dev and test only: production requires keys of their own, so that the message keys
    can be rotated without the secret key and the other way round.
    """
    return hmac.new(
        secret_key.encode(), f"bordercheck {purpose} v1".encode(), hashlib.sha256
    ).digest()


@dataclass(frozen=True)
class KeyList:
    """Keys by id; ``current_id`` names the one new material is protected with."""

    keys: dict[str, bytes]
    current_id: str

    @classmethod
    def from_setting(cls, text: str, *, secret_key: str, purpose: str) -> KeyList:
        parsed = parse_key_list(text)
        if not parsed:
            parsed = [(DEV_KEY_ID, derived_key(secret_key, purpose))]
        return cls(dict(parsed), parsed[0][0])

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]
