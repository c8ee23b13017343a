"""Sending the webhook outbox: POST each due event, retry with exponential backoff, give up
after the last attempt and mark the event failed, for the bureau to see.

No transaction is held while POSTing (a receiver may take seconds to answer): due events
are claimed in one short transaction, which moves them out of reach of other workers for a
lease, sent, and their results written in another. An event is therefore sent at least
once; receivers drop repeats by ``X-Bordercheck-Delivery``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx2
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.db import Database
from bordercheck.hits.models import Delivery, DeliveryState, Webhook
from bordercheck.hits.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    UnreadableSecret,
    resolves_to_loopback,
    resolves_to_public,
    secret_of,
    sign,
)
from bordercheck.installation import TRAINING_HEADER
from bordercheck.logs import get_logger
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

log = get_logger(__name__)
CLAIM_BATCH = 50
ERROR_LENGTH = 300
# What a bureau sees of a failed attempt: whether its receiver answered, and with which
# status, but never whether a connection was refused, reset or timed out. That would let
# anyone who may set a webhook map which internal ports are open; the detail goes to the
# server's log, at DEBUG, under the webhook's id.
NOT_DELIVERED = "could not deliver"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base: timedelta
    cap: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.webhook_max_attempts,
            base=timedelta(seconds=settings.webhook_retry_base_seconds),
            cap=timedelta(seconds=settings.webhook_retry_max_seconds),
        )

    def delay_after(self, attempts: int) -> timedelta:
        """Wait base, 2×base, 4×base … after the 1st, 2nd, 3rd failed attempt, up to cap."""
        delay: timedelta = self.base * 2 ** min(attempts - 1, 30)
        return min(delay, self.cap)


@dataclass(frozen=True)
class Claimed:
    """A due event, with where to send it; ``problem`` says why it cannot be sent at all."""

    id: int
    bureau_code: str
    event: str
    payload: str
    attempts: int
    url: str | None
    secret: str | None
    problem: str | None = None
    webhook_id: int | None = None


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def has_due(session: Session, now: datetime) -> bool:
    query = select(Delivery.id).where(
        Delivery.state == DeliveryState.PENDING.value, Delivery.next_attempt_at <= now
    )
    return session.scalar(query.limit(1)) is not None


def claim_due(
    session: Session, now: datetime, *, secret_key: str, lease: timedelta, limit: int = CLAIM_BATCH
) -> list[Claimed]:
    """Due events, moved ``lease`` into the future so that no other worker sends them too."""
    due = session.scalars(
        select(Delivery)
        .where(Delivery.state == DeliveryState.PENDING.value, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return []
    bureaus = {d.bureau_code for d in due}
    hooks = {
        h.bureau_code: h
        for h in session.scalars(select(Webhook).where(Webhook.bureau_code.in_(bureaus)))
    }
    claimed = []
    for delivery in due:
        delivery.next_attempt_at = now + lease
        hook = hooks.get(delivery.bureau_code)
        url = secret = problem = None
        if hook is None:
            problem = "the bureau's webhook was removed"
        else:
            url = hook.url
            try:
                secret = secret_of(hook, secret_key)
            except UnreadableSecret:
                problem = "the webhook secret cannot be read (secret key changed?): set it again"
        claimed.append(
            Claimed(delivery.id, delivery.bureau_code, delivery.event, delivery.payload,
                    delivery.attempts, url, secret, problem,
                    webhook_id=hook.id if hook is not None else None)
        )  # fmt: skip
    return claimed


def record_results(
    session: Session,
    results: Sequence[tuple[Claimed, str | None]],
    now: datetime,
    policy: RetryPolicy,
    report: DeliveryReport,
) -> None:
    """Write how each attempt went (``None``: delivered; else the error)."""
    for claimed, error in results:
        delivery = session.get(Delivery, claimed.id)
        if delivery is None or delivery.state != DeliveryState.PENDING.value:
            continue
        delivery.attempts += 1
        if error is None:
            delivery.state, delivery.delivered_at, delivery.last_error = "delivered", now, None
            report.delivered += 1
            continue
        delivery.last_error = error[:ERROR_LENGTH]
        if claimed.problem is not None or delivery.attempts >= policy.max_attempts:
            delivery.state = DeliveryState.FAILED.value
            report.failed += 1
            log.warning(
                "webhook event failed for good",
                delivery=delivery.id,
                webhook=claimed.webhook_id,
                bureau=delivery.bureau_code,
                attempts=delivery.attempts,
                error=error,
            )
        else:
            delivery.next_attempt_at = now + policy.delay_after(delivery.attempts)
            report.retrying += 1


def post(
    client: httpx2.Client,
    claimed: Claimed,
    timestamp: int,
    *,
    public_only: bool = False,
    training: str | None = None,
) -> str | None:
    """POST one event; ``None`` if the receiver took it (2xx), else what the bureau is told
    went wrong (see ``NOT_DELIVERED``). A sandbox's (``training``) go only to this machine."""
    if claimed.problem is not None or claimed.url is None or claimed.secret is None:
        return claimed.problem or "nowhere to send it"
    if training is not None and not resolves_to_loopback(claimed.url):
        log.info("webhook not sent: a training sandbox sends events only to this machine",
                 delivery=claimed.id, webhook=claimed.webhook_id)  # fmt: skip
        return NOT_DELIVERED
    if public_only and not resolves_to_public(claimed.url):
        log.info("webhook not sent: its host resolves to an internal address",
                 delivery=claimed.id, webhook=claimed.webhook_id)  # fmt: skip
        return NOT_DELIVERED
    body = claimed.payload.encode()
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(claimed.secret, timestamp, body),
        EVENT_HEADER: claimed.event,
        DELIVERY_HEADER: str(claimed.id),
    }
    if training is not None:
        headers[TRAINING_HEADER] = training
    try:
        response = client.post(claimed.url, content=body, headers=headers)
    except httpx2.HTTPError as exc:
        # The exception's text, not the URL: a receiver's URL may carry a token of its own.
        log.debug("webhook attempt failed", delivery=claimed.id, webhook=claimed.webhook_id,
                  error=f"{type(exc).__name__}: {exc}")  # fmt: skip
        return NOT_DELIVERED
    if 200 <= response.status_code < 300:
        return None
    if 300 <= response.status_code < 400:
        return f"{NOT_DELIVERED}: HTTP {response.status_code} (redirects are not followed)"
    return f"{NOT_DELIVERED}: HTTP {response.status_code}"


