"""The core the widgets stand on: the kit's words, messages, errors, all HTML (``render``), stream accumulation,
images as blocks, conversations and turns, usage rows. Plain Python: nothing here imports ipywidgets or IPython, so
all of it runs, and is tested, without a notebook. The layer order is checked by tests/unit/test_layers.py."""
