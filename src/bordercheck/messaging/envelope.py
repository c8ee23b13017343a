"""Envelope encryption: a random AES-256-GCM data key per message, wrapped by a master key.

Rotating the master key re-wraps the small data keys and leaves bodies and attachments as
they are. Every ciphertext is bound to what it is (``purpose``, the AES-GCM associated data),
so a body cannot be passed off as an attachment or a subject, nor a wrapped key moved to
another key id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bordercheck.messaging.keyring import KEY_BYTES, KeyList

NONCE_BYTES = 12


class Unreadable(Exception):
    """A ciphertext that cannot be opened: its key is not configured, or it was altered."""


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    wrapped: bytes


class Envelopes:
    """Makes, wraps and unwraps data keys with the configured master keys."""

    def __init__(self, master_keys: KeyList) -> None:
        self._keys = master_keys

    @property
    def current_id(self) -> str:
        return self._keys.current_id

    def new_data_key(self) -> tuple[bytes, WrappedKey]:
        data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        return data_key, self.wrap(data_key)

    def wrap(self, data_key: bytes) -> WrappedKey:
        key_id = self._keys.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._keys.current).encrypt(nonce, data_key, _wrap_purpose(key_id))
        return WrappedKey(key_id, nonce + sealed)

    def unwrap(self, key: WrappedKey) -> bytes:
        master = self._keys.keys.get(key.key_id)
        if master is None:
            raise Unreadable(f"message key {key.key_id!r} is not in BORDERCHECK_MESSAGE_KEYS")
        try:
            return AESGCM(master).decrypt(
                key.wrapped[:NONCE_BYTES], key.wrapped[NONCE_BYTES:], _wrap_purpose(key.key_id)
            )
        except InvalidTag:
            raise Unreadable(f"a data key wrapped by {key.key_id!r} was altered") from None

    def rewrap(self, key: WrappedKey) -> WrappedKey:
        """The same data key, wrapped by the current master key."""
        return self.wrap(self.unwrap(key))


def _wrap_purpose(key_id: str) -> bytes:
    return f"bordercheck data key:{key_id}".encode()


def seal(data_key: bytes, plaintext: bytes, purpose: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, purpose.encode())


def unseal(data_key: bytes, sealed: bytes, purpose: str) -> bytes:
    try:
        return AESGCM(data_key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], purpose.encode()
        )
    except InvalidTag:
        raise Unreadable(f"the {purpose} was altered") from None


def digest(data_key: bytes, *parts: bytes) -> bytes:
    """A digest of the plaintext keyed by the message's data key.

    Signatures cover these digests, not plain hashes: a signature sits in the table in the
    clear, and with a plain hash anyone holding the table and the public key could confirm a
    guessed body ("confirmed", "not confirmed"). Only a reader of the message can recompute it.
    """
    mac = hmac.new(data_key, digestmod=hashlib.sha256)
    for part in parts:
        mac.update(len(part).to_bytes(8, "big"))  # lengths first: no two splits collide
        mac.update(part)
    return mac.digest()
