"""The message keys of a deployment, built once per process from its settings."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bordercheck.messaging.envelope import Envelopes
from bordercheck.messaging.keyring import KeyList
from bordercheck.messaging.signatures import Signer
from bordercheck.settings import Settings


@dataclass(frozen=True)
class MessageCrypto:
    envelopes: Envelopes
    signer: Signer

    @classmethod
    def from_settings(cls, settings: Settings) -> MessageCrypto:
        return _crypto(settings.message_keys, settings.message_signing_keys, settings.secret_key)


@functools.cache
def _crypto(message_keys: str, signing_keys: str, secret_key: str) -> MessageCrypto:
    return MessageCrypto(
        Envelopes(KeyList.from_setting(message_keys, secret_key=secret_key, purpose="message key")),
        Signer(
            KeyList.from_setting(signing_keys, secret_key=secret_key, purpose="message signing key")
        ),
    )
