"""The service database: chat sessions and messages, feedback, tickets with their history, notices,
API keys and rate-limit counters. SQLAlchemy 2 over SQLite (default: a file beside, never inside,
the built knowledge base, so rebuilding it never touches what customers and agents wrote) or
PostgreSQL; the schema is created and upgraded by Alembic (``storage/migrations``).

    engine.py      engines per backend, the durability check, migrations
    tables.py      the tables (declarative rows)
    mappers.py     rows ↔ gridkb's records
    repository.py  ``ServiceStore``: every method one transaction, records in and out

Callers import from here; the modules are the package's own layout.
"""

from gridkb.storage.service_db.engine import check_durability, make_engine, migrate, safe_url
from gridkb.storage.service_db.repository import ServiceStore
from gridkb.storage.service_db.tables import FINISHED_VALUES, KEY_ID_LENGTH, Base

__all__ = ["FINISHED_VALUES", "KEY_ID_LENGTH", "Base", "ServiceStore", "check_durability", "make_engine", "migrate", "safe_url"]
