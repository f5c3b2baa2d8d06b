# 防控工作台 — the two commands: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     ?= data/fangkong.sqlite
PORT   ?= 8866
PIP_INSTALL := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: serve test test-fast bench bench-load demo lab clean lock migration

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[test,hub,ldap]'
	touch $@

serve: $(VENV)/.installed
	$(BIN)/fangkong demo --db $(DB) --if-missing
	$(BIN)/fangkong serve --db $(DB) --port $(PORT)

demo: $(VENV)/.installed
	$(BIN)/fangkong demo --db $(DB)

# The suite in TEST_JOBS processes (pytest-xdist); a test file stays in one
# process, so a module's server and database are started once (TEST_JOBS=0:
# one process).
TEST_JOBS ?= 2
test: $(VENV)/.installed
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

# The unit layer and the doctests: no server, no browser; the slowest tests
# are listed so that a slow one is noticed when it comes in.
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest tests/unit fangkong_lib -q --durations=5

# Ratios against baselines measured in the same run; BENCH_ARGS="--scale county"
# or BENCH_ARGS="--db postgresql+psycopg://..." for the page benchmarks.
bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# 20 users for 5 minutes on a throw-away PostgreSQL (LOAD_ARGS="--seconds 60 --db URL").
bench-load: $(VENV)/.installed
	$(BIN)/python -m benchmarks.load $(LOAD_ARGS)

# A ledger changed: write the schema migration for it (read it, then commit it).
#   make migration MSG="townships ledger"
migration: $(VENV)/.installed
	@test -n "$(MSG)" || { echo 'usage: make migration MSG="what changed"' >&2; exit 2; }
	$(BIN)/fangkong db revision -m "$(MSG)"

lab: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[test,lab]'
	$(BIN)/jupyter lab notebooks/

# Regenerate the pinned versions after changing pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,hub,ldap]'
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) test-output bench-output
