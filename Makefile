# Two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench demo clean mutation

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "nudge needs Python 3.11 or newer" && exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/nudge db upgrade
	$(BIN)/nudge serve

test: install
	@scripts/ensure-postgres.sh
	@scripts/ensure-chromium.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@scripts/ensure-postgres.sh
	$(BIN)/python -m benchmarks

demo: install
	$(BIN)/nudge db upgrade
	$(BIN)/nudge demo

# Mutation testing of rules/, delivery policies and planner, consent resolution and feed row
# parsing (pyproject.toml [tool.mutmut]); slow, so not part of `make test`. From scratch each
# time, at low priority. The mutated copy lives in mutants/, where ../shared is not beside it;
# an odd local zone makes code that reads the machine's zone instead of UTC fail.
mutation: install
	rm -rf mutants
	TZ=Pacific/Chatham NUDGE_TEST_NO_SHARED=1 nice -n 10 $(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_score.py --min 90

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis nudge.db* outbox mutants
