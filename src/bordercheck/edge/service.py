"""Kits at the centre: registering, finding the caller's kit, revoking, listing.

Each kit has a secret of its own (32 random bytes) from which it derives its lookup and
payload keys (``rows.KitKeys``). The centre needs it to build the kit's snapshots and
bundles, so it keeps it, wrapped with AES-GCM under a key derived from the deployment's
secret key; a copy of the table alone gives no kit's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth import service as auth_service
from bordercheck.auth.tokens import Principal
from bordercheck.edge.models import EdgeKit
from bordercheck.errors import BordercheckError, Forbidden, NotFound

KIT_ID_PREFIX = "kit_"


class KitRevoked(Forbidden):
    code = "kit_revoked"


def wrapping_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"bordercheck edge kit secrets", hashlib.sha256).digest()


def _wrap(key: bytes, kit_id: str, secret: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, secret, kit_id.encode())).decode()


def kit_secret(kit: EdgeKit, key: bytes) -> bytes:
    raw = base64.b64decode(kit.secret_wrapped)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], kit.kit_id.encode())
    except InvalidTag:
        raise BordercheckError(
            f"kit {kit.kit_id}'s secret cannot be unwrapped: BORDERCHECK_SECRET_KEY changed "
            "since it was registered; register the kit again"
        ) from None


def register_kit(session: Session, principal: Principal, key: bytes) -> tuple[EdgeKit, bytes]:
    """A new kit for the calling API client, and its secret (returned this once)."""
    if principal.kind != "client":
        raise Forbidden("kits sign in as API clients (bordercheck clients add), not as people")
    client = auth_service.get_client(session, principal.id)
    secret = secrets.token_bytes(32)
    kit_id = KIT_ID_PREFIX + secrets.token_hex(10)
    kit = EdgeKit(
        kit_id=kit_id,
        client_id=client.client_id,
        bureau_code=principal.bureau_code,
        secret_wrapped=_wrap(key, kit_id, secret),
        registered_at=datetime.now(UTC),
    )
    session.add(kit)
    session.flush()
    record_event(
        session,
        actor=f"client:{principal.id}",
        bureau_code=principal.bureau_code,
        action="edge.kit_registered",
        subject=f"kit:{kit_id}",
        details={"client_id": principal.id},
    )
    return kit, secret


def get_kit(session: Session, kit_id: str) -> EdgeKit:
    kit = session.scalar(select(EdgeKit).where(EdgeKit.kit_id == kit_id.strip()))
    if kit is None:
        raise NotFound(f"there is no kit {kit_id!r}", kit_id=kit_id)
    return kit


def kit_of(session: Session, principal: Principal, kit_id: str | None) -> EdgeKit:
    """The caller's own kit, if it is not revoked; anything else is refused."""
    if not kit_id:
        raise Forbidden("name the kit: send the header X-Edge-Kit with the kit's id")
    kit = session.scalar(select(EdgeKit).where(EdgeKit.kit_id == kit_id.strip()))
    if kit is None or principal.kind != "client" or kit.client_id != principal.id:
        raise Forbidden(f"kit {kit_id!r} is not registered to this client")
    if kit.revoked_at is not None:
        raise KitRevoked(
            f"kit {kit.kit_id} was revoked on {kit.revoked_at:%Y-%m-%d %H:%M} UTC; it gets "
            "nothing more from the centre"
        )
    return kit


def revoke_kit(session: Session, kit_id: str, actor: str) -> EdgeKit:
    kit = get_kit(session, kit_id)
    if kit.revoked_at is None:
        kit.revoked_at = datetime.now(UTC)
        record_event(
            session,
            actor=actor,
            bureau_code=kit.bureau_code,
            action="edge.kit_revoked",
            subject=f"kit:{kit.kit_id}",
        )
    return kit


def list_kits(session: Session) -> list[EdgeKit]:
    return list(session.scalars(select(EdgeKit).order_by(EdgeKit.registered_at, EdgeKit.id)))


def note_snapshot(session: Session, kit_id: str) -> None:
    """The kit was issued a snapshot: after a restore, its bundles are answered again."""
    get_kit(session, kit_id).needs_snapshot = False


def after_restore(session: Session) -> int:
    """Every kit of a database just restored from a backup: a new epoch, and a new snapshot
    before any bundle. How many kits there are."""
    kits = session.scalars(select(EdgeKit)).all()
    for kit in kits:
        kit.feed_epoch = secrets.token_hex(8)
        kit.needs_snapshot = True
    return len(kits)


def note_sync(session: Session, kit_id: str, sequence: int) -> None:
    """The kit asked for changes after ``sequence``: it holds everything up to there."""
    kit = get_kit(session, kit_id)
    if kit.last_sync_seq is None or sequence >= kit.last_sync_seq:
        kit.last_sync_seq = sequence
    kit.last_sync_at = datetime.now(UTC)
