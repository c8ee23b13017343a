# The commands people and CI run. Each creates the virtual environment it needs.
PYTHON ?= python3
# Two workers: every test database is a schema or file of its own, so they run side by side;
# a file's tests stay in one worker (the browser tests share one browser per file).
PYTEST_ARGS ?= -n 2 --dist loadfile
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit slow bench-import clean docs screenshots

docs: docs/cli.md

$(BIN)/bordercheck: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/bordercheck  ## create a synthetic world in SQLite and serve it on 127.0.0.1:8000 (ARGS="--keep": the last one again)
	$(BIN)/bordercheck demo $(ARGS)

test: lint typecheck unit slow  ## everything CI checks

lint: $(BIN)/bordercheck
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(BIN)/bordercheck
	$(BIN)/mypy

unit: $(BIN)/bordercheck  ## the tests, but for the slow ones
	$(BIN)/pytest $(PYTEST_ARGS) -m "not slow"

# Processes really killed, servers stopped, several nodes, fuzzing at length: a step of its own.
slow: $(BIN)/bordercheck  ## the slow tests (faults, several nodes, fuzzing)
	$(BIN)/pytest $(PYTEST_ARGS) -m slow

bench-import: $(BIN)/bordercheck  ## import 1,000,000 records into SQLite and PostgreSQL
	$(BIN)/python bench/import_records.py $(ARGS)

screenshots: $(BIN)/bordercheck  ## the console's pages photographed in Chromium for the guides (docs/screenshots)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# typer writes the help texts into the reference as HTML (&#x27; for an apostrophe); the
# reference is Markdown read as text, so the entities are turned back into their characters
# (tests/test_docs.py does the same).
docs/cli.md: $(BIN)/bordercheck src/bordercheck/*.py src/bordercheck/*/cli.py src/bordercheck/*/*_cli.py  ## the command reference, from the commands themselves
	$(BIN)/typer bordercheck.cli utils docs --name bordercheck --title "bordercheck commands" --output $@
	$(BIN)/python -c 'import html, pathlib, sys; p = pathlib.Path(sys.argv[1]); p.write_text(html.unescape(p.read_text()))' $@
