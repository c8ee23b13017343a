"""The console's second factor: a TOTP app (RFC 6238), with one-time recovery codes.

The secret is kept encrypted under a key derived from the installation's secret key, so a
copy of the database alone does not give anyone a person's codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth.models import RecoveryCode, User
from bordercheck.errors import Conflict
from bordercheck.timestamps import utcnow

ISSUER = "bordercheck"
RECOVERY_CODES = 10
# One step either side: a phone's clock a little off, or a code typed as it changed.
DRIFT_STEPS = 1
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off paper


@dataclass(frozen=True)
class Enrolment:
    """A secret offered to a person, not yet confirmed by a code from their app."""

    secret: str

    def grouped(self) -> str:
        """The secret as people type it into an app without a camera."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def new_enrolment() -> Enrolment:
    return Enrolment(pyotp.random_base32())


def enrolment_uri(enrolment: Enrolment, username: str) -> str:
    return pyotp.TOTP(enrolment.secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg_data_uri(text: str) -> str:
    """The QR code of ``text`` as an SVG data: URI (an image, so no script and no request)."""
    svg = segno.make(text, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"bordercheck second factor"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _secret_of(user: User, secret_key: str) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet(secret_key).decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        return None  # encrypted under another key: the person enrols again


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def _step_accepted(secret: str, code: str, last_step: int | None, now: float) -> int | None:
    """The time step whose code ``code`` is, if it is one of the accepted and unused ones."""
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _digits(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())


def confirm_enrolment(
    session: Session, user: User, enrolment: Enrolment, code: str, *, secret_key: str
) -> list[str] | None:
    """Keep the secret if ``code`` comes from it; the new recovery codes (shown once), or None
    when the code is wrong."""
    if enabled(user):
        raise Conflict(f"{user.username} already has a second factor; reset it first")
    step = _step_accepted(enrolment.secret, _digits(code), None, time.time())
    if step is None:
        return None
    user.totp_secret = _fernet(secret_key).encrypt(enrolment.secret.encode()).decode()
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user)
    _audit(session, user.username, user, "auth.second_factor_enrolled")
    return codes


def verify(session: Session, user: User, code: str, *, secret_key: str) -> bool:
    """True once for each good code (from the app, or an unused recovery code)."""
    code = _digits(code)
    secret = _secret_of(user, secret_key)
    if secret is not None and code.isdigit():
        step = _step_accepted(secret, code, user.totp_last_step, time.time())
        if step is not None:
            user.totp_last_step = step
            return True
        return False
    return _use_recovery_code(session, user, code)


def reset(session: Session, user: User, *, actor: str) -> None:
    """Forget a person's second factor (a lost phone): they enrol again at the next sign-in."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _audit(session, actor, user, "auth.second_factor_reset")


def recovery_codes_left(session: Session, user: User) -> int:
    rows = session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(list(rows))


def _hash(code: str) -> str:
    return hashlib.sha256(code.upper().replace("-", "").encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
    return codes


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    if not code or len(code) > 20:
        return False
    row = session.scalar(
        select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code))
        .where(RecoveryCode.used_at.is_(None))
    )
    if row is None:
        return False
    row.used_at = utcnow()
    _audit(session, user.username, user, "auth.recovery_code_used")
    return True


def _audit(session: Session, actor: str, user: User, action: str) -> None:
    record_event(
        session,
        actor=actor,
        bureau_code=user.bureau.country_code,
        action=action,
        subject=f"user:{user.username}",
    )
