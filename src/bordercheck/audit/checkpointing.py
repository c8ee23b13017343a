"""Taking checkpoints: on demand (``audit checkpoint``) and on a schedule by the server.

A checkpoint is signed only after the chain has been checked from the previous checkpoint
(or from the start) up to the head: signing a chain already cut would launder the cut. Each
checkpoint thereby also vouches that the chain grew from the one before it by appending only,
as a transparency log's consistency proof does, and checking from the previous one keeps the
cost to the entries written since.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bordercheck.audit import service
from bordercheck.audit.checkpoints import (
    Checkpoint,
    CheckpointSigner,
    append_line,
    checkpoint_paths,
    daily_file,
    latest_own,
)
from bordercheck.audit.models import GENESIS_HASH
from bordercheck.db import Database
from bordercheck.errors import BordercheckError
from bordercheck.logs import get_logger
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

log = get_logger(__name__)


class ChainBroken(BordercheckError):
    """The chain does not verify: no checkpoint is signed for it."""

    status_code = 409
    code = "audit_chain_broken"


class NoSigningKey(BordercheckError):
    code = "no_audit_signing_key"


def signer_from(settings: Settings) -> CheckpointSigner:
    signer = CheckpointSigner.from_setting(settings.audit_signing_key)
    if signer is None:
        raise NoSigningKey(
            "BORDERCHECK_AUDIT_SIGNING_KEY is not set: checkpoints are signed with an Ed25519 "
            "key the database does not hold (see docs/deployment.md, Audit checkpoints)"
        )
    return signer


def take_checkpoint(
    database: Database,
    signer: CheckpointSigner,
    *,
    after: Checkpoint | None = None,
    secret_key: str | None = None,
    now: datetime | None = None,
) -> Checkpoint:
    """Check the chain from ``after`` (or the start) to the head, then sign the head."""
    start = (after.seq, after.hash) if after is not None else (0, GENESIS_HASH)
    with database.session() as session:
        report = service.verify(session, secret_key, start=start)
    if report.problem is not None:
        raise ChainBroken(
            f"audit trail broken at entry {report.problem.seq}: {report.problem.reason}; "
            "no checkpoint signed",
            seq=report.problem.seq,
        )
    return signer.sign(report.last_seq, report.last_hash, now or utcnow())


class CheckpointWriter:
    """The server's checkpoints: appended to a file per UTC day in a directory of their own."""

    def __init__(self, database: Database, settings: Settings) -> None:
        assert settings.audit_checkpoint_dir is not None
        self.database = database
        self.directory: Path = settings.audit_checkpoint_dir
        self.signer = signer_from(settings)
        self.last: Checkpoint | None = None
        self._resumed = False

    def write_due(self, now: datetime | None = None) -> Checkpoint | None:
        """Sign and append a checkpoint of the head, unless it has not moved since the last."""
        if not self._resumed:
            # Chain onto what this directory already vouches for: a chain cut while the
            # server was down is then found before anything new is signed.
            self.directory.mkdir(parents=True, exist_ok=True)
            self.last = latest_own(checkpoint_paths(self.directory), self.signer)
            self._resumed = True
        try:
            checkpoint = take_checkpoint(self.database, self.signer, after=self.last, now=now)
        except ChainBroken as exc:
            log.error("audit checkpoint refused: the chain does not verify", error=exc.message)
            raise
        if self.last is not None and checkpoint.seq == self.last.seq:
            return None
        append_line(daily_file(self.directory, checkpoint.at), checkpoint.to_line())
        self.last = checkpoint
        return checkpoint
