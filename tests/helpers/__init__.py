"""Helpers shared by the tests of every stage (imported as ``helpers.<stage>``; ``tests/`` is on
``sys.path`` because ``tests/conftest.py`` is there)."""
