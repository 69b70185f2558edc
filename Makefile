# KorteLijn: `make run` starts the bot, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck messages bench-deadlines bench-telegram bench-ingest clean

# the virtual environment, made on first use and refreshed when pyproject.toml changes
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run the bot: SQLite (var/kortelijn.db) and the console unless a chat account is configured
run: $(STAMP)
	$(BIN)/kortelijn migrate
	$(BIN)/kortelijn run

## the whole suite: lint, types, unit, integration and end-to-end tests
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers schedules tests bench tools setup.py

typecheck: $(STAMP)
	$(BIN)/mypy

## the message catalogues (bot/i18n/README.md): find the keys the code names, merge them into
## each language's .po (a new key arrives untranslated: write its text), compile the .mo files
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract
	$(BIN)/pybabel update
	$(BIN)/pybabel compile

bench-deadlines: $(STAMP)
	$(BIN)/python -m bench.deadlines

bench-telegram: $(STAMP)
	$(BIN)/python -m bench.telegram_fanout

## signals per second through the dispatcher against single-row committed inserts (SQLite,
## then PostgreSQL at KORTELIJN_BENCH_DATABASE_URL, which is emptied)
bench-ingest: $(STAMP)
	$(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
