"""A bureau's webhook: where its own systems take hit events, and how the events are signed.

Each event is POSTed as JSON with two headers: ``X-Bordercheck-Timestamp`` (Unix seconds) and
``X-Bordercheck-Signature: sha256=HEX``, the HMAC-SHA256 of ``TIMESTAMP.BODY`` under the
bureau's webhook secret. The receiver recomputes it over the raw body, compares in constant
time, and refuses old timestamps, so a captured event cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth.actors import Actor
from bordercheck.errors import FieldError, NotFound, ValidationFailed
from bordercheck.hits.models import Delivery, Webhook

SIGNATURE_HEADER = "X-Bordercheck-Signature"
TIMESTAMP_HEADER = "X-Bordercheck-Timestamp"
EVENT_HEADER = "X-Bordercheck-Event"
DELIVERY_HEADER = "X-Bordercheck-Delivery"
MAX_URL_LENGTH = 500


class UnreadableSecret(Exception):
    """The stored secret was encrypted under another secret key (the key was rotated)."""


@dataclass(frozen=True)
class NewWebhook:
    webhook: Webhook
    secret: str  # shown once, when the webhook is set


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def check_url(url: str, *, production: bool, training: bool = False) -> str:
    """The URL if events may be sent to it; a clear 422 naming ``url`` if not."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as exc:
        raise _bad_url(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise _bad_url("must start with https:// (or http:// outside production)")
    if production and parts.scheme != "https":
        raise _bad_url("must use https:// in production: events name cases and records")
    if not parts.hostname:
        raise _bad_url("has no host")
    if parts.username or parts.password:
        # It would be shown back in GET answers and logs; the signature authenticates us.
        raise _bad_url("must not carry a user name or password")
    if parts.fragment:
        raise _bad_url("must not have a #fragment")
    if len(url) > MAX_URL_LENGTH:
        raise _bad_url(f"is longer than {MAX_URL_LENGTH} characters")
    if production and _names_this_network(parts.hostname):
        # The servers would POST into their own network for whoever sets the webhook.
        raise _bad_url("must name a public host: not a loopback, private or link-local address")
    if training and not names_loopback(parts.hostname):
        # Nothing a sandbox does may reach a real bureau's systems (docs/training.md).
        raise _bad_url(
            "must name this machine (localhost, 127.0.0.1 or ::1): a training sandbox sends "
            "events nowhere else"
        )
    return url


def names_loopback(host: str) -> bool:
    """``localhost`` or a loopback address literal."""
    host = host.rstrip(".").lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolves_to_loopback(url: str) -> bool:
    """Whether the URL's host is this machine, as named and as resolved now."""
    host = urlsplit(url).hostname or ""
    if not names_loopback(host):
        return False
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return True  # does not resolve: the attempt fails as any unreachable host does
    return all(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]).is_loopback
               for info in found)  # fmt: skip


def _names_this_network(host: str) -> bool:
    """A loopback name, or an address literal that is not public (the name is checked
    again, resolved, before each delivery: see ``resolves_to_public``)."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not _is_public(ipaddress.ip_address(host))
    except ValueError:
        return False  # a name


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolves_to_public(url: str) -> bool:
    """Whether every address the URL's host resolves to is public (a name may resolve to
    an internal address today that was public when the webhook was set)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _names_this_network(host):
        return False
    try:
        found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return True  # does not resolve: the attempt fails as any unreachable host does
    addresses = {info[4][0] for info in found}
    return all(_is_public(ipaddress.ip_address(str(a).split("%", 1)[0])) for a in addresses)


def set_webhook(
    session: Session, actor: Actor, bureau: str, url: str, *, secret_key: str, production: bool,
    now: datetime, training: bool = False,
) -> NewWebhook:  # fmt: skip
    """Set (or replace) the bureau's webhook, with a new signing secret, shown once
    (``training``: in a sandbox, whose events go only to this machine)."""
    url = check_url(url, production=production, training=training)
    secret = "whsec_" + secrets.token_urlsafe(32)
    encrypted = _cipher(secret_key).encrypt(secret.encode()).decode()
    hook = session.scalar(select(Webhook).where(Webhook.bureau_code == bureau))
    if hook is None:
        hook = Webhook(bureau_code=bureau)
        session.add(hook)
    hook.url, hook.secret_encrypted = url, encrypted
    hook.created_at, hook.created_by = now, actor.name
    session.flush()
    record_event(
        session,
        actor=actor.name,
        bureau_code=bureau,
        action="hit.webhook_set",
        subject=f"webhook:{bureau}",
        details={"host": urlsplit(url).hostname},
    )
    return NewWebhook(hook, secret)


def get_webhook(session: Session, bureau: str) -> Webhook:
    hook = session.scalar(select(Webhook).where(Webhook.bureau_code == bureau))
    if hook is None:
        raise NotFound(f"bureau {bureau} has no webhook; PUT /api/v1/hits/webhook sets one")
    return hook


def remove_webhook(session: Session, actor: Actor, bureau: str) -> None:
    """Stop sending events; those still in the outbox fail at their next attempt."""
    get_webhook(session, bureau)
    session.execute(delete(Webhook).where(Webhook.bureau_code == bureau))
    record_event(
        session,
        actor=actor.name,
        bureau_code=bureau,
        action="hit.webhook_removed",
        subject=f"webhook:{bureau}",
    )


def secret_of(hook: Webhook, secret_key: str) -> str:
    try:
        return _cipher(secret_key).decrypt(hook.secret_encrypted.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(hook.bureau_code) from None


def _cipher(secret_key: str) -> Fernet:
    # A key of its own, derived from the secret key: nothing else it signs can decrypt these.
    derived = hmac.new(secret_key.encode(), b"bordercheck webhook secrets v1", hashlib.sha256)
    return Fernet(base64.urlsafe_b64encode(derived.digest()))


def _bad_url(reason: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError("url", reason)])


def list_deliveries(
    session: Session, bureau: str, *, state: str | None = None, limit: int = 100
) -> list[Delivery]:
    """The bureau's webhook events, newest first: failed ones say why."""
    query = select(Delivery).where(Delivery.bureau_code == bureau)
    if state is not None:
        query = query.where(Delivery.state == state)
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))
