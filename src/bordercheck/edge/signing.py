"""The deployment's edge keys: Ed25519 signs what the centre sends to kits, X25519 seals
what kits send back (queued queries), so that only the centre can read a kit's queue.

One key file holds both private keys (two PEM blocks), created by ``bordercheck edge keygen``
and named by ``BORDERCHECK_EDGE_SIGNING_KEY``. Development may run without one: the keys are
then derived from the secret key, which production refuses.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bordercheck.errors import BordercheckError, ServiceUnavailable
from bordercheck.settings import Settings

_SEAL_INFO = b"bordercheck edge queue seal v1"


class KeyFileError(BordercheckError):
    """The edge key file is missing, unreadable or not an edge key file."""

    code = "edge_keys"


@dataclass(frozen=True)
class EdgeKeys:
    signing: Ed25519PrivateKey
    sealing: X25519PrivateKey

    @property
    def public_signing(self) -> bytes:
        return self.signing.public_key().public_bytes_raw()

    @property
    def public_sealing(self) -> bytes:
        return self.sealing.public_key().public_bytes_raw()

    def sign(self, digest: bytes) -> bytes:
        return self.signing.sign(digest)

    def open_sealed(self, sealed: bytes) -> bytes:
        """The plaintext of ``seal(public_sealing, ...)``; ValueError when it was not."""
        if len(sealed) < 32 + 16:
            raise ValueError("sealed entry too short")
        ephemeral = X25519PublicKey.from_public_bytes(sealed[:32])
        key = _seal_key(self.sealing.exchange(ephemeral), sealed[:32], self.public_sealing)
        try:
            return ChaCha20Poly1305(key).decrypt(b"\0" * 12, sealed[32:], None)
        except InvalidTag:
            raise ValueError("sealed entry fails its authentication tag") from None


def generate() -> EdgeKeys:
    return EdgeKeys(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())


def write_key_file(path: Path, keys: EdgeKeys) -> None:
    """Both private keys, readable by the owner only; never overwrites an existing file."""
    pem = b"".join(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        for key in (keys.signing, keys.sealing)
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def read_key_file(path: Path) -> EdgeKeys:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the edge key file {path}: {exc.strerror}") from None
    end = b"-----END PRIVATE KEY-----"
    blocks = [block + end for block in text.split(end) if block.strip()]
    try:
        keys = [serialization.load_pem_private_key(block, password=None) for block in blocks]
    except ValueError:
        raise KeyFileError(f"{path} is not an edge key file (bordercheck edge keygen)") from None
    if (
        len(keys) != 2
        or not isinstance(keys[0], Ed25519PrivateKey)
        or not isinstance(keys[1], X25519PrivateKey)
    ):
        raise KeyFileError(f"{path} is not an edge key file (bordercheck edge keygen)")
    return EdgeKeys(keys[0], keys[1])


def deployment_keys(settings: Settings) -> EdgeKeys:
    """The keys of this deployment; outside dev and test a key file is required."""
    if settings.edge_signing_key is not None:
        return read_key_file(settings.edge_signing_key)
    if settings.env == "production":
        raise ServiceUnavailable(
            "edge kits are not served: set BORDERCHECK_EDGE_SIGNING_KEY to a key file made "
            "by `bordercheck edge keygen`"
        )
    # Outside production, derived from the installation's secret key, which is generated
    # (never a constant in the source): the same keys across restarts, unique to this checkout.
    seed = hashlib.blake2b(settings.secret_key.encode(), person=b"bc-edge-devkeys").digest()
    return EdgeKeys(
        Ed25519PrivateKey.from_private_bytes(seed[:32]),
        X25519PrivateKey.from_private_bytes(seed[32:]),
    )


def verify(public_signing: bytes, digest: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_signing).verify(signature, digest)
    except (InvalidSignature, ValueError):
        return False
    return True


def seal(public_sealing: bytes, plaintext: bytes) -> bytes:
    """Encrypt to the centre: an ephemeral X25519 key, HKDF, ChaCha20-Poly1305."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_sealing))
    mine = ephemeral.public_key().public_bytes_raw()
    key = _seal_key(shared, mine, public_sealing)
    # A fresh key per entry, so a fixed nonce is safe.
    return mine + ChaCha20Poly1305(key).encrypt(b"\0" * 12, plaintext, None)


def _seal_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral + recipient, info=_SEAL_INFO).derive(shared)


def fingerprint(public_signing: bytes) -> str:
    """A short text to compare the pinned key out of band (``edge status`` shows it)."""
    return hashlib.sha256(public_signing).hexdigest()[:32]
