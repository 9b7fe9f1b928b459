"""The IPython extension: ``%%ask`` and ``%ask_usage`` (``%load_ext ollama_anthropic_widgets``) and the terminal
view they print to outside a notebook. The top layer: it uses the widgets, lesson support and the core."""
