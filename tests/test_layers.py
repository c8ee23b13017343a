"""Which way the package's imports run, read from the source (every import, lazy ones too).

The rules are data (``RULES``): the modules a rule is about, what they may not import, or
the only parts of bordercheck they may import, and why. A failure names the module, the
import and its line.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "bordercheck"

# The screening engine: the index, the matcher and the query, and the modules they are made
# of. Pure logic on arrays: no database, no network, no settings, no other domain's tables
# (the snapshot module reads and writes the index's files, at paths its caller gives).
ENGINE = tuple(
    f"bordercheck.screening.{name}"
    for name in (
        "alphabet", "confusions", "deltas", "filters", "index", "keys", "matcher", "overlay",
        "probe", "query", "ranges", "records", "snapshot", "view",
    )
)  # fmt: skip
# Libraries that talk to a database, a network or a web framework.
IO_LIBRARIES = (
    "sqlalchemy", "alembic", "psycopg", "fastapi", "starlette", "httpx", "httpx2", "uvicorn",
    "socket", "http", "urllib.request", "structlog",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    modules: tuple[str, ...]  # module names, shell patterns allowed
    why: str
    forbidden: tuple[str, ...] = ()  # imports (and their submodules) these may not make
    # If given: the only bordercheck modules (and their submodules) these may import.
    only: tuple[str, ...] | None = None
    exempt: tuple[str, ...] = ()


RULES = (
    Rule(
        modules=ENGINE,
        only=(*ENGINE, "bordercheck.documents", "bordercheck.errors"),
        forbidden=IO_LIBRARIES,
        why="the screening engine is pure logic: no ORM models, no database, no I/O",
    ),
    Rule(
        modules=("bordercheck.edge.rows",),
        only=(*ENGINE, "bordercheck.documents", "bordercheck.errors"),
        forbidden=IO_LIBRARIES,
        why="the kit's row format is the engine's: a kit has no ORM",
    ),
    Rule(
        modules=("bordercheck.settings", "bordercheck.keys.formats", "bordercheck.keys.strength"),
        only=("bordercheck.errors", "bordercheck.keys.formats", "bordercheck.keys.strength"),
        why="settings are read before any domain and import none (key formats live in keys)",
    ),
    Rule(
        modules=("bordercheck.screening", "bordercheck.screening.*"),
        forbidden=("bordercheck.hits",),
        why=(
            "screening does not run the hit workflow: hits subscribe to what it found "
            "(screening.querylog.OnHits, wired in create_app and the commands)"
        ),
    ),
    Rule(
        modules=("bordercheck.hits", "bordercheck.hits.*"),
        forbidden=("bordercheck.screening.models",),
        why="hits know what screening found from what it hands them, not from its tables",
    ),
    Rule(
        modules=("bordercheck.messaging", "bordercheck.messaging.*"),
        forbidden=("bordercheck.hits",),
        why="messaging knows a thread's subject (a hit's id), not the hits domain's tables",
    ),
    Rule(
        modules=("bordercheck.documents.*",),
        only=("bordercheck.documents", "bordercheck.errors", "bordercheck.console"),
        forbidden=IO_LIBRARIES,
        exempt=("bordercheck.documents.cli",),
        why="documents is pure logic that every other part (and the kit) uses",
    ),
)


@dataclass(frozen=True)
class Import:
    module: str  # the module that imports
    target: str  # what it imports (a module, or the package a name is taken from)
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = SOURCE.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(module: str, source: str) -> list[Import]:
    """Every import in ``source``: ``from package import module`` counts as the module."""
    found = []
    package = module if is_module(f"{module}.__init__") else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.append(Import(module, name if is_module(name) else base, node.lineno))
    return found


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(rule: Rule, imports: list[Import]) -> list[str]:
    problems = []
    for found in imports:
        about = any(fnmatch.fnmatchcase(found.module, pattern) for pattern in rule.modules)
        if not about or found.module in rule.exempt:
            continue
        refused = _under(found.target, rule.forbidden)
        if rule.only is not None and _under(found.target, (PACKAGE,)):
            refused = refused or not _under(found.target, rule.only)
        if refused:
            problems.append(
                f"{found.module} imports {found.target} (line {found.line}): {rule.why}"
            )
    return list(dict.fromkeys(problems))  # one line per import, however many names it takes


def package_imports() -> list[Import]:
    found = []
    for path in sorted((SOURCE / PACKAGE).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found += imports_of(module_name(path), path.read_text(encoding="utf-8"))
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.modules[0])
def test_imports_run_one_way(rule: Rule) -> None:
    problems = violations(rule, package_imports())
    assert not problems, "\n".join(problems)


def test_every_rule_is_about_modules_that_exist() -> None:
    names = {module_name(path) for path in (SOURCE / PACKAGE).rglob("*.py")}
    for rule in RULES:
        for pattern in rule.modules:
            assert fnmatch.filter(names, pattern), f"no module matches {pattern}"


@pytest.mark.parametrize(
    ("module", "source", "named"),
    [
        (
            "bordercheck.screening.querylog",
            "def later():\n    from bordercheck.hits.service import open_hits\n",
            "bordercheck.hits.service (line 2)",
        ),
        ("bordercheck.screening.matcher", "from bordercheck.registry.models import Status\n",
         "bordercheck.registry.models (line 1)"),
        ("bordercheck.screening.index", "import sqlalchemy\n", "sqlalchemy (line 1)"),
        ("bordercheck.settings", "from bordercheck.messaging import keyring\n",
         "bordercheck.messaging.keyring (line 1)"),
        ("bordercheck.messaging.service", "from ..hits.models import Hit\n",
         "bordercheck.hits.models (line 1)"),
    ],
)  # fmt: skip
def test_a_wrong_import_is_named(module: str, source: str, named: str) -> None:
    problems = [p for rule in RULES for p in violations(rule, imports_of(module, source))]
    assert problems, f"{module}: {source!r} was not refused"
    assert problems[0].startswith(f"{module} imports {named}: ")
