"""Tests against a real Ollama built from the Go module proxy (``scripts/ollama.py``); ``make test-ollama`` runs
them with ``--real-ollama``. Without it they skip."""
