"""The installation's keys: made by ``keys init``, read from a settings file, refused if weak."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from bordercheck.cli import app
from bordercheck.keys.files import KEY_SETTINGS
from bordercheck.keys.formats import parse_key_list
from bordercheck.settings import ConfigurationError, Settings, load_settings

PUBLISHED_DEV_KEY = "dev-secret-key-change-me"


def keys_init(path: Path, **env: str) -> str:
    result = CliRunner().invoke(app, ["keys", "init", "--file", str(path)], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def settings_of(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines if line)


def test_keys_init_writes_a_private_file_of_fresh_keys(tmp_path: Path) -> None:
    path = tmp_path / "bordercheck.env"
    output = keys_init(path, BORDERCHECK_ENV="dev")
    assert f"keys written to {path} (mode 0600)" in output
    assert f"export BORDERCHECK_SETTINGS_FILE={path}" in output
    assert path.stat().st_mode & 0o777 == 0o600
    values = settings_of(path)
    assert list(values) == list(KEY_SETTINGS)
    secret = values["BORDERCHECK_SECRET_KEY"]
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) >= 32
    assert len(parse_key_list(values["BORDERCHECK_MESSAGE_KEYS"])) == 1
    (_, seed), = parse_key_list(values["BORDERCHECK_MESSAGE_SIGNING_KEYS"])  # fmt: skip
    Ed25519PrivateKey.from_private_bytes(seed)
    audit = base64.b64decode(values["BORDERCHECK_AUDIT_SIGNING_KEY"], validate=True)
    Ed25519PrivateKey.from_private_bytes(audit)
    other = tmp_path / "other.env"
    keys_init(other)
    assert not set(settings_of(other).values()) & set(values.values())


def test_keys_init_never_replaces_keys_and_says_how_to_rotate(tmp_path: Path) -> None:
    path = tmp_path / "keys.env"
    keys_init(path)
    before = path.read_text()
    again = CliRunner().invoke(app, ["keys", "init", "--file", str(path)])
    assert again.exit_code == 1
    assert "holds keys already" in again.output
    assert "rotate" in again.output
    assert path.read_text() == before


def test_keys_init_adds_keys_to_a_settings_file_without_them(tmp_path: Path) -> None:
    path = tmp_path / "bordercheck.env"
    path.write_text("BORDERCHECK_DATABASE_URL=sqlite:///elsewhere.db")
    path.chmod(0o644)
    keys_init(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings_of(path)["BORDERCHECK_DATABASE_URL"] == "sqlite:///elsewhere.db"
    assert set(KEY_SETTINGS) <= set(settings_of(path))


def test_settings_come_from_the_named_file_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.env"
    keys_init(path)
    path.write_text(path.read_text() + "BORDERCHECK_LOG_LEVEL=WARNING\n")
    monkeypatch.setenv("BORDERCHECK_SETTINGS_FILE", str(path))
    monkeypatch.setenv("BORDERCHECK_ENV", "production")
    monkeypatch.setenv("BORDERCHECK_LOG_LEVEL", "ERROR")
    settings = load_settings()  # the generated keys pass every production check
    assert settings.secret_key == settings_of(path)["BORDERCHECK_SECRET_KEY"]
    assert settings.audit_signing_key == settings_of(path)["BORDERCHECK_AUDIT_SIGNING_KEY"]
    assert settings.log_level == "ERROR"
    monkeypatch.setenv("BORDERCHECK_SETTINGS_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ConfigurationError, match=r"missing\.env, which is not a file"):
        load_settings()


def test_a_bordercheck_env_in_the_working_directory_is_read_unless_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    keys_init(tmp_path / "bordercheck.env")
    monkeypatch.setenv("BORDERCHECK_ENV", "dev")
    monkeypatch.delenv("BORDERCHECK_SETTINGS_FILE")
    assert load_settings().secret_key == settings_of(tmp_path / "bordercheck.env")[KEY_SETTINGS[0]]
    monkeypatch.setenv("BORDERCHECK_SETTINGS_FILE", "")  # how the test suite runs
    with pytest.raises(ConfigurationError, match="bordercheck keys init"):
        load_settings()


def test_a_settings_file_others_can_read_is_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys.env"
    keys_init(path)
    path.chmod(0o640)
    monkeypatch.setenv("BORDERCHECK_SETTINGS_FILE", str(path))
    monkeypatch.setenv("BORDERCHECK_ENV", "production")
    with pytest.raises(ConfigurationError, match=r"can be read by other users.*chmod 600"):
        load_settings()
    monkeypatch.setenv("BORDERCHECK_ENV", "dev")
    load_settings()
    assert "warning: the settings file" in capsys.readouterr().err


def test_without_a_key_only_the_test_mode_runs_on_a_random_key_of_its_process() -> None:
    for mode in ("dev", "production"):
        with pytest.raises(ConfigurationError, match="BORDERCHECK_SECRET_KEY is not set"):
            load_settings(env=mode)
    first, second = Settings(env="test"), Settings(env="test")
    assert first.secret_key == second.secret_key  # what a process signs, it can check
    assert len(first.secret_key) >= 43
    show = "from bordercheck.settings import Settings; print(Settings(env='test').secret_key)"
    others = {
        subprocess.run(
            [sys.executable, "-c", show], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(others | {first.secret_key}) == 3


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("Kq8vZ2mWxR" * 2, "shorter than 32"),
        ("a" * 40, "distinct characters"),
        ("Kq8vZ2mWxRp" * 4, "repeats a pattern"),
        ("abcdefghijklmnopqrstuvwxyz" + "f67441", "run of consecutive"),
        (PUBLISHED_DEV_KEY + "-Q_sKVuijllPTvDygT7GApA", "example value"),
        ("CHANGE_ME_wuCmwayLd_DYNZEsSnOY2xXWwdxqxSip", "example value"),
        ("0123456789abcdef" * 3, "repeats a pattern"),
        ("x" * 30 + "q1w2e3r4t5", "entropy"),
    ],
)
def test_production_refuses_weak_secret_keys(key: str, reason: str) -> None:
    strong = {
        name: f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
        for name in ("message_keys", "message_signing_keys")
    }
    with pytest.raises(ConfigurationError, match=f"BORDERCHECK_SECRET_KEY .*{reason}"):
        load_settings(env="production", secret_key=key, **strong)
    load_settings(env="dev", secret_key=key)  # a development checkout is not held to it
    assert load_settings(env="production", secret_key=secrets.token_urlsafe(32), **strong)
    assert load_settings(env="production", secret_key=secrets.token_hex(32), **strong)


def test_production_refuses_message_keys_that_are_not_random() -> None:
    weak = "k1:" + base64.b64encode(bytes(range(32))).decode()
    strong = "k2:" + base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(ConfigurationError, match="BORDERCHECK_MESSAGE_KEYS: key 'k1'"):
        load_settings(
            env="production",
            secret_key=secrets.token_urlsafe(32),
            message_keys=weak,
            message_signing_keys=strong,
        )


def test_commands_that_need_no_key_run_without_one(tmp_path: Path) -> None:
    env = {"BORDERCHECK_ENV": "dev"}
    mrz = (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
    )
    parsed = CliRunner().invoke(app, ["mrz", "parse"], input=mrz, env=env)
    assert parsed.exit_code == 0, parsed.output
    keys_init(tmp_path / "keys.env", **env)
    assert os.stat(tmp_path / "keys.env").st_size > 0
