"""Schema migrations (Alembic). ``upgrade`` brings a database to the current schema."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config

from bordercheck.db import normalise_url

HERE = Path(__file__).parent


# Where a migration finds the installation's secret key (``Config.attributes``): those that
# seal what they write (the audit trail's head) use the key of whoever runs the upgrade.
SECRET_KEY = "secret_key"  # noqa: S105 (a name, not a secret)


def alembic_config(database_url: str, *, secret_key: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    if secret_key is not None:
        config.attributes[SECRET_KEY] = secret_key
    return config


def upgrade(database_url: str, revision: str = "head", *, secret_key: str) -> None:
    """Bring the database to ``revision``; ``secret_key``: the installation's (settings)."""
    command.upgrade(alembic_config(database_url, secret_key=secret_key), revision)


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from bordercheck.db import create_db_engine

    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@functools.cache
def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
