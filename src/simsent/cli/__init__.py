"""The ``simsent`` command line (typer): ``main.py`` and one file per command."""
