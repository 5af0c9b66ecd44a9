# LDN Diary — `make run` serves the app on SQLite, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run demo test check lint format migrate bench clean

$(BIN)/activate:
	PYTHON=$(PYTHON) scripts/system-packages.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/activate
	scripts/system-packages.sh run
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	scripts/system-packages.sh test
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

migrate: $(VENV)/.installed-run
	$(BIN)/alembic upgrade head

# The reminder sender runs beside the web server and stops with it.
run: migrate
	$(BIN)/python -m app.reminders run & sender=$$!; \
	trap 'kill $$sender 2>/dev/null; wait $$sender' EXIT INT TERM; \
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --proxy-headers

# A demo account with four months of diary (replaced on each run); prints how to sign in.
demo: migrate
	$(BIN)/python -m app.demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The whole suite on SQLite, then the database-touching tests again on PostgreSQL when a
# server answers (scripts/test-postgres.sh starts one; .ci/run does).
PG_TESTS := -m "not browser and not sqlite_only" --ignore=tests/analysis --ignore=tests/test_charts.py

test: lint
	$(BIN)/python -m pytest
	@url=$$(scripts/test-postgres.sh --check); \
	if [ -n "$$url" ]; then \
		echo "== the database tests again, on PostgreSQL =="; \
		TEST_POSTGRES_URL=$$url $(BIN)/python -m pytest $(PG_TESTS); \
	else \
		echo "No PostgreSQL server answers: run scripts/test-postgres.sh to test on it too."; \
	fi

bench: $(VENV)/.installed-test
	for script in bench/*.py; do case $$script in */demo_account.py|*/__init__.py) ;; *) $(BIN)/python $$script;; esac; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
