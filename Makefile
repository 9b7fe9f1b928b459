# Two commands on a fresh clone:  `make lab`  (learn)  and  `make test`  (verify).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: lab test test-ollama test-bounds install engine lint bench clean help
help:
	@echo "make lab     install everything, use Ollama or start the embedded engine, open JupyterLab"
	@echo "make test    install everything and run lint, unit tests, live tests and every notebook (nbval)"
	@echo "make test-ollama  run every lesson through the Ollama double, as llama3.2 and as qwen3 (thinking)"
	@echo "make engine  build/fetch the embedded engine only (cached; first time ~5-6 min)"
	@echo "make bench   print the widget kit's performance figures"
	@echo "make test-bounds  unit tests at the lowest declared dependency versions and at the newest"

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

engine: install
	$(BIN)/python scripts/engine.py install

lab: install
	$(BIN)/python scripts/lab.py $(LAB_ARGS)

lint: install
	$(BIN)/ruff check .

test: engine lint
	$(BIN)/python -m pytest

# The lessons as a learner with Ollama sees them: tests/ollama_double.py in front of the engine (see conftest.py).
test-ollama: engine
	$(BIN)/python -m pytest notebooks/en --ollama-double llama3.2
	$(BIN)/python -m pytest notebooks/en --ollama-double qwen3

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(BOUNDS) artifacts .pytest_cache .ruff_cache .mypy_cache *.egg-info

# --- dependency bounds (issue 12): the unit tests at both ends of every direct dependency's declared range ---
# lowest: each direct dependency pinned to its floor in pyproject.toml (scripts/bounds.py), on the oldest Python the
# kit supports; newest: the newest releases, on the newest Python found. Either Python falls back to $(PYTHON).
BOUNDS ?= .bounds
LOWEST_PYTHON ?= $(shell PYENV_VERSION=3.10 python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null || echo $(PYTHON))
NEWEST_PYTHON ?= $(shell PYENV_VERSION=3.13 python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null || echo $(PYTHON))

test-bounds: install
	mkdir -p $(BOUNDS)
	$(BIN)/python scripts/bounds.py floors > $(BOUNDS)/floors.txt
	rm -rf $(BOUNDS)/lowest $(BOUNDS)/newest
	$(LOWEST_PYTHON) -m venv $(BOUNDS)/lowest
	$(BOUNDS)/lowest/bin/python -m pip install --quiet --constraint $(BOUNDS)/floors.txt ".[test]"
	@echo "[bounds] lowest:" && $(BOUNDS)/lowest/bin/python scripts/bounds.py versions
	$(BOUNDS)/lowest/bin/python -m pytest tests/unit -q
	$(NEWEST_PYTHON) -m venv $(BOUNDS)/newest
	$(BOUNDS)/newest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager ".[test]"
	@echo "[bounds] newest:" && $(BOUNDS)/newest/bin/python scripts/bounds.py versions
	$(BOUNDS)/newest/bin/python -m pytest tests/unit -q
