# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment from the repository's own files on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean install

# `make install`: `recall` for this user, from this checkout, in an environment of its own, linked
# into ~/.local/bin (on PATH on most systems; the command says when it is not).
INSTALL_ENV ?= $(HOME)/.local/share/contextrecall/env
INSTALL_BIN ?= $(HOME)/.local/bin

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

# The whole suite on the venv's Python, in parallel (pytest-xdist: two test processes a core,
# since many tests wait on workers, hooks and the real clients; each process has its own
# databases and its own redis-server), and meanwhile the unit tests on Python 3.12 and 3.13
# (their output is shown once the suite is done) at the lowest CPU priority: building their
# venvs and running them fills the time the suite waits on its clients instead of slowing it
# (a fresh clone's CI: 554 s in all so, 645 s with them at the normal priority). The
# package's bytecode is compiled first: hooks run in tests, and compiling on every import
# (PYTHONDONTWRITEBYTECODE set) costs each of them.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(2 * (os.cpu_count() or 1))")

test: lint
	$(BIN)/python -m compileall -q contextrecall
	@nice -n 19 ./.ci/other-pythons > .other-pythons.log 2>&1 & other=$$!; \
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15; suite=$$?; \
	wait $$other; others=$$?; cat .other-pythons.log; \
	test $$suite -eq 0 && test $$others -eq 0

bench: $(BIN)/.installed
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .ruff_cache .import_linter_cache .other-pythons.log

install:
	$(PYTHON) -m venv $(INSTALL_ENV)
	$(INSTALL_ENV)/bin/python -m pip install --quiet --disable-pip-version-check .
	mkdir -p $(INSTALL_BIN)
	ln -sf $(INSTALL_ENV)/bin/recall $(INSTALL_BIN)/recall
	@echo "installed $(INSTALL_BIN)/recall; next: recall install"
	@case ":$$PATH:" in *":$(INSTALL_BIN):"*) ;; \
	  *) echo "$(INSTALL_BIN) is not on PATH: export PATH=\"$(INSTALL_BIN):\$$PATH\" (in ~/.profile too)";; esac
