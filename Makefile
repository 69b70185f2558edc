# KorteLijn: `make run` starts the bot, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck synapse bench-deadlines bench-instances bench-telegram bench-ingest bench-matrix bench-dossier messages clean

# Synapse for the Matrix tests and benchmark: its own virtual environment, outside the
# package's (its pinned dependencies never meet ours), from wheels
SYNAPSE_VENV    ?= .synapse-venv
SYNAPSE_STAMP   := $(SYNAPSE_VENV)/.installed
SYNAPSE_VERSION ?= 1.163.2

# the virtual environment, made on first use and refreshed when pyproject.toml changes
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(SYNAPSE_STAMP):
	test -x $(SYNAPSE_VENV)/bin/python || $(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet --only-binary=:all: \
		'matrix-synapse==$(SYNAPSE_VERSION)'
	touch $(SYNAPSE_STAMP)

## install Synapse (the Matrix tests start it on 127.0.0.1 themselves)
synapse: $(SYNAPSE_STAMP)

## run the bot: SQLite (var/kortelijn.db) and the console unless a chat account is configured
run: $(STAMP)
	$(BIN)/kortelijn migrate
	$(BIN)/kortelijn run

## the whole suite: lint, types, unit, integration and end-to-end tests
# in parallel workers (pytest-xdist; each has its own PostgreSQL database, tests/conftest.py),
# the Matrix tests together in one of them, beside their one Synapse
TEST_WORKERS ?= 2
test: $(STAMP) $(SYNAPSE_STAMP) lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

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

## open deadlines: arming, start-up, memory, lapse latency. SQLite (100,000 windows) unless
## ARGS names a database (EMPTIED first) and a count, e.g.
## ARGS="--database postgresql+asyncpg://postgres@127.0.0.1:5432/kortelijn_bench --windows 1000000"
bench-deadlines: $(STAMP)
	$(BIN)/python -m bench.deadlines $(ARGS)

## two instances on PostgreSQL, 2,000 cases, 60 s of signals and lapses, then the leader
## killed: messages/s, p99 commit→delivery, takeover, lost, duplicates. The database at
## KORTELIJN_BENCH_DATABASE_URL is EMPTIED; default
## postgresql+asyncpg://postgres@127.0.0.1:5432/kortelijn_bench (createdb kortelijn_bench)
bench-instances: $(STAMP)
	$(BIN)/python -m bench.instances $(ARGS)

bench-telegram: $(STAMP)
	$(BIN)/python -m bench.telegram_fanout

## signals per second through the dispatcher against single-row committed inserts (SQLite,
## then PostgreSQL at KORTELIJN_BENCH_DATABASE_URL, which is emptied)
bench-ingest: $(STAMP)
	$(BIN)/python -m bench.ingest

## signal latency on Synapse: KorteLijn against a forward-only relay bot
bench-dossier: $(STAMP)
	$(BIN)/python -m bench.dossier

bench-matrix: $(STAMP) $(SYNAPSE_STAMP)
	$(BIN)/python -m bench.matrix_latency

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
