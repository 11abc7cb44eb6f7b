# noisecli: every target creates the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install demo test lint format bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml setup.py noisecli/rng/_kernel.c noisecli/rng/normal_table.bin
	@if [ "$$(id -u)" = 0 ]; then bash scripts/install-system-deps.sh; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# CI runs the training-loop adapter's tests for real: torch (CPU build, on the local disk)
	@if [ "$$CI" = true ]; then $(PY) -m pip install --quiet torch==2.13.0; fi
	@$(PY) -c "from noisecli.rng import kernels; print('noise kernel:', kernels.ACTIVE)"
	touch $(STAMP)

install: $(STAMP) ## create .venv and install noisecli with its dev tools

demo: $(STAMP) ## noise the bundled samples/ into out/
	$(VENV)/bin/noisecli image samples/ -o out/ --std 25 --seed 7 --overwrite
	$(VENV)/bin/noisecli audio samples/ -o out/ --noise pink --snr 10 --seed 7 --overwrite
	@echo "noisy copies of samples/ are in out/ (see out/metadata.csv)"

test: $(STAMP) ## run the whole test suite (as root, first installs the X server the window tests use)
	@if [ "$$(id -u)" = 0 ]; then bash scripts/install-system-deps.sh; fi
	@if [ "$$CI" = true ]; then $(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0; fi
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint + format check), mypy, and the import rules (import-linter)
	$(VENV)/bin/ruff check noisecli tests bench
	$(VENV)/bin/ruff format --check noisecli tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix noisecli tests bench
	$(VENV)/bin/ruff format noisecli tests bench

bench: $(STAMP) ## benchmarks (ratios against the codec floor); BENCH_ARGS=--quick for a short run
	@# byte-compiled, as an installed wheel is (an editable install is not, and with
	@# PYTHONDONTWRITEBYTECODE set every process would compile noisecli anew)
	$(PY) -m compileall -q noisecli
	$(PY) bench/run.py $(BENCH_ARGS)

clean: ## remove the virtual environment and generated files
	rm -rf $(VENV) out build *.egg-info .pytest_cache .mypy_cache .ruff_cache
