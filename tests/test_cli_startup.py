"""The command line starts quickly: what needs no settings or database loads neither.

What is imported is checked, not how long it takes (the figures are in docs/benchmarks.md).
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from bordercheck.cli import DOMAINS

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
HEAVY = ("sqlalchemy", "fastapi", "pydantic_settings", "alembic", "structlog")

# Runs the command in a process of its own, then prints the top-level modules it imported.
RUN = """
import sys
from bordercheck.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["version"], ["mrz", "parse", *TD3]])
def test_commands_that_need_no_database_do_not_load_it(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        capture_output=True,
        text=True,
        check=True,
        env={"BORDERCHECK_SETTINGS_FILE": "", "PATH": ""},
    )
    loaded = set(done.stderr.split())
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert done.stdout


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_each_group_is_listed_with_its_own_help(name: str) -> None:
    entry = DOMAINS[name]
    group = getattr(importlib.import_module(entry.module), entry.attribute)
    assert group.info.help.splitlines()[0] == entry.help
