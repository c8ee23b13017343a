"""Ed25519 signatures over a message's sender, time, thread and content digests.

Ed25519 rather than an HMAC: whoever verifies a message (an auditor, a court, another
system) needs only the public key, which cannot forge one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bordercheck.messaging.keyring import KeyList

SIGNATURE_VERSION = 1


@dataclass(frozen=True)
class SignedFields:
    """What a signature vouches for; the digests come from ``envelope.digest``."""

    thread_id: int
    sender_bureau: str
    sender_user: str
    created_at: datetime
    body_digest: bytes
    attachment_digests: tuple[bytes, ...] = ()

    def canonical(self) -> bytes:
        at = self.created_at.astimezone(UTC)
        return orjson.dumps(
            {
                "v": SIGNATURE_VERSION,
                "thread": self.thread_id,
                "bureau": self.sender_bureau,
                "user": self.sender_user,
                "at": at.isoformat(timespec="microseconds"),
                "body": self.body_digest.hex(),
                "attachments": [d.hex() for d in self.attachment_digests],
            },
            option=orjson.OPT_SORT_KEYS,
        )


class Signer:
    """Signs with the current signing key; verifies with any configured one."""

    def __init__(self, keys: KeyList) -> None:
        self._private = {
            kid: Ed25519PrivateKey.from_private_bytes(k) for kid, k in keys.keys.items()
        }
        self.current_id = keys.current_id

    def sign(self, fields: SignedFields) -> tuple[str, bytes]:
        return self.current_id, self._private[self.current_id].sign(fields.canonical())

    def verify(self, key_id: str, signature: bytes, fields: SignedFields) -> bool:
        key = self._private.get(key_id)
        if key is None:
            return False
        try:
            key.public_key().verify(signature, fields.canonical())
        except InvalidSignature:
            return False
        return True

    def public_keys(self) -> dict[str, bytes]:
        """Raw 32-byte public keys by id: what a verifier outside bordercheck needs."""
        return {
            kid: key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            for kid, key in self._private.items()
        }
