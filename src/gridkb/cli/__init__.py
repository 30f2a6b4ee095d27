"""The ``gridkb`` command line: parse arguments, make one call to the composition root
(``gridkb.service.GridService``), print the result.

Library errors (GridkbError) become a one-line message and exit code 2, never a traceback. The
commands live by area: ``knowledge`` (ingest, kb, search, ask, recommend, eval), ``desk`` (chat,
notices, gaps, metrics), ``tickets``, ``operations`` (keys, backup, restore, erase, retention, serve).
"""

# importing a module registers its commands, in this order in the help
from gridkb.cli import knowledge, desk, tickets, operations  # noqa: F401, I001
from gridkb.cli.common import app
from gridkb.cli.knowledge import _LineProgress
from gridkb.cli.tickets import ticket_number as _ticket_number

__all__ = ["app", "_LineProgress", "_ticket_number"]
