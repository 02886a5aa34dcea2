"""The ``simsent`` command line (typer). Each file registers one group of commands."""
