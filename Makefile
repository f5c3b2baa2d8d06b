# 防控工作台 — the two commands: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     ?= data/fangkong.sqlite
PORT   ?= 8866
PIP_INSTALL := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: serve test test-fast bench demo lab clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[test,hub]'
	touch $@

serve: $(VENV)/.installed
	$(BIN)/fangkong demo --db $(DB) --if-missing
	$(BIN)/fangkong serve --db $(DB) --port $(PORT)

demo: $(VENV)/.installed
	$(BIN)/fangkong demo --db $(DB)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

# The unit layer and the doctests: no server, no browser; the slowest tests
# are listed so that a slow one is noticed when it comes in.
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest tests/unit fangkong_lib -q --durations=5

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks

lab: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[test,lab]'
	$(BIN)/jupyter lab notebooks/

# Regenerate the pinned versions after changing pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,hub]'
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) test-output bench-output
