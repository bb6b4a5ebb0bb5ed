# Accord — set-up and everyday commands.  `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint typecheck bench demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The page's map library and basemap come from npm (package.json, pinned by package-lock.json);
# the server serves them from node_modules/ (see src/accord/center/web.py).
NODE_STAMP := node_modules/.installed

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The benchmarks' baselines (BlueSky's conflict detection) are installed for `make bench` only.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/accord demo
	$(VENV)/bin/accord serve --demo

# The suites run on SQLite and on PostgreSQL: when the server binaries are installed,
# scripts/pg-test-server starts a throwaway cluster on loopback for the run (and removes it);
# without them the PostgreSQL cases skip, saying so (and fail when CI=true). The 15 slowest
# tests are listed at the end: every suite counts against CI's time. pytest-xdist runs the
# files on every core (at most 4 workers), each file whole on one worker (its module
# fixtures made once); `PYTEST_WORKERS=0 make test` runs them in this process instead.
# The schema fuzz runs after them in one process: schemathesis gives its 80 operations' items
# one node id, and xdist, which hands items out by node id, would run one of them.
PYTEST_WORKERS ?= auto
FUZZ := tests/center/test_fuzz.py
test: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	scripts/pg-test-server run -- sh -c '$(PY) -m pytest src tests --durations=15 \
		--numprocesses=$(PYTEST_WORKERS) --maxprocesses=4 --dist=loadfile --ignore=$(FUZZ) \
		&& $(PY) -m pytest $(FUZZ)'

# The import contracts ([tool.importlinter] in pyproject.toml) also run in `make test`, as
# tests/unit/test_import_contracts.py.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(BENCH_STAMP)
	scripts/pg-test-server run -- $(PY) -m bench

clean:
	rm -rf $(VENV) build dist node_modules .pytest_cache .mypy_cache .hypothesis
