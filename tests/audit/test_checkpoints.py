"""Cutting or rewriting the trail behind its back: the sealed head and signed checkpoints.

Each attack is made the way someone with write access to the database would: drop the
append-only trigger the way the backend defines it, edit, recreate the trigger.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from bordercheck.audit.chain import chain_key, entry_hash, head_key, head_seal
from bordercheck.audit.models import AuditEntry
from bordercheck.cli import app
from bordercheck.db import Database
from bordercheck.settings import load_settings
from tests.audit.conftest import append

REFUSAL = "the audit trail is append-only"
SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


def run(url: str, *args: str, signing_key: str = SIGNING_KEY, **env: str) -> Result:
    environment = {"BORDERCHECK_DATABASE_URL": url, "BORDERCHECK_AUDIT_SIGNING_KEY": signing_key}
    return CliRunner().invoke(app, list(args), env=environment | env)


def as_owner(database: Database, *statements: tuple[str, dict[str, object]]) -> None:
    """Drop the no-delete/no-update trigger, run the statements, put the trigger back."""
    with database.session(write=True) as session:
        if database.is_sqlite:
            session.execute(text("DROP TRIGGER audit_entries_no_delete"))
            session.execute(text("DROP TRIGGER audit_entries_no_update"))
        else:
            session.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
        for statement, params in statements:
            session.execute(text(statement), params)
        if database.is_sqlite:
            for verb in ("UPDATE", "DELETE"):
                session.execute(
                    text(
                        f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} "
                        f"ON audit_entries BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                    )
                )
        else:
            session.execute(
                text(
                    "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON "
                    "audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
                )
            )
    # The trigger is back: nothing on the database's face shows the edit.
    with pytest.raises(DBAPIError, match="append-only"), database.session(write=True) as s:
        s.execute(text("DELETE FROM audit_entries WHERE seq = 1"))


def hash_of(database: Database, seq: int) -> str:
    with database.session() as session:
        found = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
    assert found is not None
    return found


def cut_after(database: Database, seq: int, *, reseal: bool) -> None:
    """Delete the tail after ``seq`` and move the head back to it."""
    last_hash = hash_of(database, seq)
    head = {"seq": seq, "hash": last_hash}
    set_head = "UPDATE audit_head SET last_seq = :seq, last_hash = :hash"
    if reseal:  # someone who also holds the secret key
        head["seal"] = head_seal(head_key(load_settings().secret_key), seq, last_hash)
        set_head += ", seal = :seal"
    as_owner(
        database,
        ("DELETE FROM audit_entries WHERE seq > :seq", {"seq": seq}),
        (set_head, head),
    )


def rewrite_from(database: Database, seq: int, change: dict[int, dict[str, str]]) -> None:
    """Change entries from ``seq`` on and recompute the chain and the head with the secret."""
    key = chain_key(load_settings().secret_key)
    with database.session() as session:
        entries = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
            )
        )
        prev_hash = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq - 1))
    statements: list[tuple[str, dict[str, object]]] = []
    for entry in entries:
        fields = {
            "actor": entry.actor,
            "bureau_code": entry.bureau_code,
            "action": entry.action,
            "subject": entry.subject,
            "details": entry.details,
        } | change.get(entry.seq, {})
        digest = entry_hash(key, seq=entry.seq, at=entry.at, prev_hash=prev_hash, **fields)
        statements.append(
            (
                "UPDATE audit_entries SET actor = :actor, bureau_code = :bureau_code, "
                "action = :action, subject = :subject, details = :details, "
                "prev_hash = :prev_hash, hash = :hash WHERE seq = :seq",
                fields | {"prev_hash": prev_hash, "hash": digest, "seq": entry.seq},
            )
        )
        prev_hash = digest
    last = entries[-1].seq
    seal = head_seal(head_key(load_settings().secret_key), last, prev_hash)
    statements.append(
        (
            "UPDATE audit_head SET last_hash = :hash, seal = :seal",
            {"hash": prev_hash, "seal": seal},
        )
    )
    as_owner(database, *statements)


def checkpoint(url: str, tmp_path: Path) -> Path:
    path = tmp_path / "checkpoints.jsonl"
    result = run(url, "audit", "checkpoint", "--out", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_a_cut_tail_with_the_head_moved_back_is_found(fresh_url: str, database: Database) -> None:
    append(database, 196)
    assert run(fresh_url, "audit", "verify").exit_code == 0
    cut_after(database, 189, reseal=False)
    result = run(fresh_url, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "audit trail broken at entry 189" in result.output
    assert "head" in result.output
    assert "rewritten by someone without the secret key" in result.output


def test_a_cut_by_someone_with_the_secret_is_found_by_a_checkpoint(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    append(database, 196)
    checkpoints = checkpoint(fresh_url, tmp_path)
    cut_after(database, 189, reseal=True)
    alone = run(fresh_url, "audit", "verify")
    # Without the checkpoint this cut cannot be seen, and verify says so.
    assert alone.exit_code == 0, alone.output
    assert "intact: 189 entries" in alone.output
    assert "no checkpoint given: a truncation or rewrite by someone holding" in alone.output
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(checkpoints))
    assert result.exit_code == 1, result.output
    assert "audit trail broken at entry 190: removed: the chain ends at entry 189" in result.output
    assert "records entry 197" in result.output


def test_a_rewrite_after_the_checkpoint_is_found(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    append(database, 20)
    checkpoints = checkpoint(fresh_url, tmp_path)
    rewrite_from(database, 10, {10: {"subject": "record:999"}})
    assert run(fresh_url, "audit", "verify").exit_code == 0
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(checkpoints))
    assert result.exit_code == 1, result.output
    assert "audit trail broken at entry 21: rewritten" in result.output
    assert "an entry after 0 up to 21" in result.output


def test_a_reordering_after_the_checkpoint_is_found(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    append(database, 20)
    checkpoint(fresh_url, tmp_path)
    append(database, 5)
    checkpoints = checkpoint(fresh_url, tmp_path)
    with database.session() as session:
        a, b = session.scalars(select(AuditEntry).where(AuditEntry.seq.in_([22, 23])))
        swapped = {
            22: {"subject": b.subject, "details": b.details},
            23: {"subject": a.subject, "details": a.details},
        }
    rewrite_from(database, 22, swapped)
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(checkpoints))
    assert result.exit_code == 1, result.output
    # Two checkpoints: the change lies between them.
    assert "audit trail broken at entry 26: rewritten" in result.output
    assert "an entry after 21 up to 26" in result.output


def test_a_chain_that_agrees_with_its_checkpoints_passes_and_says_how_far(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    append(database, 3)
    checkpoints = checkpoint(fresh_url, tmp_path)
    append(database, 2)
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(checkpoints))
    assert result.exit_code == 0, result.output
    assert "agrees with 1 checkpoint(s)" in result.output
    assert "nothing up to entry 4 was removed, altered or reordered" in result.output
    assert "entries 5 to 6 are newer than every checkpoint" in result.output


def test_a_checkpoint_whose_signature_does_not_verify_is_refused(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    append(database, 3)
    checkpoints = checkpoint(fresh_url, tmp_path)
    forged = json.loads(checkpoints.read_text())
    forged["seq"] = forged["entries"] = 2
    checkpoints.write_text(json.dumps(forged) + "\n")
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(checkpoints))
    assert result.exit_code == 1
    assert f"checkpoint refused: {checkpoints} line 1" in result.output
    assert "its signature does not verify with key" in result.output


def test_a_checkpoint_signed_by_an_untrusted_key_is_refused(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    append(database, 3)
    checkpoints = checkpoint(fresh_url, tmp_path)
    result = run(
        fresh_url, "audit", "verify", "--checkpoint", str(checkpoints), signing_key=OTHER_KEY
    )
    assert result.exit_code == 1
    assert "which is not a trusted audit key" in result.output


def test_a_verifier_with_only_the_public_key(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    append(database, 3)
    checkpoints = checkpoint(fresh_url, tmp_path)
    public = Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()
    encoded = base64.b64encode(public.public_bytes_raw()).decode()
    args = ("audit", "verify", "--checkpoint", str(checkpoints))
    assert run(fresh_url, *args, signing_key="").exit_code == 2
    assert run(fresh_url, *args, "--public-key", encoded, signing_key="").exit_code == 0
    env = {"BORDERCHECK_AUDIT_PUBLIC_KEYS": encoded}
    assert run(fresh_url, *args, signing_key="", **env).exit_code == 0


def test_a_file_that_is_not_checkpoints_is_named(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.jsonl"
    bad.write_text("hello\n")
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(bad))
    assert result.exit_code == 2
    assert f"{bad} line 1 is not a checkpoint: not JSON" in result.output


def test_checkpoint_prints_one_signed_line_and_refuses_a_broken_chain(
    fresh_url: str, database: Database
) -> None:
    append(database, 2)
    result = run(fresh_url, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert (made["seq"], made["entries"]) == (3, 3)
    assert made["hash"] == hash_of(database, 3)
    assert {"at", "key_id", "public_key", "signature"} <= made.keys()
    cut_after(database, 2, reseal=False)
    refused = run(fresh_url, "audit", "checkpoint")
    assert refused.exit_code == 1
    assert "no checkpoint signed" in refused.output


def test_checkpoint_needs_a_signing_key(fresh_url: str) -> None:
    result = run(fresh_url, "audit", "checkpoint", signing_key="")
    assert result.exit_code == 1
    assert "BORDERCHECK_AUDIT_SIGNING_KEY is not set" in result.output


def test_a_malformed_signing_key_is_named_without_its_value(fresh_url: str) -> None:
    result = run(fresh_url, "audit", "checkpoint", signing_key="c2hvcnQ=")
    assert result.exit_code == 2
    assert "BORDERCHECK_AUDIT_SIGNING_KEY: key 1 must be 32 bytes, not 5" in result.output


def test_checkpoint_out_a_directory_appends_to_the_days_file(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    assert run(fresh_url, "audit", "checkpoint", "--out", str(tmp_path)).exit_code == 0
    append(database, 2)
    assert run(fresh_url, "audit", "checkpoint", "--out", str(tmp_path)).exit_code == 0
    [day] = tmp_path.glob("checkpoints-*.jsonl")
    assert [json.loads(line)["seq"] for line in day.read_text().splitlines()] == [1, 3]
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "agrees with 2 checkpoint(s)" in result.output