class Courier:
    """Sends the outbox of one database; used by the API's worker thread and the command."""

    def __init__(
        self, database: Database, settings: Settings, client: httpx2.Client | None = None
    ) -> None:
        self.database = database
        self.secret_key = settings.secret_key
        self.policy = RetryPolicy.from_settings(settings)
        timeout = settings.webhook_timeout_seconds
        # The lease outlasts the longest a batch of POSTs can take.
        self.lease = timedelta(seconds=timeout * CLAIM_BATCH + 60)
        self.client = client or httpx2.Client(timeout=timeout, follow_redirects=False)
        # In production events go only to public addresses (checked as resolved, each time).
        self.public_only = settings.env == "production"
        self.training = settings.training_sandbox

    def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Send every event due at ``now`` (default: the current time)."""
        report = DeliveryReport()
        while True:
            moment = now or utcnow()
            with self.database.session() as session:
                # A read first: on SQLite the write lock is taken only when there is work.
                if not has_due(session, moment):
                    return report
            with self.database.session(write=True) as session:
                claimed = claim_due(session, moment, secret_key=self.secret_key, lease=self.lease)
            if not claimed:
                return report
            stamp = int(moment.timestamp()) if now is not None else int(time.time())
            results = [
                (c, post(self.client, c, stamp, public_only=self.public_only,
                         training=self.training))
                for c in claimed
            ]  # fmt: skip
            with self.database.session(write=True) as session:
                record_results(session, results, moment, self.policy, report)

    def close(self) -> None:
        self.client.close()
