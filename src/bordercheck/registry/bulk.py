"""Writing many rows at once: COPY on PostgreSQL, one prepared executemany on SQLite.

The ORM's per-object bookkeeping costs more than the database does at import sizes, so bulk
writes go straight to the driver. Ids are handed out first, so that the changes feed can
name the records in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.orm import Session


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, ascending."""
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One array rather than a row per id: fetching rows one by one costs more than nextval.
        ids = connection.execute(
            text(
                "SELECT array_agg(id ORDER BY id) FROM "
                "(SELECT nextval(:sequence) AS id FROM generate_series(1, :count)) AS ids"
            ),
            {"sequence": f"{table.name}_id_seq", "count": count},
        ).scalar_one()
        return [int(value) for value in ids]
    # SQLite: the write transaction holds the database's one write lock, so no one else
    # can take these numbers between the read and the insert.
    top = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + count))


def stored_values(session: Session, table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as the driver should receive them for a bulk write, converted as the ORM would.

    On SQLite dates and timestamps are text in SQLAlchemy's own format (sqlite3's adapters
    would write another one). PostgreSQL's COPY reads them from ISO text, which psycopg
    writes several times faster than it formats date and datetime objects.
    """
    dialect = session.connection().dialect
    if dialect.name == "postgresql":
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in values.items()
        }
    result = {}
    for name, value in values.items():
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        result[name] = value if process is None or value is None else process(value)
    return result


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of column values, every row with the same keys) in one go."""
    if not rows:
        return
    columns = list(rows[0])
    converted = [stored_values(session, table, row) for row in rows]
    insert_tuples(session, table, columns, [tuple(row.values()) for row in converted])


def insert_tuples(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    one_statement: bool = False,
) -> None:
    """Insert ``rows`` whose values are in ``columns`` order and already as ``stored_values``.

    ``one_statement``: on SQLite, send the rows as one JSON array read by ``json_each`` in a
    single ``INSERT … SELECT`` (values must be text, integers or None). For a thread that
    shares its process with a busy event loop: ``executemany`` lets go of the interpreter
    around every row's step and waits for it back each time, up to the switch interval,
    so a thousand rows took it 150 ms where one statement takes a few (docs/benchmarks.md).
    Where nothing else needs the interpreter (an import), ``executemany`` is faster.
    """
    connection = session.connection()
    # Table and column names come from the schema, never from input.
    names = ", ".join(table.c[name].name for name in columns)
    cursor = _driver_connection(connection).cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        if one_statement:
            # Text, not bytes: a blob would be read as SQLite's binary JSON.
            array = orjson.dumps(rows if isinstance(rows, list) else list(rows)).decode()
            picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
            cursor.execute(
                f"INSERT INTO {table.name} ({names}) SELECT {picks} FROM json_each(?)",  # noqa: S608
                (array,),
            )
            return
        placeholders = ", ".join("?" for _ in columns)
        cursor.executemany(
            f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )
    finally:
        cursor.close()


def _driver_connection(connection: Connection) -> Any:
    raw = connection.connection.driver_connection
    assert raw is not None
    return raw
