"""Self-checking exercises for the lessons (``notebooks/en`` and ``notebooks/zh``, lessons 01-12).

Each lesson ends with a few exercises. A lesson imports its own::

    from ollama_anthropic_exercises.lesson01 import ex1, ex2, ex3

then, under each exercise, the learner completes a cell and runs ``ex1.check()``; ``ex1.hint()`` and
``ex1.solution()`` help. The checks call the learner's code on recorded replies (``replies.py`` says which and where
they come from) and never look at the model's wording. Messages follow the kit's language setting
(``OLLAMA_KIT_LANG``).

This package is not part of the kit's wheel (``ollama_anthropic_widgets``): it lives in the repository's
``exercises/`` folder, with its own ``pyproject.toml``, and is installed editable from the repository
(``-e ./exercises`` in ``requirements.txt``), because its checks read ``notebooks/data/``.
"""

from .core import Exercise, Result

__all__ = ["Exercise", "Result"]
