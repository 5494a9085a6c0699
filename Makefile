# Two commands do all the set-up: `make demo` and `make test` (each creates .venv on first use).
VENV ?= .venv
PYTHON ?= python3
# torch 2.13.0 CPU build: taken from the local wheel cache where one exists; override for CUDA.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q "$(TORCH_SPEC)"
	$(VENV)/bin/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

.PHONY: setup demo test lint bench browser
setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stylebridge demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/lint-imports

# Debian's chromium for the web UI's browser test (tests/test_web_e2e.py), installed when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x /usr/bin/chromium || $(SUDO) apt-get install -y chromium \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

test: lint browser
	STYLEBRIDGE_REQUIRE_BROWSER=1 $(VENV)/bin/pytest -q

bench: $(STAMP)
	$(VENV)/bin/python bench/train_throughput.py
