# The two commands of the README: `make run` starts the gateway, `make test` runs every check:
# the linters, then the suite on SQLite (the one-box default), then again on a throw-away
# PostgreSQL cluster (several boxes, issue 8). `make pytest` / `make pytest-pg` run one pass.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-pg check pytest pytest-pg system-deps clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/smsgw run --config gateway.ini

system-deps:
	sh .ci/system-deps

check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

pytest: $(STAMP)
	$(VENV)/bin/pytest -n 2

pytest-pg: $(STAMP)
	sh .ci/postgresql-tests $(VENV)/bin/pytest -n 2

test: system-deps check pytest pytest-pg

test-pg: system-deps pytest-pg

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
