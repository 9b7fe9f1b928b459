# Two commands on a fresh clone:  `make lab`  (learn)  and  `make test`  (verify).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: lab test test-ollama install engine lint bench clean help
help:
	@echo "make lab     install everything, use Ollama or start the embedded engine, open JupyterLab"
	@echo "make test    install everything and run lint, unit tests, live tests and every notebook (nbval)"
	@echo "make test-ollama  run every lesson through the Ollama double, as llama3.2 and as qwen3 (thinking)"
	@echo "make engine  build/fetch the embedded engine only (cached; first time ~5-6 min)"
	@echo "make bench   print the widget kit's performance figures"

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
	$(BIN)/python -m pytest notebooks --ollama-double llama3.2
	$(BIN)/python -m pytest notebooks --ollama-double qwen3

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache *.egg-info
