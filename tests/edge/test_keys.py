"""The deployment's edge keys, signed files and sealed queue entries, without a centre."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bordercheck.cli import app
from bordercheck.edge import signed, signing
from bordercheck.errors import ServiceUnavailable
from bordercheck.settings import Settings


def test_keygen_writes_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "edge.key"
    runner = CliRunner()
    made = runner.invoke(app, ["edge", "keygen", "--output", str(path)])
    assert made.exit_code == 0, made.output
    assert "signing key fingerprint" in made.output
    assert path.stat().st_mode & 0o777 == 0o600
    keys = signing.read_key_file(path)
    again = runner.invoke(app, ["edge", "keygen", "--output", str(path)])
    assert again.exit_code == 1
    assert "exists already" in again.output
    assert signing.read_key_file(path).public_signing == keys.public_signing
    (tmp_path / "junk.key").write_text("not a key")
    with pytest.raises(signing.KeyFileError, match="not an edge key file"):
        signing.read_key_file(tmp_path / "junk.key")
    with pytest.raises(signing.KeyFileError, match="cannot read"):
        signing.read_key_file(tmp_path / "missing.key")


def test_production_will_not_serve_kits_without_a_key_file() -> None:
    settings = Settings.model_construct(env="production", secret_key="x" * 40,
                                        edge_signing_key=None)  # fmt: skip
    with pytest.raises(ServiceUnavailable, match="BORDERCHECK_EDGE_SIGNING_KEY"):
        signing.deployment_keys(settings)
    dev = Settings(env="dev", secret_key=secrets.token_urlsafe(32))
    assert (
        signing.deployment_keys(dev).public_signing == signing.deployment_keys(dev).public_signing
    )


def test_signed_files_refuse_any_change_and_other_keys() -> None:
    keys, other = signing.generate(), signing.generate()
    data = signed.pack(keys, {"kind": "bundle"}, [b"rows" * 10])
    header, offset = signed.read_header(data, public_key=keys.public_signing, what="bundle")
    assert header == {"kind": "bundle"}
    assert data[offset : -signed.SIGNATURE_BYTES] == b"rows" * 10
    for position in (0, 12, offset + 3, len(data) - 1):
        changed = bytearray(data)
        changed[position] ^= 0x20
        with pytest.raises(signed.Refused):
            signed.read_header(bytes(changed), public_key=keys.public_signing, what="bundle")
    with pytest.raises(signed.Refused, match="signed by another centre"):
        signed.read_header(data, public_key=other.public_signing, what="bundle")
    with pytest.raises(signed.Refused, match="truncated"):
        signed.read_header(data[:-70], public_key=keys.public_signing, what="bundle")


def test_sealed_entries_open_only_at_the_centre() -> None:
    keys, other = signing.generate(), signing.generate()
    entry = b'{"document_number": "C01X00T47"}'
    sealed = signing.seal(keys.public_sealing, entry)
    assert keys.open_sealed(sealed) == entry
    # Nine bytes long: random ciphertext holds them by chance about once in 2**72 tries (two
    # bytes, as before, failed about once in a thousand runs).
    assert b"C01X00T47" not in sealed
    with pytest.raises(ValueError, match="authentication"):
        other.open_sealed(sealed)
    with pytest.raises(ValueError, match="authentication"):
        keys.open_sealed(sealed[:-1] + bytes([sealed[-1] ^ 1]))
