# Two commands on a fresh machine with Python 3.11+ and make: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test chromium lint typecheck unit fuzz bench wrk lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Parley needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/parley demo --port $${PORT:-8000}

test: $(STAMP) chromium lint typecheck unit

# Browser tests use Debian's Chromium; Playwright never downloads a browser.
chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy bench

unit: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Generated-input tests (schemathesis, properties) at length, with fresh randomness: minutes.
fuzz: $(STAMP)
	PARLEY_FUZZ=long $(BIN)/pytest -m fuzz $(PYTEST_ARGS)

# Benchmarks against PostgreSQL (BENCH_POSTGRES, default 127.0.0.1:5432); see bench/README.md.
bench: $(STAMP) wrk
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Load comes from Debian's wrk, in its own process.
wrk:
	@command -v wrk >/dev/null || { \
		echo "Installing Debian's wrk for the benchmarks"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts
