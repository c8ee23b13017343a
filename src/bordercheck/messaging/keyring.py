"""Message keys from settings: ``"id:base64key,id2:base64key"``, the first one current.

The settings module checks the format with ``parse_key_list`` (``keys.formats``) when it
loads, so a bad key stops the program before it serves.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from bordercheck.keys.formats import KEY_BYTES as KEY_BYTES
from bordercheck.keys.formats import parse_key_list

# The key id of keys derived from the installation's (generated) secret key, used when no
# message keys are set, which production refuses.
DEV_KEY_ID = "dev"


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
