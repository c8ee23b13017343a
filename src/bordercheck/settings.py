"""One typed settings object, read once from the environment (prefix ``BORDERCHECK_``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bordercheck.errors import BordercheckError
from bordercheck.messaging.keyring import parse_key_list

# The secret a development checkout runs with; refused outside dev.
DEV_SECRET_KEY = "dev-secret-key-change-me"  # noqa: S105


class Settings(BaseSettings):
    """Every knob of a deployment; the documentation lists each one (docs/deployment.md)."""

    model_config = SettingsConfigDict(env_prefix="BORDERCHECK_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///bordercheck.db"
    secret_key: str = DEV_SECRET_KEY
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
    revocation_refresh_seconds: float = Field(default=5.0, ge=0, le=300)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    sign_in_per_second: float = Field(default=1.0, ge=0)
    sign_in_burst: int = Field(default=10, ge=1)
    index_snapshot: Path | None = None
    feed_poll_seconds: float = Field(default=0.2, gt=0, le=60)
    query_log_flush_seconds: float = Field(default=0.2, gt=0, le=60)
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

    @field_validator("message_keys", "message_signing_keys")
    @classmethod
    def _key_list(cls, value: str) -> str:
        parse_key_list(value)  # a malformed key stops the program before it serves
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production":
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError(
                    "BORDERCHECK_SECRET_KEY must be set to a random value of at least "
                    "32 characters when BORDERCHECK_ENV=production"
                )
            if self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
                raise ValueError("an in-memory database cannot be used in production")
            if not self.message_keys or not self.message_signing_keys:
                raise ValueError(
                    "BORDERCHECK_MESSAGE_KEYS and BORDERCHECK_MESSAGE_SIGNING_KEYS must be set "
                    "when BORDERCHECK_ENV=production (see docs/deployment.md, Message keys)"
                )
        return self

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return self.env == "production"
        return self.log_format == "json"


class ConfigurationError(BordercheckError):
    """The environment holds a setting bordercheck cannot run with."""

    code = "configuration"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a bad one is named by its environment variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            name = "_".join(str(part) for part in error["loc"]).upper()
            where = f"BORDERCHECK_{name}: " if name else ""
            problems.append(where + error["msg"].removeprefix("Value error, "))
        raise ConfigurationError("; ".join(problems)) from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()
