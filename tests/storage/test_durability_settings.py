"""The service database refuses to start when it could lose acknowledged tickets (or keep erased data)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import event

from gridkb.errors import DurabilityError
from gridkb.storage.service_db import ServiceStore, check_durability, make_engine


def test_sqlite_file_runs_with_wal_full_sync_and_secure_delete(tmp_path):
    store = ServiceStore(f"sqlite:///{tmp_path / 'service.sqlite'}")
    with store.engine.connect() as connection:
        found = [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous", "secure_delete")]
    store.close()
    assert found == ["wal", 2, 1]


def test_sqlite_without_the_settings_is_refused_naming_each(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite'}")

    @event.listens_for(engine, "connect")
    def _weaken(connection, _):  # runs after gridkb's own pragmas, as a misconfigured build would
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA secure_delete=OFF")

    with pytest.raises(DurabilityError) as refused:
        check_durability(engine)
    engine.dispose()
    assert "synchronous=1 (needs 2)" in str(refused.value) and "secure_delete=0 (needs 1)" in str(refused.value)
    assert "journal_mode" not in str(refused.value)


def test_sqlite_where_wal_is_impossible_refuses_to_start():
    with pytest.raises(DurabilityError, match="journal_mode=memory"):
        ServiceStore("sqlite:///:memory:")


def test_cli_refusal_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gridkb.cli", "tickets", "list", "--kb", str(tmp_path / "kb"), "--db", "sqlite:///:memory:"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    message = " ".join(result.stderr.split())  # the terminal width wraps it
    assert "would not keep acknowledged tickets through a crash: journal_mode=memory" in message and "Traceback" not in message


def test_postgresql_with_fsync_and_full_page_writes_runs(postgres_url):
    store = ServiceStore(postgres_url)
    with store.engine.connect() as connection:
        found = {name: connection.exec_driver_sql(f"SHOW {name}").scalar() for name in ("fsync", "full_page_writes", "synchronous_commit")}
    store.close()
    assert found == {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}


def test_postgresql_without_synchronous_commit_is_refused(postgres_url):
    # fsync and full_page_writes are server-wide; synchronous_commit can be turned off per connection,
    # so it shows the same refusal a server configured without durability gets
    with pytest.raises(DurabilityError, match="synchronous_commit=off"):
        ServiceStore(f"{postgres_url}?options=-csynchronous_commit%3Doff")
