# Two commands on a fresh clone:  `make lab`  (learn)  and  `make test`  (verify).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The engine build (CPU-bound) and pip's install (mostly network and disk) run side by side on a first run.
BOTH   := $(MAKE) --no-print-directory -j2

.PHONY: lab test test-suite lesson-passes test-double double-passes test-newest test-bounds lock install engine lab-engine lint bench clean help
help:
	@echo "make lab     install everything, use Ollama or start the embedded engine, open JupyterLab"
	@echo "make test    install everything; lint, unit, live, package, launch and browser tests, and every lesson"
	@echo "             on the embedded engine, then the English ones through the Ollama double as llama3.2 and qwen3"
	@echo "make test-double  the passes of the English lessons through the Ollama double: llama3.2, qwen3, gpt-oss"
	@echo "             (DOUBLE_MODELS=gpt-oss for one)"
	@echo "make test-ollama  build a real Ollama (needs Go) and run every lesson and the live tests against it"
	@echo "make engine  build/fetch the embedded engine only (cached; first time 3-4 min on 2 cores)"
	@echo "make bench   print the kit's and the engine's performance figures"
	@echo "make test-newest  the canary: a fresh venv with the newest releases pyproject's ranges allow; unit tests and"
	@echo "             the English lessons on the engine; a failure lists what was released since the lock"
	@echo "make test-bounds  unit tests at the lowest declared dependency versions"
	@echo "make lock    refresh requirements.txt, the hash-checked lock, to the newest releases the ranges allow"

# The bare venv is all scripts/engine.py needs (standard library + pip), so the engine can build meanwhile.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# requirements.txt is the lock: exact, hash-checked versions of everything the lessons, the kit and the tests need,
# compiled from pyproject.toml's ranges by `make lock`, so a fresh clone installs what was tested whatever was
# released since. Then the kit and the lessons' exercises (exercises/, a project of its own beside the kit), editable
# and without dependencies: they all came from the lock.
$(BIN)/.installed: requirements.txt pyproject.toml exercises/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . -e ./exercises
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

# ruff, and actionlint over .github/workflows (built once from the Go module proxy at a pinned release, cached).
# `make test` runs ruff alone, so that it needs no Go; CI's lint stage runs both (.ci/run lint).
TOOLS      ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ollama-anthropic-kit/tools
ACTIONLINT ?= v1.7.12
lint: install
	$(BIN)/ruff check .
	@command -v go >/dev/null || { echo "make lint: actionlint is built with Go (1.24 or later); install Go, or run $(BIN)/ruff check . alone"; exit 1; }
	GOBIN=$(TOOLS)/actionlint-$(ACTIONLINT) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT)
	$(TOOLS)/actionlint-$(ACTIONLINT)/actionlint

# Pass 1 (pytest): everything, both lesson editions on the embedded engine. Passes 2 and 3: the lessons as a
# learner with Ollama sees them, through tests/ollama_double.py in front of the engine (see conftest.py), as llama3.2
# and the thinking qwen3 (gpt-oss, whose thinking cannot be switched off, in CI: test-double below); the English
# edition is enough there, the Chinese one is the same program (tests/test_editions.py). A real Ollama: make
# test-ollama, below.
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
	@$(MAKE) --no-print-directory double-passes DOUBLE_MODELS="$(TEST_DOUBLE_MODELS)"

# The double's passes: all three by default (make test-double). make test runs llama3.2 and qwen3 and leaves the
# gpt-oss pass (the longest: it thinks in every answer) to CI's own stage, `.ci/run gpt-oss`, which keeps make test
# within its ten minutes on two cores.
DOUBLE_MODELS      ?= llama3.2 qwen3 gpt-oss
TEST_DOUBLE_MODELS := llama3.2 qwen3
test-double:
	@$(BOTH) install engine
	@$(MAKE) --no-print-directory double-passes

double-passes:
	@set -e; for model in $(DOUBLE_MODELS); do \
		echo "$(LESSON_JOB) $(BIN)/python -m pytest notebooks/en --ollama-double $$model"; \
		$(LESSON_JOB) $(BIN)/python -m pytest notebooks/en --ollama-double $$model; done

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(BOUNDS) $(NEWEST) artifacts .pytest_cache .ruff_cache .mypy_cache *.egg-info

# The oldest and the newest Python the kit supports, where this machine has them (else $(PYTHON)).
LOWEST_PYTHON ?= $(shell PYENV_VERSION=3.10 python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null || echo $(PYTHON))
NEWEST_PYTHON ?= $(shell PYENV_VERSION=3.13 python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null || echo $(PYTHON))

# --- the lock: one universal lock for Python 3.10-3.13 (Binder's 3.12 included), with hashes, compiled by uv ---
# Run it to take new releases (after `make test-newest` went red and the cause is mended, or to refresh at will),
# then `make test` and commit requirements.txt. The kit's own dependencies stay ranges in pyproject.toml.
UV ?= uv==0.13.8
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(UV)"
	$(BIN)/uv pip compile pyproject.toml --extra lessons --extra test --universal --python-version 3.10 \
		--generate-hashes --upgrade --custom-compile-command "make lock" --output-file requirements.txt

# --- the canary: the newest releases pyproject's ranges allow, installed fresh, on the newest Python found ---
# The day a release breaks the kit or a lesson, this goes red and names what was released since the lock.
NEWEST ?= .newest
test-newest: install engine
	rm -rf $(NEWEST)
	$(NEWEST_PYTHON) -m venv $(NEWEST)
	$(NEWEST)/bin/python -m pip install --quiet --upgrade pip
	$(NEWEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[lessons,test]" -e ./exercises
	@echo "[newest]" && $(NEWEST)/bin/python scripts/bounds.py versions && $(NEWEST)/bin/python scripts/bounds.py drift
	$(NEWEST)/bin/python -m pytest tests/unit tests/exercises notebooks/en || { \
		echo "[newest] red on the newest releases, green on the lock: one of these releases broke it:"; \
		$(NEWEST)/bin/python scripts/bounds.py drift; exit 1; }

# --- dependency floors (issue 12): the unit tests at the lower end of every direct dependency's declared range ---
# Each direct dependency pinned to its floor in pyproject.toml (scripts/bounds.py), on the oldest Python the kit
# supports. The upper end is `make test-newest`. Either Python falls back to $(PYTHON).
BOUNDS ?= .bounds

test-bounds: install
	mkdir -p $(BOUNDS)
	$(BIN)/python scripts/bounds.py floors > $(BOUNDS)/floors.txt
	rm -rf $(BOUNDS)/lowest
	$(LOWEST_PYTHON) -m venv $(BOUNDS)/lowest
	$(BOUNDS)/lowest/bin/python -m pip install --quiet --constraint $(BOUNDS)/floors.txt ".[test]"
	@echo "[bounds] lowest:" && $(BOUNDS)/lowest/bin/python scripts/bounds.py versions
	$(BOUNDS)/lowest/bin/python -m pytest tests/unit -q

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
