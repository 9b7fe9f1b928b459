# Two commands on a fresh clone:  `make lab`  (learn)  and  `make test`  (verify).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The engine build (CPU-bound) and pip's install (mostly network and disk) run side by side on a first run.
BOTH   := $(MAKE) --no-print-directory -j2

.PHONY: lab test test-suite lesson-passes test-double ollama-passes test-bounds install engine lab-engine lint bench clean help
help:
	@echo "make lab     install everything, use Ollama or start the embedded engine, open JupyterLab"
	@echo "make test    install everything; lint, unit, live, package, launch and browser tests, and every lesson"
	@echo "             three times: on the embedded engine, then through the Ollama double as llama3.2 and as qwen3"
	@echo "make test-double  only the two passes of the lessons through the Ollama double"
	@echo "make test-ollama  build a real Ollama (needs Go) and run every lesson and the live tests against it"
	@echo "make engine  build/fetch the embedded engine only (cached; first time 3-4 min on 2 cores)"
	@echo "make bench   print the kit's and the engine's performance figures"
	@echo "make test-bounds  unit tests at the lowest declared dependency versions and at the newest"

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

# Pass 1 (pytest): everything, both lesson editions on the embedded engine. Passes 2 and 3: the lessons as a
# learner with Ollama sees them, through tests/ollama_double.py in front of the engine (see conftest.py); the
# English edition is enough there, the Chinese one is the same program (tests/test_editions.py).
# One pytest alone leaves the second core mostly idle (its kernel and the engine take turns), so make test runs two
# jobs side by side, each with its own engine: the whole suite but the Chinese lessons (test-suite), and the Chinese
# lessons then passes 2 and 3 (lesson-passes, on SECOND_PORT; the suite uses ENGINE_TEST_PORT 18435 to +101).
# Each job's kernels take their ports from a range of its own, below the system's ephemeral ports: jupyter_client's
# own choice races between sessions (tests/kernel_ports.py). Each job prints its reports when it ends.
SECOND_PORT  ?= 18635
SUITE_KERNEL_PORTS  ?= 20000-24999
LESSON_KERNEL_PORTS ?= 25000-28999
ZH_LESSONS   := notebooks/zh
LESSON_JOB   := KERNEL_PORTS=$(LESSON_KERNEL_PORTS) ENGINE_TEST_PORT=$(SECOND_PORT)

test:
	@$(BOTH) install engine
	$(BIN)/ruff check .
ifeq ($(OLLAMA_BASE_URL),)
	@echo "[test] two jobs side by side: the suite with the English lessons, and the Chinese lessons then the English ones through the Ollama double as llama3.2 and qwen3; each job's report appears when it ends"
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-suite lesson-passes
else
	@echo "[test] OLLAMA_BASE_URL is set: everything runs against $(OLLAMA_BASE_URL); the passes through the Ollama double need the embedded engine and are left out"
	$(BIN)/python -m pytest
endif

test-suite:
	KERNEL_PORTS=$(SUITE_KERNEL_PORTS) $(BIN)/python -m pytest --ignore=$(ZH_LESSONS)

lesson-passes:
	$(LESSON_JOB) $(BIN)/python -m pytest $(ZH_LESSONS)
	@$(MAKE) --no-print-directory ollama-passes

test-double:
	@$(BOTH) install engine
	@$(MAKE) --no-print-directory ollama-passes

ollama-passes:
	$(LESSON_JOB) $(BIN)/python -m pytest notebooks/en --ollama-double llama3.2
	$(LESSON_JOB) $(BIN)/python -m pytest notebooks/en --ollama-double qwen3

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

# --- a real Ollama (issue 18): built from the Go module proxy by scripts/ollama.py (needs Go; `make test` does not) ---
# Both editions' lessons, the live tests that concern a server, and the real-Ollama tests (the double's conformance,
# real thinking), all against Ollama on SECOND_PORT + 2, with the engine and the double on the two ports below it (the
# conformance test puts the double beside it). One job: the lessons' kernels and Ollama's runner share the two cores.
.PHONY: ollama test-ollama
REAL_OLLAMA_TESTS := notebooks/en notebooks/zh tests/ollama tests/live/test_doctor_live.py tests/live/test_probe_live.py \
	tests/live/test_chat_live.py tests/live/test_magic_live.py tests/live/test_usage_live.py \
	tests/live/test_stream_view_live.py tests/live/test_engine_stream_live.py

ollama: | $(BIN)/python
	$(BIN)/python scripts/ollama.py install

test-ollama:
	@$(BOTH) install ollama
	$(LESSON_JOB) $(BIN)/python -m pytest --real-ollama $(REAL_OLLAMA_TESTS)
