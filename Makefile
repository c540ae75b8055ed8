# One entry point for people and CI: each target builds the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-all test-under-load layout lint typecheck bench clean

$(STAMP): pyproject.toml package-lock.json
	# The web tests drive Debian's Chromium; milsymbol and axe-core come from npm (lock file).
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
	# The service tests start a throwaway PostgreSQL server (tests/support/pg_server.py); install
	# it here, once, rather than from parallel test workers that would race for apt's lock.
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)
	npm ci --no-audit --no-fund
	mkdir -p src/forcemodel/web/static/vendor && cp node_modules/milsymbol/dist/milsymbol.js src/forcemodel/web/static/vendor/
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -e '.[dev]'
	# Compile the Numba kernels now (about 20 s, cached next to the modules), not on first use.
	$(BIN)/python -c "import forcemodel as f; f.simulate(f.load_scenario('tiny'))"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/forcemodel info eastern-flank
	$(BIN)/forcemodel simulate eastern-flank --out results/eastern-flank
	$(BIN)/forcemodel report results/eastern-flank --out results/eastern-flank/report.html

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks oracles scripts
	$(BIN)/ruff format --check src tests benchmarks oracles scripts
	$(BIN)/mypy

# The quick tier (under 4 minutes on a quiet 2-core machine); the slow, exhaustive cases are
# marked `slow` and run by `make test-slow` (CI runs both: .ci/run). Both run on every CPU
# (pytest-xdist; a worker takes the next test when it is free). PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= auto
test: $(STAMP) lint layout
	$(BIN)/python -m pytest -q -m "not slow" -n $(PYTEST_WORKERS) --dist worksteal

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow -n $(PYTEST_WORKERS) --dist worksteal

test-all: test test-slow

# The whole suite with every CPU kept busy by another process (docs/performance.md, "Tests").
test-under-load: $(STAMP)
	bash scripts/test_under_load.sh

layout: $(STAMP)
	$(BIN)/python scripts/layout_check.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_load
	$(BIN)/python -m benchmarks.bench_simulate

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
