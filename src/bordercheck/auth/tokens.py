"""Short-lived signed bearer tokens (HS256 JWT): issued at sign-in, checked on every request.

Checking a token is one HMAC and a few in-memory look-ups, no database query: screening
answers thousands of requests a second. Its subject must also exist and be active, checked
against a copy at most a second old (``auth.subjects``). The claims carry what a request
needs to know about its caller (``sub``, ``kind``, ``name``, ``role``, ``bureau``); ``jti``
names the token for revocation (see ``auth.revocation``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import jwt

from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.auth.revocation import RevocationList, subject_of
from bordercheck.auth.subjects import KnownSubjects
from bordercheck.errors import Unauthorized
from bordercheck.installation import TRAINING_CLAIM
from bordercheck.settings import Settings

VERIFIED_CACHE_SIZE = 10_000
ALGORITHM = "HS256"
ISSUER = "bordercheck"
CLAIMS = ("sub", "kind", "name", "role", "bureau", "jti", "iat", "exp")
PrincipalKind = Literal["user", "client"]
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (an address, not a secret)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a person (``user``) or a machine (``client``).

    ``id`` is the user's number or the client's ``client_id``; ``name`` the username or the
    client's name; ``bureau_code`` the country of the bureau they act for.
    """

    kind: PrincipalKind
    id: str
    name: str
    role: Role
    bureau_code: str

    @property
    def subject(self) -> str:
        """Unique across people and machines: the key of revocations and rate limits."""
        return subject_of(self.kind, self.id)

    def actor(self) -> Actor:
        """Who history records as making a change; a client by its id, which never changes."""
        name = self.name if self.kind == "user" else f"client:{self.id}"
        return Actor(name=name, role=self.role, bureau_code=self.bureau_code)


def command_line_principal(role: Role, bureau_code: str) -> Principal:
    """Who a command run on the server acts as: the operating system's user, in ``role`` for
    ``bureau_code`` (one who runs commands on the server is trusted as its administrators)."""
    from bordercheck.audit.service import command_line_actor

    name = command_line_actor()
    return Principal(kind="user", id=name, name=name, role=role, bureau_code=bureau_code)


@dataclass(frozen=True)
class VerifiedToken:
    principal: Principal
    jti: str
    # To the microsecond: a token issued just after a revocation of its subject (a password
    # change, a reactivation) must not fall in the same second as the revocation.
    issued_at: float
    expires_at: int

    @property
    def expiry(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    jti: str


def signing_key(secret_key: str) -> bytes:
    """The secret key, narrowed to tokens: nothing else signed with the secret can pass for one."""
    return hmac.new(secret_key.encode(), b"bordercheck access token v1", hashlib.sha256).digest()


class TokenAuthority:
    """Issues and verifies one deployment's tokens; consults its revocation list."""

    def __init__(
        self,
        settings: Settings,
        revocations: RevocationList,
        clock: Callable[[], float] = time.time,
        subjects: KnownSubjects | None = None,
    ) -> None:
        self._key = signing_key(settings.secret_key)
        # A sandbox's tokens name it; live tokens name none. Each side refuses the other's,
        # even were their keys the same (docs/training.md, Isolation).
        self._training = settings.training_sandbox
        self._lifetimes: dict[PrincipalKind, int] = {
            "user": settings.token_minutes * 60,
            "client": settings.client_token_minutes * 60,
        }
        self.revocations = revocations
        self.subjects = subjects or KnownSubjects()
        self._clock = clock
        # Tokens already verified, by their text: a border system sends the same token
        # thousands of times, and its signature and claims cannot change. Expiry and
        # revocation are still checked on every request.
        self._verified: dict[str, VerifiedToken] = {}

    def issue(self, principal: Principal) -> IssuedToken:
        now = self._clock()
        lifetime = self._lifetimes[principal.kind]
        jti = uuid.uuid4().hex
        claims = {
            "iss": ISSUER,
            "sub": principal.id,
            "kind": principal.kind,
            "name": principal.name,
            "role": principal.role.value,
            "bureau": principal.bureau_code,
            "jti": jti,
            "iat": round(now, 6),
            "exp": int(now) + lifetime,
        }
        if self._training is not None:
            claims[TRAINING_CLAIM] = self._training
        return IssuedToken(jwt.encode(claims, self._key, algorithm=ALGORITHM), lifetime, jti)

    def verify(self, token: str) -> VerifiedToken:
        """The token's caller; 401 if it is expired, not ours, malformed or revoked."""
        verified = self._verified.get(token)
        if verified is None or verified.expires_at <= self._clock():
            verified = self._decode(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()  # simple bound; the next requests refill it
            self._verified[token] = verified
        principal = verified.principal
        if self.revocations.is_revoked(verified.jti, principal.subject, verified.issued_at):
            if not self.revocations.is_signed_out(verified.jti):
                # Revoked with every token of its subject: the deactivation of its caller
                # (whichever of this copy and the callers' standing saw it first).
                who = "user" if principal.kind == "user" else "API client"
                raise Unauthorized(
                    f"the token was revoked when its {who} was deactivated; sign in again at "
                    f"POST {TOKEN_URL} once reactivated"
                )
            raise Unauthorized(f"the token has been revoked; sign in again at POST {TOKEN_URL}")
        return verified

    def _decode(self, token: str) -> VerifiedToken:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # iat is informative; checking it would refuse tokens from a node whose clock
                # runs a second ahead. exp is what bounds a token's life.
                options={"require": [*CLAIMS, "iss"], "verify_iat": False},
            )
            verified = _verified(claims)
        except jwt.ExpiredSignatureError:
            raise Unauthorized(
                f"the token has expired; get a new one from POST {TOKEN_URL}"
            ) from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise Unauthorized(f"the token is not valid; get one from POST {TOKEN_URL}") from None
        training = claims.get(TRAINING_CLAIM)
        if training != self._training:
            if self._training is None:
                why = f"it was issued by the training sandbox {training!r}"
            elif training is None:
                why = f"this is the training sandbox {self._training!r} and it is a live token"
            else:
                why = f"this is the training sandbox {self._training!r}, not {training!r}"
            raise Unauthorized(f"the token is refused here: {why}; get one from POST {TOKEN_URL}")
        return verified


def _verified(claims: dict[str, Any]) -> VerifiedToken:
    kind = claims["kind"]
    if kind not in ("user", "client"):
        raise ValueError(f"unknown kind {kind!r}")
    principal = Principal(
        kind=kind,
        id=str(claims["sub"]),
        name=str(claims["name"]),
        role=Role(claims["role"]),
        bureau_code=str(claims["bureau"]),
    )
    return VerifiedToken(principal, str(claims["jti"]), float(claims["iat"]), int(claims["exp"]))
