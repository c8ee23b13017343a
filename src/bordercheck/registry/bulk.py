"""Writing many rows at once: COPY on PostgreSQL, one prepared executemany on SQLite.

The ORM's per-object bookkeeping costs more than the database does at import sizes, so bulk
writes go straight to the driver. Ids are handed out first, so that the changes feed can
name the records in the same pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``."""
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        sequence = f"{table.name}_id_seq"
        return list(
            connection.execute(
                text("SELECT nextval(:sequence) FROM generate_series(1, :count)"),
                {"sequence": sequence, "count": count},
            ).scalars()
        )
    # SQLite: the write transaction holds the database's one write lock, so no one else
    # can take these numbers between the read and the insert.
    top = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + count))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of column values, every row with the same keys) in one go."""
    if not rows:
        return
    columns = list(rows[0])
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])
        return
    # Each column's own bind processor stores values exactly as the ORM would (dates as text).
    processors = [table.c[name].type.bind_processor(connection.dialect) for name in columns]
    pairs = list(zip(columns, processors, strict=True))
    params = [
        [row[name] if process is None else process(row[name]) for name, process in pairs]
        for row in rows
    ]
    placeholders = ", ".join("?" for _ in columns)
    # Table and column names come from the schema, never from input.
    names = ", ".join(columns)
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})"  # noqa: S608
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, params)
    finally:
        cursor.close()
