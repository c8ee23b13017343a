"""One typed settings object, read once from the environment (prefix ``BORDERCHECK_``).

The environment may be completed by a settings file of ``BORDERCHECK_NAME=value`` lines
(``bordercheck keys init`` writes one): the file named by ``BORDERCHECK_SETTINGS_FILE``, else
``./bordercheck.env`` if it exists. Environment variables win over the file. An empty
``BORDERCHECK_SETTINGS_FILE`` reads no file (the test suite runs so).
"""

from __future__ import annotations

import functools
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bordercheck.errors import ConfigurationError as ConfigurationError  # (it lives there)
from bordercheck.keys.formats import parse_audit_keys, parse_key_list
from bordercheck.keys.strength import key_bytes_weakness, secret_weakness

SETTINGS_FILE_VARIABLE = "BORDERCHECK_SETTINGS_FILE"
DEFAULT_SETTINGS_FILE = Path("bordercheck.env")
HOW_TO_MAKE_KEYS = (
    "BORDERCHECK_SECRET_KEY is not set: run `bordercheck keys init` to make this "
    "installation's keys (a settings file), or set BORDERCHECK_SECRET_KEY"
)


def settings_file() -> Path | None:
    """The settings file to read, if any (see the module's docstring)."""
    named = os.environ.get(SETTINGS_FILE_VARIABLE)
    if named is None:
        return DEFAULT_SETTINGS_FILE if DEFAULT_SETTINGS_FILE.is_file() else None
    if not named:
        return None
    path = Path(named)
    if not path.is_file():
        raise ConfigurationError(f"{SETTINGS_FILE_VARIABLE} names {path}, which is not a file")
    return path


def settings_file_target() -> Path:
    """Where ``bordercheck keys init`` writes when told no path: the file settings are read from."""
    return Path(os.environ.get(SETTINGS_FILE_VARIABLE) or DEFAULT_SETTINGS_FILE)


@functools.cache
def _ephemeral_secret_key() -> str:
    # One per process, so that everything a test process signs agrees with itself; never a
    # constant, so that nothing signed in a test is accepted anywhere else.
    return secrets.token_urlsafe(32)


