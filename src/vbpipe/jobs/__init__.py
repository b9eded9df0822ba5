"""Job functions: one module per workflow stage, each function taking plain data and explicit paths.

The workflow's scripts (``workflow/scripts/*.py``) and the ``vbpipe`` command call the same functions,
so every job is also a plain Python call. One module per stage keeps each stage's code fingerprint
(:mod:`vbpipe.fingerprint`) down to what that stage imports.
"""
