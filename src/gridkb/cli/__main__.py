"""``python -m gridkb.cli``: the same as the ``gridkb`` entry point."""

from gridkb.cli import app

app()
