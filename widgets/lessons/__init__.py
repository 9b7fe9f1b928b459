"""Lesson support: the settings the lessons read, the connection check, the compatibility probe, the tool loop and
the replay harness. It imports the core only: the widgets do not need it, and it does not need them."""
