"""The running server writes signed checkpoints on its own, outside the database."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bordercheck.audit.checkpointing import ChainBroken, CheckpointWriter
from bordercheck.audit.checkpoints import checkpoint_paths, read_checkpoints, trusted_keys
from bordercheck.db import Database
from bordercheck.settings import ConfigurationError, Settings, load_settings
from tests.audit.conftest import append
from tests.audit.test_checkpoints import SIGNING_KEY, cut_after, run
from tests.signin import open_api


def lines_in(directory: Path) -> list[dict[str, object]]:
    if not directory.exists():
        return []
    return [json.loads(line) for path in checkpoint_paths(directory) for line in path.open()]


def test_the_server_writes_checkpoints_that_verify(fresh_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "checkpoints"
    with open_api(fresh_url, audit_signing_key=SIGNING_KEY, audit_checkpoint_dir=directory) as api:
        # The first one is written as the server starts; poll for it, bounded.
        deadline = time.monotonic() + 30
        while not lines_in(directory) and time.monotonic() < deadline:
            time.sleep(0.05)
        [first] = lines_in(directory)
        # The secretariat's entry at least; the bureaus open_api adds may be in it or not.
        assert first["seq"] == first["entries"]
        assert 1 <= int(first["seq"]) <= 3  # type: ignore[call-overload]
        api.add_bureaus("ITA")
    [path] = checkpoint_paths(directory)
    assert path.name.startswith("checkpoints-20")
    result = run(fresh_url, "audit", "verify", "--checkpoint", str(directory))
    assert result.exit_code == 0, result.output
    assert "agrees with 1 checkpoint(s)" in result.output


def test_each_checkpoint_chains_on_the_last_and_an_idle_head_adds_none(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=fresh_url,
        env="test",
        audit_signing_key=SIGNING_KEY,
        audit_checkpoint_dir=tmp_path,
    )
    writer = CheckpointWriter(database, settings)
    assert writer.write_due() is not None
    assert writer.write_due() is None
    append(database, 3)
    made = writer.write_due()
    assert made is not None
    assert made.seq == 4
    found = read_checkpoints(checkpoint_paths(tmp_path), trusted_keys(SIGNING_KEY, []))
    assert [c.seq for c in found.checkpoints] == [1, 4]
    assert found.refusals == []


def test_a_restarted_writer_finds_a_chain_cut_while_it_was_away(
    fresh_url: str, database: Database, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=fresh_url,
        env="test",
        audit_signing_key=SIGNING_KEY,
        audit_checkpoint_dir=tmp_path,
    )
    append(database, 10)
    assert CheckpointWriter(database, settings).write_due() is not None
    cut_after(database, 5, reseal=True)
    with pytest.raises(ChainBroken, match="no checkpoint signed"):
        CheckpointWriter(database, settings).write_due()
    assert len(lines_in(tmp_path)) == 1


def test_a_checkpoint_directory_needs_a_signing_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BORDERCHECK_AUDIT_SIGNING_KEY is not"):
        load_settings(audit_checkpoint_dir=tmp_path)