class Settings(BaseSettings):
    """Every knob of a deployment; the documentation lists each one (docs/deployment.md)."""

    model_config = SettingsConfigDict(env_prefix="BORDERCHECK_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///bordercheck.db"
    # No default: `bordercheck keys init` and the demo make one (BORDERCHECK_ENV=test alone
    # runs without, on a random key of its process).
    secret_key: str = ""
    secretariat_code: str = "XPO"
    secretariat_name: str = "General Secretariat"
    review_years: int = Field(default=10, ge=1, le=50)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "console", "json"] = "auto"
    import_batch_size: int = Field(default=5000, ge=1, le=100_000)
    # People sign in once per working session; machines fetch a new token without anyone
    # noticing, so theirs can be short-lived (a leaked one is worth less).
    token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    client_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    revocation_refresh_seconds: float = Field(default=1.0, ge=0, le=300)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # On PostgreSQL each process leases this many requests of a caller's shared budget at a
    # time (0: a tenth of a second's worth); a caller may exceed its limit by one slice per
    # process (docs/deployment.md, Rate limits).
    rate_limit_slice: int = Field(default=0, ge=0)
    sign_in_per_second: float = Field(default=1.0, ge=0)
    sign_in_burst: int = Field(default=10, ge=1)
    index_snapshot: Path | None = None
    # Where `serve` keeps the screening snapshot it shares between its workers when
    # index_snapshot is not set.
    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "bordercheck")
    feed_poll_seconds: float = Field(default=0.2, gt=0, le=60)
    # While the query log cannot be written, how often its writer checks the database again.
    query_log_retry_seconds: float = Field(default=1.0, gt=0, le=60)
    # Clean answers are journalled to a file before they are sent (docs/deployment.md): where
    # (default: beside a SQLite file, else under the temp dir), how often it is synced to disk
    # (0: before each answer), and how often journals of dead processes are replayed.
    query_journal_dir: Path | None = None
    query_journal_sync_seconds: float = Field(default=0.05, ge=0, le=10)
    query_journal_replay_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Offline kits: the deployment's edge key file (bordercheck edge keygen), where built
    # snapshots are cached, how many feed entries one change bundle carries, and the age past
    # which a kit's answers carry a stale-data warning.
    edge_signing_key: Path | None = None
    edge_cache_dir: Path | None = None
    edge_bundle_max_changes: int = Field(default=100_000, ge=1, le=10_000_000)
    edge_max_age_hours: float = Field(default=48.0, gt=0)
    # Hit cases: the owner's time to answer, reminders, escalation, webhooks.
    hit_answer_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    desk_hit_answer_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    hit_reminder_share: float = Field(default=0.75, gt=0, lt=1)
    hit_resight_quiet_minutes: float = Field(default=60.0, ge=0, le=7 * 24 * 60)
    hit_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    webhook_delivery_seconds: float = Field(default=2.0, gt=0, le=600)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0, le=3600)
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, le=7 * 24 * 3600)

    # Messages between bureaus: master keys wrapping each message's data key, and Ed25519
    # signing keys, each "id:base64key,..." with the current one first (docs/deployment.md).
    message_keys: str = ""
    message_signing_keys: str = ""
    message_attachment_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1)
    message_attachment_types: str = "application/pdf,image/png,image/jpeg,text/plain"
    # Passenger lists: the largest file accepted, and how long lists and travellers are kept.
    manifest_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    manifest_retention_days: int = Field(default=90, ge=1, le=5 * 366)
    # How many lists one process parses and screens at once: the others wait their turn, so
    # that large lists cannot take every thread from the border posts' screening.
    manifest_parse_concurrency: int = Field(default=1, ge=1, le=64)
    # Prometheus scrapes /metrics with this bearer token (no default: unset, only an
    # administrator's token opens /metrics, and a scraper gets 404).
    metrics_token: SecretStr | None = Field(default=None, min_length=32)
    # Set only in a training sandbox's own settings (`bordercheck training sandbox create`
    # writes it): the sandbox's name. Commands and the server then run only on that sandbox's
    # database, and everything they answer is marked TRAINING (docs/training.md).
    training_sandbox: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    # Audit checkpoints: the Ed25519 private seed that signs them (standard base64, 32 bytes;
    # never in the database), public keys that verify older ones, and where and how often the
    # server writes them (docs/guide-admin.md, Checkpoints).
    audit_signing_key: str = ""
    audit_public_keys: str = ""
    audit_checkpoint_dir: Path | None = None
    audit_checkpoint_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    # The console: a session ends after this long without a page, and after this long in all;
    # the second factor is required in production, and wherever this asks for it.
    console_idle_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    console_session_hours: float = Field(default=12.0, gt=0, le=7 * 24)
    console_require_second_factor: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = settings_file()
        if path is None:
            return init_settings, env_settings
        return init_settings, env_settings, DotEnvSettingsSource(settings_cls, env_file=path)

    @field_validator("message_keys", "message_signing_keys")
    @classmethod
    def _key_list(cls, value: str) -> str:
        parse_key_list(value)  # a malformed key stops the program before it serves
        return value

    @field_validator("audit_signing_key", "audit_public_keys")
    @classmethod
    def _audit_keys(cls, value: str) -> str:
        parse_audit_keys(value)  # a malformed key stops the program before it serves
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.audit_checkpoint_dir is not None and not self.audit_signing_key:
            raise ValueError(
                "BORDERCHECK_AUDIT_CHECKPOINT_DIR is set but BORDERCHECK_AUDIT_SIGNING_KEY is "
                "not: checkpoints cannot be signed"
            )
        if not self.secret_key:
            if self.env != "test":
                raise ValueError(HOW_TO_MAKE_KEYS)
            self.secret_key = _ephemeral_secret_key()
        if self.env == "production":
            weakness = secret_weakness(self.secret_key)
            if weakness is not None:
                raise ValueError(
                    f"BORDERCHECK_SECRET_KEY {weakness}: production needs a generated key "
                    "(`bordercheck keys init` makes one)"
                )
            if self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
                raise ValueError("an in-memory database cannot be used in production")
            if not self.message_keys or not self.message_signing_keys:
                raise ValueError(
                    "BORDERCHECK_MESSAGE_KEYS and BORDERCHECK_MESSAGE_SIGNING_KEYS must be set "
                    "when BORDERCHECK_ENV=production (see docs/deployment.md, Message keys)"
                )
            for name in ("message_keys", "message_signing_keys"):
                for key_id, key in parse_key_list(getattr(self, name)):
                    weakness = key_bytes_weakness(key)
                    if weakness is not None:
                        raise ValueError(
                            f"BORDERCHECK_{name.upper()}: key {key_id!r} {weakness}: production "
                            "needs generated keys (`bordercheck keys init` makes them)"
                        )
        return self

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return self.env == "production"
        return self.log_format == "json"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a bad one is named by its environment variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            name = "_".join(str(part) for part in error["loc"]).upper()
            where = f"BORDERCHECK_{name}: " if name else ""
            problems.append(where + error["msg"].removeprefix("Value error, "))
        raise ConfigurationError("; ".join(problems)) from None
    _check_file_access(settings)
    return settings


def _check_file_access(settings: Settings) -> None:
    """A settings file holds the keys: others on the machine must not read it."""
    path = settings_file()
    if path is None:
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    problem = (
        f"the settings file {path} can be read by other users (mode {mode:o}); "
        f"make it private: chmod 600 {path}"
    )
    if settings.env == "production":
        raise ConfigurationError(problem)
    # Before logging is set up (it needs these settings), so straight to standard error.
    print(f"warning: {problem}", file=sys.stderr)
