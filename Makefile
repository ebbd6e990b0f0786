# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment from the repository's own files on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/recall demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# The whole suite on the venv's Python, then the unit tests on Python 3.12 and 3.13. The
# package's bytecode is compiled first: hooks run in tests within their time budget, which
# compiling on every import (PYTHONDONTWRITEBYTECODE set) can exceed on a busy machine.
test: lint
	$(BIN)/python -m compileall -q contextrecall
	$(BIN)/pytest
	./.ci/other-pythons

bench: $(BIN)/.installed
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .ruff_cache .import_linter_cache
