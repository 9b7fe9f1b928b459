"""The widgets: StreamView, ChatWidget, ImageUpload, the usage tracker and its panel. They import the core and
nothing else of the kit: no lesson support, no IPython extension (tests/unit/test_layers.py)."""
