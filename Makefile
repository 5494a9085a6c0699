# Two commands do all the set-up: `make demo` and `make test` (each creates .venv on first use).
VENV ?= .venv
PYTHON ?= python3
# torch 2.13.0 CPU build: taken from the local wheel cache where one exists; override for CUDA.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
# -v: one line per test as it runs; --durations: the slowest tests at the end
PYTEST_ARGS ?= -v --durations=15

$(STAMP): pyproject.toml
	@echo "first set-up: PyTorch (CPU) and the other dependencies into $(VENV), about 2.5 GB"
	@echo "(about 3 min from a warm pip cache, longer when everything is downloaded)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install "$(TORCH_SPEC)"
	$(VENV)/bin/python -m pip install -e ".[dev]"
	touch $(STAMP)

.PHONY: setup demo test test-fast lint bench
setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stylebridge demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/lint-imports

# The full suite (what CI runs). Changes nothing outside the checkout and temporary folders:
# the browser test runs when /usr/bin/chromium is there and says why when it skips.
test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Everything but the tests marked slow (long training runs, fuzzing, multi-process runs).
test-fast: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS) -m "not slow"

bench: $(STAMP)
	$(VENV)/bin/python bench/train_throughput.py
