"""The HTTP routes, one module per area. Each route checks nothing itself (the permission gate in
``deps`` runs first), makes one call to the composition root and shapes its answer; library
errors become status codes in ``api.errors``.

No ``from __future__ import annotations`` in the routers: FastAPI reads the parameters' annotations
at run time, and the ticket create body is a class built per app (``tickets.build_router``)."""
