# Two commands on a fresh clone:  `make lab`  (learn)  and  `make test`  (verify).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The engine build (CPU-bound) and pip's install (mostly network and disk) run side by side on a first run.
BOTH   := $(MAKE) --no-print-directory -j2

.PHONY: lab test install engine lab-engine lint bench clean help
help:
	@echo "make lab     install everything, use Ollama or start the embedded engine, open JupyterLab"
	@echo "make test    install everything and run lint, unit tests, live tests and every notebook (nbval)"
	@echo "make engine  build/fetch the embedded engine only (cached; first time 3-4 min on 2 cores)"
	@echo "make bench   print the kit's and the engine's performance figures"

# The bare venv is all scripts/engine.py needs (standard library + pip), so the engine can build meanwhile.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BIN)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

engine: | $(BIN)/python
	$(BIN)/python scripts/engine.py install

# Like `engine`, but skipped when `make lab` is going to use Ollama or OLLAMA_BASE_URL.
lab-engine: | $(BIN)/python
	$(BIN)/python scripts/lab.py --prepare-engine

lab:
	@$(BOTH) install lab-engine
	$(BIN)/python scripts/lab.py $(LAB_ARGS)

lint: install
	$(BIN)/ruff check .

test:
	@$(BOTH) install engine
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache *.egg-info
