"""Entry points: the command-line interface (``python -m worker``)."""
