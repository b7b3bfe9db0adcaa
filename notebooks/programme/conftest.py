"""nbval leaves the synthesis notebook out: it needs published project appendices to read, which a
checkout does not have. ``tests/test_synthesis.py`` executes it on appendices it builds."""
collect_ignore = ["synthesis.ipynb"]
