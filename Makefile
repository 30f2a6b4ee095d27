# The two set-up commands of the README: `make serve` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
KB_DIR ?= kb/build
HOST   ?= 127.0.0.1
PORT   ?= 8000
CORE_STAMP := $(VENV)/.core-$(shell cat pyproject.toml | sha1sum | cut -c1-10)
TEST_STAMP := $(VENV)/.test-$(shell cat pyproject.toml | sha1sum | cut -c1-10)

.PHONY: serve test install install-test kb corpus-binaries screenshots battery clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(CORE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# torch first, pinned to the CPU wheel this machine kind provides, so that sentence-transformers
# does not pull a newer CUDA build of several GB.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,eval,llm,sentence-transformers]'
	touch $@ $(CORE_STAMP)

install: $(CORE_STAMP)
install-test: $(TEST_STAMP)

# Incremental: a no-op when corpus/ and kb/ are unchanged since the last build.
kb: install
	$(BIN)/gridkb ingest corpus --kb $(KB_DIR)

# Builds the knowledge base when corpus/ or kb/ changed, then serves widget, console and API.
serve: kb
	$(BIN)/gridkb serve --kb $(KB_DIR) --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

# The trust battery with its long part (more trials, the soak): one table of checks, trials, failures.
battery: install-test
	$(BIN)/python scripts/battery.py --long

# The screenshots committed under tests/browser/screenshots/ (a normal test run writes to latest/).
screenshots: install-test
	GRIDKB_SCREENSHOTS=tests/browser/screenshots $(BIN)/python -m pytest -q tests/browser

corpus-binaries: install-test
	$(BIN)/python scripts/build_corpus_binaries.py

clean:
	rm -rf $(KB_DIR) .pytest_cache
