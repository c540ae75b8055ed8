# One entry point for people and CI: each target builds the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	# Compile the Numba kernels now (about 20 s, cached next to the modules), not on first use.
	$(BIN)/python -c "import forcemodel as f; f.simulate(f.load_scenario('tiny'))"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/forcemodel info eastern-flank
	$(BIN)/forcemodel simulate eastern-flank --out results/eastern-flank
	$(BIN)/forcemodel report results/eastern-flank --out results/eastern-flank/report.html

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks oracles
	$(BIN)/ruff format --check src tests benchmarks oracles
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_load
	$(BIN)/python -m benchmarks.bench_simulate

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
